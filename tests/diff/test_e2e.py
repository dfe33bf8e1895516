"""The real CLI: `mockserver diff` exit codes and outputs, `check --compare-contract` against a served mock, and a
live contract fetched from a loopback server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mockserver.contract import documents
from mockserver.diff import live_drift
from tests.support import Served, run_cli, serve

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PINNED = ROOT / "contracts" / "openhands" / "get-conversation.openapi.yaml"


def _edited(tmp_path: Path) -> Path:
    """The pinned contract as a server that dropped a required response property would publish it (JSON)."""
    data = documents.load(str(PINNED))
    info = data["components"]["schemas"]["ConversationInfo"]
    dropped = info["required"][0]
    info["required"].remove(dropped)
    del info["properties"][dropped]
    target = tmp_path / "live.json"
    target.write_text(json.dumps(data))
    return target


def test_diff_exit_codes_and_outputs(tmp_path):
    same = tmp_path / "same.json"
    same.write_text(json.dumps(documents.load(str(PINNED))))
    result, _ = run_cli("diff", str(PINNED), str(same))
    assert result.returncode == 0 and "no breaking change (0 ERR, 0 WARN, 0 INFO)" in result.stdout

    live = _edited(tmp_path)
    junit = tmp_path / "r" / "d.xml"
    result, _ = run_cli("diff", str(PINNED), str(live), "--format", "json", "--junit-xml", str(junit))
    assert result.returncode == 1, result.stderr
    (item,) = json.loads(result.stdout)["breaking"]
    assert (item["operation"], item["rule"], item["level"]) == (
        "GET /api/conversations/{conversation_id}", "response-required-property-removed", "ERR")  # fmt: skip
    assert junit.read_text().count("<failure") == 1

    result, _ = run_cli("diff", str(PINNED), str(live), "--format", "markdown")
    assert result.returncode == 1 and result.stdout.startswith("### :x: API contract: 1 breaking")

    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.1.0\npaths: [\n")
    result, _ = run_cli("diff", str(PINNED), str(broken))
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"mockserver: error: {broken}: line ") and "Traceback" not in result.stderr


def test_check_compare_contract_fails_the_run_on_a_breaking_change(tmp_path):
    live = _edited(tmp_path)
    same = tmp_path / "same.yaml"
    same.write_text(yaml.safe_dump(documents.load(str(PINNED))))
    key = "diff-drift-check-key"
    with serve("--no-request-log", "--api-key", key) as server:
        common = ("check", server.url, "--api-key", key, "--max-examples", "2", "--seed", "3", "--no-progress")
        result, _ = run_cli(*common, timeout=120)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]  # the run alone passes
        result, _ = run_cli(*common, "--compare-contract", str(live), timeout=120)
        assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
        assert "contract drift" in result.stdout and "response-required-property-removed" in result.stdout
        result, _ = run_cli(*common, "--compare-contract", str(same), timeout=120)
        assert result.returncode == 0 and "no breaking change" in result.stdout
        result, _ = run_cli(*common, "--compare-contract", "http://192.0.2.1/openapi.json", timeout=60)
        assert result.returncode == 2 and "must be on BASE_URL's host" in result.stdout


def test_live_drift_reads_a_published_contract_over_http(tmp_path):
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    body = _edited(tmp_path).read_bytes()
    app = Starlette(routes=[Route("/openapi.json", lambda request: Response(body, media_type="application/json"))])
    with Served(app) as served:
        code, text = live_drift(str(PINNED), f"{served.url}/openapi.json", served.url)
    assert code == 1 and "response-required-property-removed" in text
