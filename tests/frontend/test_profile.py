"""The OpenHands profile (`make serve-openhands`) in process: the REST calls the real 0.53.0 frontend made while it was
driven through every page (tests/frontend/frontend-calls.json, taken from the mock's journal) all answer 2xx with a
body valid against the full contract; the list and each detail agree; actions change state."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from mockserver.contract.schemas import RESPONSE
from mockserver.contract.spec import load_spec
from tests.support import ROOT, wait_until

HERE = Path(__file__).resolve().parent
CONTRACT = str(ROOT / "contracts" / "openhands" / "openapi.json")
FIXTURES = [str(ROOT / "fixtures" / "openhands"), str(ROOT / "fixtures" / "openhands-app")]
SPEC = load_spec(CONTRACT)
CALLS = json.loads((HERE / "frontend-calls.json").read_text())["calls"]


def profile(client_factory: Any, **options: Any) -> Any:
    return client_factory(spec=CONTRACT, fixtures=FIXTURES, auth="off", stateful=True, **options)


def valid(method: str, path: str, status: int, body: Any) -> list[str]:
    """What the answer breaks of the contract (the response view of its documented status)."""
    match = SPEC.find(f"{method} {path}")
    assert match is None or match  # (find takes templates; the router below takes concrete paths)
    from mockserver.contract.routing import FULL, Router

    found = Router(SPEC.operations, SPEC.prefix).match(method, path.encode())
    assert found.kind == FULL, f"{method} {path} matches no operation"
    response = found.operation.response_for(status)
    assert response is not None, f"{found.operation.key} does not document {status}"
    media = response.content.get("application/json")
    if media is None or media.schema is None:
        return []
    validator = SPEC.schemas.validator(SPEC.schemas.view(media.schema, RESPONSE))
    return [e.message for e in validator.iter_errors(body)]


def test_the_frontends_calls_all_answer_2xx_and_valid(client_factory):
    client = profile(client_factory)
    assert len(CALLS) > 50
    for call in CALLS:
        answer = client.request(call["method"], call["path"], params=call.get("query"), json=call.get("body"))
        assert 200 <= answer.status_code < 300, (call, answer.status_code, answer.text[:300])
        body = answer.json() if answer.content else None
        assert valid(call["method"], call["path"], answer.status_code, body) == [], call


def test_no_call_needs_a_key_with_auth_off_and_every_one_does_without(client_factory):
    assert profile(client_factory).get("/api/options/config").status_code == 200
    enforced = client_factory(spec=CONTRACT, fixtures=FIXTURES)
    assert enforced.get("/api/options/config").status_code == 401  # as declared: X-Session-API-Key
    assert enforced.get("/api/options/config", headers={"X-Session-API-Key": "anything"}).status_code == 200
    assert enforced.get("/health").status_code == 200  # no security declared there


def test_the_list_and_each_detail_are_one_world(client_factory):
    for client in (profile(client_factory), client_factory(spec=CONTRACT, fixtures=FIXTURES, auth="off")):
        listed = client.get("/api/conversations", params={"limit": 100}).json()["results"]
        assert len(listed) >= 30  # one conversation per UI state
        for item in listed:
            assert client.get(f"/api/conversations/{item['conversation_id']}").json() == item  # field by field
            if item.get("url") is not None:
                assert item["url"].startswith("/")  # the app opens its socket on its own host


def test_the_config_has_the_feature_flags_and_a_saas_variant(client_factory):
    client = profile(client_factory)
    assert client.get("/api/options/config").json()["FEATURE_FLAGS"]["ENABLE_BILLING"] is False
    saas = client.get("/api/options/config", headers={"Prefer": "example=saas"}).json()
    assert saas["APP_MODE"] == "saas"
    first = client.get("/api/settings", headers={"Prefer": "example=first-run"})
    assert first.status_code == 404


def test_the_saved_model_and_agent_are_offered(client_factory):
    client = profile(client_factory)
    settings = client.get("/api/settings").json()
    assert settings["llm_model"] in client.get("/api/options/models").json()
    assert settings["agent"] in client.get("/api/options/agents").json()


def test_saving_settings_is_what_the_next_get_answers(client_factory):
    client = profile(client_factory)
    before = client.get("/api/settings").json()
    posted = {**before, "git_user_name": "mock-builder", "llm_api_key": "sk-never-answered", "unknown": 1}
    assert client.post("/api/settings", json=posted).json() == {"message": "Settings stored"}
    after = client.get("/api/settings").json()
    assert after["git_user_name"] == "mock-builder"
    assert "unknown" not in after
    assert after.get("llm_api_key") is None  # writeOnly: never answered
    secrets = {"git_user_name", "llm_api_key", "search_api_key", "sandbox_api_key"}  # the last three: writeOnly
    assert {k: v for k, v in after.items() if k not in secrets} == {k: v for k, v in before.items() if k not in secrets}


def test_starting_a_stopped_conversation_runs_it_and_stopping_stops_it(client_factory):
    client = profile(client_factory)
    assert client.get("/api/conversations/stopped").json()["status"] == "STOPPED"
    started = client.post("/api/conversations/stopped/start", json={})
    assert started.json() == {"status": "ok", "conversation_id": "stopped", "conversation_status": "STARTING"}
    now = client.get("/api/conversations/stopped").json()
    assert (now["status"], now["runtime_status"]) == ("STARTING", None)
    seen = [(now["status"], now["runtime_status"])]

    def running() -> bool:
        item = client.get("/api/conversations/stopped").json()
        if (item["status"], item["runtime_status"]) != seen[-1]:
            seen.append((item["status"], item["runtime_status"]))
        return item["status"] == "RUNNING"

    wait_until(running, 30, "the conversation to run")  # 1.5 s a step in the fixture; the deadline is for a hang
    assert seen[-1] == ("RUNNING", "STATUS$READY")
    assert all(pair in {("STARTING", None), ("STARTING", "STATUS$BUILDING_RUNTIME"), ("RUNNING", "STATUS$READY")}
               for pair in seen)  # fmt: skip
    item = client.get("/api/conversations/stopped").json()
    assert item["url"] == "/api/conversations/stopped"
    listed = {
        c["conversation_id"]: c for c in client.get("/api/conversations", params={"limit": 100}).json()["results"]
    }
    assert listed["stopped"] == item
    client.post("/api/conversations/stopped/stop", json={})
    assert client.get("/api/conversations/stopped").json()["status"] == "STOPPED"


def test_a_new_conversation_starts_as_the_real_server_starts_one(client_factory):
    client = profile(client_factory)
    sent = {"repository": "acme/web-app", "git_provider": "github", "selected_branch": "main",
            "initial_user_msg": "Add a dark mode toggle"}  # fmt: skip
    created = client.post("/api/conversations", json=sent).json()
    assert created["status"] == "ok" and created["conversation_status"] == "STARTING"
    item = client.get(f"/api/conversations/{created['conversation_id']}").json()
    assert (item["status"], item["runtime_status"], item["selected_repository"], item["title"]) == (
        "STARTING", None, "acme/web-app", "Add a dark mode toggle")  # fmt: skip
    assert item["created_at"][:4] == time.strftime("%Y", time.gmtime())  # created now, not months ago
    listed = client.get("/api/conversations", params={"limit": 1}).json()["results"]
    assert listed[0]["conversation_id"] == created["conversation_id"]  # newest first


@pytest.mark.parametrize("path", ["/api/conversations/running/vscode-url", "/api/conversations/running/config"])
def test_conversation_scoped_answers_name_the_conversation_or_nothing_foreign(client_factory, path):
    body = profile(client_factory).get(path).json()
    assert "example.com" not in json.dumps(body)
    if path.endswith("/config"):
        assert body["session_id"] == "running"  # {{path.conversation_id}} rendered
