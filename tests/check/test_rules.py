"""Our rules on top of the checker's checks, first without a server (which failures are never held against a server,
where boundary strings go, the hooks a plan turns on), then end to end: boundary cases reach the server as intended
and never touch a credential; the real OpenHands 0.53 defects (500 for a NUL byte, 500 for an id over 255 bytes)
come out as two findings, each with a one-line curl printed once."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_to_bytes

import httpx
import pytest
from starlette.responses import JSONResponse

from mockserver import cli
from mockserver.check import conformance, engine, rules
from mockserver.check.findings import Report
from mockserver.check.plan import Plan
from mockserver.contract import security
from mockserver.contract.spec import load_spec

from . import zoo
from .conftest import Served
from .test_reporting import shell_words

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "rules", "version": "1"},
    "paths": {
        "/things/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "short", "in": "query", "schema": {"type": "string", "maxLength": 3}},
                    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["a", "b"]}},
                    {"name": "n", "in": "query", "schema": {"type": "integer"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                    {"name": "X-Key", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "theme", "in": "cookie", "schema": {"type": "string"}},
                ],
                "security": [{"key": []}],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}},
}
SCHEMES = list(security.parse_schemes(DOCUMENT, "api.yaml").values())


@pytest.fixture(scope="module")
def operation() -> Any:
    schema = engine.load(DOCUMENT, engine.configure({"base-url": "http://127.0.0.1:9"}), {})
    (found,) = list(engine.operations(schema))
    return found


class Recorded(rules.Rules):
    """Rules whose events go into a report, as the run (conformance.record) writes it."""

    def __init__(self, key: str | None) -> None:
        self.report = Report("http://127.0.0.1:9")
        super().__init__(lambda event: conformance.record(self.report, event), key, SCHEMES)


def make_rules(key: str | None = "k-123") -> Recorded:
    return Recorded(key)


def undefined(status: int) -> Any:
    from schemathesis.openapi.checks import UndefinedStatusCode

    return UndefinedStatusCode(operation="GET /things/{id}", status_code=status, defined_status_codes=["200"],
                               allowed_status_codes=[200], message=f"Received: {status}")  # fmt: skip


def response(status: int, headers: dict[str, str] | None = None) -> Any:
    return SimpleNamespace(status_code=status, request=SimpleNamespace(headers=headers or {}, url="http://h/x"))


CASE = SimpleNamespace(operation=SimpleNamespace(label="GET /things/{id}"))


def test_a_429_is_never_a_finding():
    assert make_rules().keep_failure(None, undefined(429), CASE, response(429)) is False


def test_an_undocumented_401_to_a_request_without_the_key_is_a_contract_warning():
    found = make_rules()
    assert found.keep_failure(None, undefined(401), CASE, response(401, {"X-Key": "other"})) is False
    assert found.keep_failure(None, undefined(403), CASE, response(403)) is False
    assert found.report.warnings == [rules.undocumented_rejection("GET /things/{id}", 401),
                                     rules.undocumented_rejection("GET /things/{id}", 403)]  # fmt: skip
    assert "documents no 401 response" in found.report.warnings[0]


def test_a_401_to_a_request_that_carried_the_key_is_held_against_the_server():
    found = make_rules()
    assert found.keep_failure(None, undefined(401), CASE, response(401, {"x-key": "k-123"})) is True
    assert found.report.warnings == []


def test_other_failures_are_kept():
    found = make_rules()
    assert found.keep_failure(None, undefined(404), CASE, response(404)) is True
    assert found.keep_failure(None, object(), CASE, response(401)) is True  # not an undocumented status
    assert found.keep_failure(None, object(), CASE, response(500)) is True  # not_a_server_error's own


def test_an_undocumented_5xx_is_reported_once_by_not_a_server_error():
    assert make_rules().keep_failure(None, undefined(500), CASE, response(500)) is False


def test_the_trailing_slash_case_fails_only_on_a_crash():
    trailing = SimpleNamespace(operation=CASE.operation, path_parameters={"id": rules.TRAILING_SLASH})
    assert make_rules().keep_failure(None, undefined(404), trailing, response(404)) is False
    assert make_rules().keep_failure(None, object(), trailing, response(500)) is True


def test_without_a_key_every_request_lacks_credentials():
    assert make_rules(None).lacks_credentials(SimpleNamespace(headers={"X-Key": "anything"}, url=""))


def test_hooks_follow_the_plan():
    found = make_rules()
    assert set(found.hooks(Plan("http://h"))) == {"filter_failure", "before_add_examples"}
    assert set(found.hooks(Plan("http://h", boundary_values=False))) == {"filter_failure"}
    assert found.probes() == [found.probe_auth]


def test_boundary_strings_go_only_where_a_string_sets_no_bound_and_never_into_a_credential(operation):
    plain = make_rules().plain_string_parameters(operation)
    assert sorted(plain) == [("header", "X-Trace"), ("path", "id"), ("query", "q")]


def test_boundary_cases_are_added_per_plain_parameter(operation):
    examples: list[Any] = []
    make_rules().add_boundary_cases(SimpleNamespace(operation=operation), examples)
    found: dict[tuple[str, str], list[str]] = {}
    for case in examples:
        base = {"id": examples[-1].path_parameters["id"]}  # the last case changes only the query
        if case.path_parameters != base:
            found.setdefault(("path", "id"), []).append(case.path_parameters["id"])
        for location, values in (("query", case.query or {}), ("header", case.headers or {})):
            for name in ("q", "X-Trace"):
                if name in values:
                    found.setdefault((location, name), []).append(values[name])
    assert found == {
        ("path", "id"): [*rules.PATH_VALUES, rules.TRAILING_SLASH],  # `id` ends the path: a trailing slash too
        ("query", "q"): list(rules.QUERY_VALUES),
        ("header", "X-Trace"): list(rules.HEADER_VALUES),  # headers carry ASCII only
    }
    assert "a%00b" in rules.PATH_VALUES and quote(rules.utf8_of(256), safe="") in rules.PATH_VALUES
    assert {len(rules.utf8_of(n).encode()) for n in rules.LENGTHS} == set(rules.LENGTHS)
    assert len({(c.headers or {}).get("X-Key") for c in examples}) == 1  # the credential is copied, never varied


def test_no_operation_no_cases():
    examples: list[Any] = []
    make_rules().add_boundary_cases(SimpleNamespace(operation=None), examples)
    assert examples == []


QUERY_KEY_CONTRACT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "query key", "version": "1"},
    "paths": {
        "/things/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
                "security": [{"key": []}],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "401": {"description": "no", "content": {"application/json": {"schema": {"type": "object"}}}},
                },
            }
        }
    },
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "api_key"}}},
}


class Recorder:
    def __init__(self) -> None:
        self.requests: list[tuple[bytes, list[tuple[str, str]], dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.requests.append((scope["raw_path"], query, headers))
        ok = dict(query).get("api_key") == zoo.KEY
        await JSONResponse({"ok": ok}, status_code=200 if ok else 401)(scope, receive, send)


@pytest.mark.e2e
def test_boundary_values_reach_the_server_and_spare_the_credential(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    spec = tmp_path / "query-key.json"
    spec.write_text(json.dumps(QUERY_KEY_CONTRACT))
    server = Recorder()
    with Served(server) as served:
        code = cli.main(
            ["check", served.url, "--spec", str(spec), "--seed", "2", "--max-examples", "3", "--no-progress"]
        )
    out = capsys.readouterr().out
    # Issue 7: a key in the query was replaced by boundary strings, and the 401s that followed were reported
    assert code == 0, out
    with_key = [r for r in server.requests if ("api_key", zoo.KEY) in r[1]]
    keys = {dict(query).get("api_key") for _, query, _ in server.requests} - {None, zoo.KEY}
    assert not keys & {*rules.QUERY_VALUES, *rules.PATH_VALUES}, keys  # (the checker's own wrong-key probe is fine)
    ids = [unquote_to_bytes(raw.decode().split("/things/", 1)[1]) for raw, _, _ in with_key if b"/things/" in raw]
    raws = {raw.decode().split("/things/", 1)[1] for raw, _, _ in with_key if b"/things/" in raw}
    assert b"a\x00b" in ids  # sent as %00, not %2500
    assert any(0x01 <= c < 0x20 or c == 0x7F for i in ids for c in i if i != b"a\x00b")
    lengths = {len(i) for i in ids}
    assert {255, 256, 1024, 5000} <= lengths
    assert {i for i in ids if len(i) in (255, 256, 1024, 5000) and not i.isascii()}, "multi-byte UTF-8 of each size"
    assert {"a%2Fb", ".", "..", "abc/"} <= raws, raws  # dot segments arrive as such (the client decodes %2E)
    queries = [dict(q).get("q") for _, q, _ in with_key]
    assert {"", "a\x00b"} <= set(queries) and 5000 in {len((v or "").encode()) for v in queries}
    assert {len(h.get("x-trace", "")) for _, _, h in with_key} >= {0, 256, 5000}
    # Bounded: the boundary cases are a fixed, small set per parameter
    bound = len(rules.PATH_VALUES) + 1 + len(rules.QUERY_VALUES) + len(rules.HEADER_VALUES)
    assert bound <= 40


@pytest.mark.e2e
@pytest.mark.parametrize("command", ["check", "fuzz"])
def test_real_openhands_500s_are_two_findings_with_one_line_curls(
    zoo_server: Served,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    extra = ["--rate-limit", "1000", "--max-requests", "200", "--cassette", ""] if command == "fuzz" else []
    code = cli.main([command, f"{zoo_server.url}/zoo/openhands_0_53_ids", "--seed", "5", "--no-progress", *extra])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "not_a_server_error: 2 distinct failures" in out, out
    assert "status_code_conformance" not in out  # the same 500 is not reported twice
    assert "Cause: NUL byte in path" in out and "Cause: over 255 bytes in path" in out
    curls = [line.split("Reproduce: ", 1)[1] for line in out.splitlines() if "Reproduce: curl" in line]
    assert len(curls) == len(set(curls)) == 2, out
    assert all(len(curl) < 250 for curl in curls), curls  # 5,000-byte values are not printed
    nul = next(c for c in curls if "%00" in c)
    long = next(c for c in curls if "%00" not in c)
    assert "$(printf x%.0s $(seq 256))" in long, long  # the smallest failing size, spelled so the shell expands it
    for curl in (nul, long):  # each is a command the shell can run as printed
        assert shlex.split(curl)[0] == "curl"


@pytest.mark.e2e
def test_the_printed_long_curl_reproduces_the_500(zoo_server: Served, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    cli.main(["check", f"{zoo_server.url}/zoo/openhands_0_53_ids", "--seed", "5", "--no-progress"])
    out = capsys.readouterr().out
    for curl in [line.split("Reproduce: ", 1)[1] for line in out.splitlines() if "Reproduce: curl" in line]:
        url = next(word for word in shell_words(curl) if word.startswith("http"))
        answer = httpx.get(url, headers={"X-Session-API-Key": zoo.KEY}, timeout=10)
        assert answer.status_code == 500 and answer.headers["content-type"].startswith("text/plain"), url


SETTINGS = {
    "openapi": "3.1.0",
    "info": {"title": "settings", "version": "1"},
    "paths": {
        "/api/settings": {
            "get": {
                "responses": {
                    "200": {
                        "description": "settings",
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["llm_model"],
                            "properties": {
                                "llm_model": {"type": "string"},
                                # FastAPI's `SecretStr | None`, as real OpenHands 0.53 documents it
                                "llm_api_key": {"anyOf": [{"type": "string", "format": "password", "writeOnly": True},
                                                          {"type": "null"}]},
                            },
                        }}},
                    }
                }
            }
        }
    },
}  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize("secret, failures", [(None, 0), ("sk-live-123456", 1)])
def test_a_nullable_write_only_secret_answered_null_passes_and_a_value_fails(
    tmp_path: Path, secret: str | None, failures: int
) -> None:
    contract = tmp_path / "settings.json"
    contract.write_text(json.dumps(SETTINGS))

    async def server(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await JSONResponse({"llm_model": "m", "llm_api_key": secret})(scope, receive, send)

    with Served(server) as served:
        report = conformance.run(Plan(served.url, spec=str(contract), seed=1, max_examples=3),
                                 load_spec(str(contract)))  # fmt: skip
    assert [f.check for f in report.findings] == ["response_schema_conformance"] * failures, report.findings
    assert report.exit_code == failures
