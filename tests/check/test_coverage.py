"""Fuzz says what it covered: operations reached of those selected, boundary cases sent of those planned; a run that
ends with a selected operation never reached, or under the user's --min-coverage floor, is INCONCLUSIVE (exit 3),
never PASSED. Against the zoo's real-OpenHands-0.53 server, the NUL id and the id over 255 bytes are both found."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.responses import JSONResponse

from mockserver import cli
from mockserver.check.rules import PATH_VALUES

from . import zoo
from .conftest import Served

pytestmark = pytest.mark.e2e  # real servers on loopback ports

OPERATIONS = 30
THINGS = {
    "openapi": "3.1.0",
    "info": {"title": "slow", "version": "1"},
    "paths": {
        f"/things{i}/{{id}}": {
            "get": {
                "operationId": f"get_thing_{i}",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {}}}}},
            }
        }
        for i in range(OPERATIONS)
    },
}


async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await asyncio.sleep(3)
    await JSONResponse({"ok": True})(scope, receive, send)


def test_a_run_that_never_reached_an_operation_is_inconclusive_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = tmp_path / "things.yaml"
    contract.write_text(yaml.safe_dump(THINGS))
    junit = tmp_path / "reports" / "fuzz.xml"
    with Served(slow) as served:
        code = cli.main(["fuzz", str(contract), "--url", served.url, "--duration", "6", "--seed", "1",
                         "--no-progress", "--cassette", "", "--junit-xml", str(junit)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 3, out
    summary = out.splitlines()[-1]
    assert summary.startswith("mockserver fuzz INCONCLUSIVE: ") and f"{OPERATIONS} operations" in summary, summary
    reached = int(summary.split(" of 30 reached")[0].rsplit(", ", 1)[1])
    assert reached < OPERATIONS
    # the boundary cases of the operations never reached are counted as planned, though the engine never made them
    sent, planned = summary.split(" boundary cases sent")[0].rsplit(", ", 1)[1].split(" of ")
    assert int(planned) == OPERATIONS * (len(PATH_VALUES) + 1) > int(sent), summary  # +1: the trailing slash
    unreached = [line for line in out.splitlines() if line.startswith("untested: GET /things")]
    assert len(unreached) == OPERATIONS - reached and all("never reached" in line for line in unreached), out
    properties = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert properties["exit-code"] == "3" and properties["verdict"] == "INCONCLUSIVE"
    assert properties["reached"] == str(reached)


def test_fuzz_finds_the_nul_and_the_long_id_within_its_time(zoo_server: Served, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    code = cli.main(["fuzz", "--url", f"{zoo_server.url}/zoo/openhands_0_53_ids", "--duration", "20", "--seed", "2",
                     "--no-progress", "--cassette", ""])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    assert "Cause: NUL byte in path" in out and "Cause: over 255 bytes in path" in out, out
    summary = out.splitlines()[-1]
    assert "1 of 1 reached" in summary, summary
    sent, planned = summary.split(" boundary cases sent")[0].rsplit(", ", 1)[1].split(" of ")
    assert int(sent) == int(planned) > 0, summary


def test_a_floor_on_boundary_coverage(zoo_server: Served, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    args = ["fuzz", "--url", f"{zoo_server.url}/zoo/full_body", "--seed", "2", "--no-progress", "--cassette", "",
            "--rate-limit", "1000/s", "--min-coverage", "90"]  # fmt: skip
    assert cli.main([*args, "--max-requests", "8"]) == 3  # the budget ran out before most boundary cases
    out = capsys.readouterr().out
    assert "inconclusive: boundary cases: " in out and "under --min-coverage 90%" in out, out
    assert cli.main([*args, "--max-requests", "400"]) == 0, capsys.readouterr().out
