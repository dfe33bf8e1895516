"""The real thing: OpenHands 0.53.0's contract against 0.59.0's generated one (openhands/README.md), each breaking
item checked by hand against openhands-ai's source (the branches route's response_model, ConversationStatus)."""

from __future__ import annotations

from pathlib import Path

from mockserver.contract import documents
from mockserver.diff import Contract, compare

ROOT = Path(__file__).resolve().parents[2]
OLD = str(ROOT / "contracts" / "openhands" / "openapi.json")
NEW = str(Path(__file__).parent / "openhands" / "openapi-0.59.0.json")


def test_0_53_0_to_0_59_0():
    found = compare(Contract(documents.load(OLD), OLD), Contract(documents.load(NEW), NEW))
    by_level = {level: {(c.operation, c.rule) for c in found if c.level == level} for level in ("ERR", "WARN")}
    assert by_level["ERR"] == {
        ("/api/settings", "api-path-removed-without-deprecation"),  # left out of the dump (openhands/README.md)
        ("GET /api/user/repository/branches", "response-body-type-changed"),  # a list became a page object
    }
    assert by_level["WARN"] == {  # ConversationStatus gained ARCHIVED and ERROR
        (operation, "response-property-enum-value-added")
        for operation in ("GET /api/conversations", "GET /api/conversations/{conversation_id}",
                          "POST /api/conversations", "POST /api/conversations/{conversation_id}/start",
                          "POST /api/conversations/{conversation_id}/stop")
    }  # fmt: skip
    added = {c.operation for c in found if c.rule == "endpoint-added"}
    assert added == {"GET /api/microagent-management/conversations", "GET /api/user/search/branches",
                     "POST /api/conversations/{conversation_id}/message"}  # fmt: skip
