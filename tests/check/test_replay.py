"""`mockserver replay`, end to end: a run saves its failing requests (no key in the file), replay sends them again
with the key from the environment and says which still fail, against the same server or another BASE_URL."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mockserver import cli
from mockserver.check.reporting import command_line
from tests.support import cli as mockserver_command

from . import zoo
from .conftest import Served

pytestmark = pytest.mark.e2e  # real servers on loopback ports


def replay(*args: str, key: str | None = zoo.KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MOCKSERVER_API_KEY"}
    if key is not None:
        env["MOCKSERVER_API_KEY"] = key
    return subprocess.run([*mockserver_command(), "replay", *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "command,defect,check",
    [("check", "openhands_0_53_ids", "not_a_server_error"), ("fuzz", "bad_date_time", "response_schema_conformance")],
)
def test_replay_says_what_still_fails(
    zoo_server: Served, command: str, defect: str, check: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    cassette = tmp_path / "reports" / "deeper" / f"{command}.yaml"  # folders that do not exist yet
    junit = tmp_path / "junit" / "x" / f"{command}.xml"
    extra = ["--rate-limit", "1000", "--max-requests", "100"] if command == "fuzz" else []
    code = cli.main([command, f"{zoo_server.url}/zoo/{defect}", "--seed", "4", "--max-examples", "5", "--no-progress",
                     "--cassette", str(cassette), "--junit-xml", str(junit), *extra])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"mockserver replay {cassette}" in out
    saved = cassette.read_text()
    assert zoo.KEY not in saved and "${MOCKSERVER_API_KEY}" in saved
    assert zoo.KEY not in junit.read_text()

    same = replay(str(cassette))
    assert same.returncode == 1, same.stdout + same.stderr
    assert f"still fails: {check}" in same.stdout  # the key went out again: without it the answer is a 401
    assert "passes now" not in same.stdout
    assert zoo.KEY not in same.stdout + same.stderr

    fixed = replay(str(cassette), f"{zoo_server.url}/zoo/full_body")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "passes now" in fixed.stdout and "still fails" not in fixed.stdout
    assert "0 of" in fixed.stdout.splitlines()[-1]

    keyless = replay(str(cassette), key=None)
    assert keyless.returncode == 2 and "set MOCKSERVER_API_KEY" in keyless.stderr
    short = replay(str(cassette), key="e")
    assert short.returncode == 2 and "use one of at least 4" in short.stderr


def test_replay_of_what_is_not_a_cassette(tmp_path: Path) -> None:
    junk = tmp_path / "junk.yaml"
    junk.write_text("just: text\n")
    result = replay(str(junk))
    assert result.returncode == 2 and "not a cassette" in result.stderr
    assert replay(str(tmp_path / "missing.yaml")).returncode == 2


def test_a_report_that_cannot_be_written_keeps_the_run_exit_code(
    zoo_server: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    argv = ["check", f"{zoo_server.url}/zoo/openhands_0_53_ids", "--seed", "4", "--max-examples", "3", "--no-progress",
            "--junit-xml", str(blocker / "check.xml")]  # fmt: skip
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 1, captured.out  # the run's failures, not 2 for the report
    assert "cannot write report" in captured.err
    # A passing run whose report cannot be written is an error: CI would otherwise read "passed, no report"
    with Served(zoo.app) as served:
        code = cli.main([*argv[:1], f"{served.url}/zoo/full_body", *argv[2:]])
    assert code == 2


# OData writes keys between quotes in the path: `GET /People('russell')`
ODATA = {
    "openapi": "3.1.0",
    "info": {"title": "odata", "version": "1"},
    "paths": {"/People('{name}')": {"get": {
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 8}}],
        "responses": {"200": {"description": "a person"}},
    }}},
}  # fmt: skip


def crash(request: Request) -> Response:
    return PlainTextResponse("Internal Server Error", status_code=500)


crashing = Starlette(routes=[Route("/{anything:path}", crash)])


def test_quotes_in_the_command_line_and_the_path_survive_the_cassette(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, cassette = tmp_path / "odata.json", tmp_path / "odata.yaml"
    spec.write_text(json.dumps(ODATA))
    with Served(crashing) as served:
        argv = ["check", served.url, "--spec", str(spec), "--include", "GET /People('{name}')", "--seed", "1",
                "--max-examples", "2", "--no-progress", "--cassette", str(cassette)]  # fmt: skip
        code = cli.main(argv)
        out = capsys.readouterr().out
        assert code == 1, out
        saved = yaml.safe_load(cassette.read_text())  # single-quoted YAML: each quote inside is doubled
        assert saved["command"] == "mockserver " + command_line(argv) and "'\"'\"'{name}'\"'\"'" in saved["command"]
        uris = [entry["request"]["uri"] for entry in saved["http_interactions"]]
        assert uris and all(f"{served.url}/People('" in uri for uri in uris), uris
        again = replay(str(cassette))
    assert again.returncode == 1, again.stdout + again.stderr
    assert "still fails: not_a_server_error" in again.stdout


def test_replay_is_read_only_unless_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cassette recorded with --allow-unsafe-methods against a test server holds POST/PUT/PATCH/DELETE requests;
    replayed against another server, they go out only with --allow-unsafe-methods."""
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    spec = tmp_path / "methods.json"
    spec.write_text(json.dumps(zoo.METHODS_CONTRACT))
    cassette = tmp_path / "unsafe.yaml"

    async def broken(scope: dict, receive: object, send: object) -> None:  # every operation a 500
        if scope["type"] == "http":
            await PlainTextResponse("boom", status_code=500)(scope, receive, send)  # type: ignore[arg-type]

    with Served(broken) as server:
        code = cli.main(["check", server.url, "--spec", str(spec), "--seed", "1", "--max-examples", "2",
                         "--no-progress", "--allow-unsafe-methods", "--cassette", str(cassette)])  # fmt: skip
    assert code == 1
    recorded = {r["request"]["method"] for r in yaml.safe_load(cassette.read_text())["http_interactions"]}
    assert set(zoo.UNSAFE) <= recorded, recorded

    counter = zoo.MethodCounter()
    with Served(counter) as target:
        safe = replay(str(cassette), target.url, "--spec", str(spec))
        assert counter.unsafe() == 0 and counter.methods["GET"] > 0, counter.methods
        unsafe = replay(str(cassette), target.url, "--spec", str(spec), "--allow-unsafe-methods")
        assert all(counter.methods[m] > 0 for m in zoo.UNSAFE), counter.methods
    assert "skipped (not GET/HEAD/OPTIONS; --allow-unsafe-methods sends it)" in safe.stdout, safe.stdout
    assert "skipped as unsafe" in safe.stdout.splitlines()[-1]
    assert safe.returncode == 0 and unsafe.returncode == 0, safe.stdout + unsafe.stdout  # they pass there now
    assert "skipped" not in unsafe.stdout


def test_a_check_replay_does_not_know_is_an_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cassette = tmp_path / "other.yaml"
    cassette.write_text(yaml.safe_dump({
        "mockserver": {"base_url": "http://127.0.0.1:9", "spec": None},
        "http_interactions": [{"status": "FAILURE", "request": {"method": "GET", "uri": "http://127.0.0.1:9/x"},
                               "checks": [{"name": "a_rule_from_the_future", "status": "FAILURE"}]}],
    }))  # fmt: skip
    assert cli.main(["replay", str(cassette)]) == 2
    assert "names check replay does not know: a_rule_from_the_future" in capsys.readouterr().err


def test_every_check_a_run_reports_knows_its_replay() -> None:
    from mockserver.check import conformance, engine, rules
    from mockserver.check import replay as replaying

    assert set(conformance.FUZZ_CHECKS) > set(conformance.CHECKS)
    assert all(rules.CATALOGUE[name].replay in replaying.REPLAYS for name in rules.CATALOGUE)
    rechecked = {name for name, check in rules.CATALOGUE.items() if check.replay == rules.RECHECK}
    assert rechecked <= engine.known_checks()  # the checker can judge each again
