"""From a failure (plain `FailureInfo`, as engine.py hands it over), a transport error or a response to a `Finding`,
and findings to a `Report`: one finding per distinct failure and cause (the unusual input that provoked it),
counted, shown with its most ordinary reproduction; the innermost reason of a schema failure; exit codes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import jsonschema_rs
import pytest
import requests

from mockserver.check import throttling
from mockserver.check.findings import (
    ERROR,
    FAILED,
    INCONCLUSIVE,
    PASSED,
    FailureInfo,
    Finding,
    Report,
    Request,
    as_request,
    from_failure,
    from_transport_error,
    input_cause,
    one_line,
    received,
)
from tests.support import Served

ROOT = {
    "anyOf": [{"$ref": "#/$defs/Thing"}, {"type": "null"}],
    "$defs": {
        "Thing": {
            "title": "Thing",
            "type": "object",
            "required": ["id", "status"],
            "properties": {"id": {"type": "string"}, "status": {"enum": ["RUNNING", "STOPPED"]}},
        }
    },
}


def schema_failure(instance: Any, root: dict[str, Any] | None = ROOT) -> FailureInfo:
    """What engine.failure_info makes of a JsonSchemaError for this body."""
    error = next(jsonschema_rs.validator_for(ROOT).iter_errors(instance))
    return FailureInfo(
        "JsonSchemaError", "Response violates schema", f"{error.message}\n\nSchema: ...", "GET /x",
        key="/".join(map(str, error.schema_path)), schema=True, instance_path=list(error.instance_path),
        schema_path=list(error.schema_path), instance=instance, validation_message=error.message, root_schema=root,
    )  # fmt: skip


def finding(failure: FailureInfo) -> Finding:
    return from_failure(failure, "response_schema_conformance", "GET /x", None, None)


def test_a_schema_failure_names_the_innermost_reason_and_where():
    found = finding(schema_failure({"id": "a", "status": "PAUSED"}))
    assert found.message == 'at status: "PAUSED" is not one of "RUNNING" or "STOPPED"'  # not "not valid under any"
    assert found.distinct == "status|anyOf/0/$defs/Thing/properties/status/enum"
    assert (found.operation, found.check, found.title) == ("GET /x", "response_schema_conformance",
                                                           "Response violates schema")  # fmt: skip


def test_a_value_of_no_branchs_type_names_the_types():
    assert finding(schema_failure(5)).message == "at (body): 5 is not of type Thing or null"
    assert finding(schema_failure([1] * 100)).message == "at (body): an array of 100 items is not of type Thing or null"


def test_a_missing_property_inside_a_branch():
    found = finding(schema_failure({"status": "RUNNING"}))
    assert found.message == 'at (body): "id" is a required property'
    assert found.distinct == "(body)|anyOf/0/$defs/Thing/required"


def test_without_the_root_schema_the_validators_own_message_is_kept():
    found = finding(schema_failure({"id": "a", "status": "PAUSED"}, root=None))
    assert found.message.startswith("at (body): ") and "is not valid under any of the schemas" in found.message
    assert found.distinct == "(body)|anyOf"


def test_the_same_broken_field_in_many_bodies_is_one_finding_counted():
    report = Report("http://127.0.0.1:1")
    for status in ("PAUSED", "GONE", "LOST"):
        report.add(finding(schema_failure({"id": status.lower(), "status": status})))
    report.add(finding(schema_failure({"status": "RUNNING"})))  # another field: another finding
    assert [f.count for f in report.findings] == [3, 1]
    assert "PAUSED" in report.findings[0].message  # the first one seen is the one shown


def test_other_failures_are_told_apart_by_the_checkers_key_else_their_message():
    def other(key: str, message: str, kind: str = "UndefinedStatusCode") -> Finding:
        return from_failure(FailureInfo(kind, "Undocumented HTTP status code", message, key=key),
                            "status_code_conformance", "GET /x", None, None)  # fmt: skip

    assert other("418", "Received: 418").distinct == "UndefinedStatusCode:418"
    assert other("", "Received: 418").distinct == "UndefinedStatusCode:Received: 418"
    assert other("", "  ").message == "Undocumented HTTP status code"  # an empty message falls back to the title
    report = Report("http://127.0.0.1:1")
    for failure in (other("418", "a"), other("418", "b"), other("500", "a")):
        report.add(failure)
    assert [(f.distinct, f.count) for f in report.findings] == [("UndefinedStatusCode:418", 2),
                                                                ("UndefinedStatusCode:500", 1)]  # fmt: skip


def test_ignored_auth_is_one_verdict_per_operation():
    report = Report("http://127.0.0.1:1")
    for message in ("Expected 401, got 200 for /x/1", "Expected 401, got 200 for /x/2"):
        failure = FailureInfo("IgnoredAuth", "API accepts requests without authentication", message)
        report.add(from_failure(failure, "ignored_auth", "GET /x", None, None))
    assert len(report.findings) == 1 and report.findings[0].count == 2


def test_a_failure_names_its_own_operation_over_the_scenarios():
    failure = FailureInfo("X", "t", "m", operation="GET /own")
    assert from_failure(failure, "c", "GET /scenario", None, None).operation == "GET /own"


def test_exit_codes_and_warnings():
    report = Report("http://127.0.0.1:1")
    assert report.exit_code == 0
    report.add(Finding("GET /x", "c", "t", "m"))
    assert report.exit_code == 1
    report.errors.append("cannot reach the server")
    assert report.exit_code == 2
    report.warn("once")
    report.warn("once")
    assert report.warnings == ["once"]


class Response(SimpleNamespace):
    pass


def test_received_says_status_type_and_the_start_of_the_body():
    long = Response(status_code=500, headers={"content-type": "text/plain"}, content=b"x" * 400)
    assert received(long) == "500 text/plain: " + "x" * 300 + "…"
    empty = Response(status_code=204, headers={}, content=b"")
    assert received(empty) == "204 (none)"
    listed = Response(status_code=200, headers={"Content-Type": ["application/json"]}, content=b"null")
    assert received(listed) == "200 application/json: null"
    assert received(None) == ""


def test_as_request_keeps_method_url_headers_and_body_as_bytes():
    sent = SimpleNamespace(method="POST", url="http://h/x", headers={"A": ["1", "2"], "B": "3"}, body="{}")
    assert as_request(sent) == Request("POST", "http://h/x", {"A": "1", "B": "3"}, b"{}")
    assert as_request(None) is None


@pytest.mark.parametrize(
    ("error", "check", "title"),
    [
        (throttling.BodyTooLarge("too big"), "response_size", "Response body too large"),
        (throttling.TooSlow("slow"), "response_time", "No complete answer within --request-timeout"),
        (requests.ConnectTimeout("slow"), "response_time", "No complete answer within --request-timeout"),
        (requests.ConnectionError("reset"), "connection", "Connection failed or was reset"),
    ],
)
def test_transport_errors_become_findings_of_their_own_check(error, check, title):
    found = from_transport_error("GET /x", error)
    assert (found.operation, found.check, found.title, found.request) == ("GET /x", check, title, None)


def test_a_transport_error_keeps_the_request_that_failed():
    prepared = requests.Request("GET", "http://127.0.0.1:1/x", headers={"X-Key": "k"}).prepare()
    found = from_transport_error("GET /x", requests.ConnectionError("reset", request=prepared))
    assert found.request == Request("GET", "http://127.0.0.1:1/x", {"X-Key": "k"}, None)


def test_one_line_collapses_and_cuts():
    assert one_line("a\n  b\tc") == "a b c"
    assert len(one_line("x" * 1000)) == 400 and one_line("x" * 1000).endswith("…")


BASE = "http://127.0.0.1:3000/api/conversations/"


def request(path: str, **headers: str) -> Request:
    return Request("GET", BASE + path, {"X-Session-API-Key": "zoo-key-4f1c9a7e", **headers}, None)


def server_error(path: str) -> Finding:
    sent = request(path)
    return Finding("GET /c/{id}", "not_a_server_error", "Server error", "Server error", request=sent, status=500,
                   distinct="ServerError:500", cause=input_cause(sent))  # fmt: skip


@pytest.mark.parametrize(
    "path,cause",
    [
        ("abc", ""),
        ("a%00b", "NUL byte in path"),
        ("a%01b%09c", "control character in path"),
        ("x" * 256, "over 255 bytes in path"),
        ("x" * 255, ""),
        ("%C3%BC" * 128, "over 255 bytes in path"),  # 256 bytes of UTF-8
        ("%C3%BCn", "non-ASCII in path"),
        ("a%2Fb", "encoded slash in path"),
        ("..", "dot segment in path"),
        ("abc/", "path trailing slash"),
        ("a%3Fb", "reserved characters in path"),
        ("abc?q=", "empty value in query q"),
        ("abc?q=a%00", "NUL byte in query q"),
    ],
)
def test_input_cause(path: str, cause: str) -> None:
    assert input_cause(request(path)) == cause


def test_credentials_and_client_headers_are_no_cause() -> None:
    assert input_cause(request("abc", Accept="*/*", Authorization="Basic " + "x" * 300)) == ""
    assert input_cause(request("abc", **{"X-Trace": "x" * 300})) == "over 255 bytes in header X-Trace"


def test_one_finding_per_cause() -> None:
    report = Report(base_url=BASE)
    for path in ("a%00b", "x" * 5000, "x" * 256, "y" * 1024, "b%00c"):
        report.add(server_error(path))
    report.consolidate()
    causes = {f.cause: f for f in report.findings}
    assert set(causes) == {"NUL byte in path", "over 255 bytes in path"}
    assert causes["over 255 bytes in path"].count == 3
    assert causes["over 255 bytes in path"].request.url == BASE + "x" * 256  # the smallest reproduction is shown
    # A server that fails on plain input too: the unusual inputs are the same cause, not new ones
    report.add(server_error("plain"))
    report.consolidate()
    [finding] = report.findings
    assert finding.cause == "" and finding.count == 6 and finding.request.url == BASE + "plain"


def test_exit_codes() -> None:
    report = Report(base_url=BASE)
    assert report.exit_code == PASSED
    report.skipped = ["POST /c"]
    assert report.exit_code == PASSED  # skipped as unsafe is a choice, not a gap
    report.untest("GET /c/{id}", "429 after waiting 120 s")
    assert report.exit_code == INCONCLUSIVE == 3
    report.add(server_error("a%00b"))
    assert report.exit_code == FAILED == 1  # a failure found is a failure, tested or not
    report.errors.append("cannot reach")
    assert report.exit_code == ERROR == 2


def _error_app(bodies: dict[str, str]) -> Any:
    """GET /api/conversations/{id}: a 500 with the body of the first marker found in the raw path, else 200."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = scope["raw_path"].decode("latin-1")
        body = next((text for marker, text in bodies.items() if marker in raw), None)
        status, data = (500, body.encode()) if body is not None else (200, b"null")
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": data})

    return app


def _failed(served_url: str, path: str, body: str) -> Finding:
    sent = Request("GET", f"{served_url}/api/conversations/{path}", {}, None)
    response = SimpleNamespace(status_code=500, content=body.encode(), headers={"content-type": "text/plain"})
    info = FailureInfo("ServerError", "Server error", "Received 500", key="500")
    return from_failure(info, "not_a_server_error", "GET /api/conversations/{conversation_id}", sent, response)


@pytest.mark.e2e
def test_one_cause_across_many_inputs_is_one_finding_listing_them() -> None:
    """The server fails on every id alike (a plain "x" too): the unusual inputs are not to blame."""
    from mockserver.check.conformance import blame

    body = "Traceback: KeyError: 'store' at line 42"
    with Served(_error_app({"/api/conversations/": body})) as served:
        report = Report(base_url=served.url)
        for path in ("a%00b", "x" * 300, "%C3%BCn", "a%01b"):
            report.add(_failed(served.url, path, body))
        assert len(report.findings) == 4  # one per unusual input, before blame
        with requests.Session() as session:
            blame(report, session, 5.0)
    report.consolidate()
    [finding] = report.findings
    assert finding.cause == "" and finding.count == 4 and len(finding.inputs) == 4


@pytest.mark.e2e
def test_two_causes_behind_one_status_stay_two_findings() -> None:
    """Two different server errors (two tracebacks) behind one 500, and two unusual ids the server chokes on (a plain
    id answers 200): four findings, each blamed on what triggers it."""
    from mockserver.check.conformance import blame

    bodies = {
        "trajectory": "Traceback: FileNotFoundError: events/0.json",
        "%00": "Internal Server Error",
        "x" * 256: "Internal Server Error",
        "docker": "Traceback: docker.errors.APIError: 500 Server Error",
    }
    with Served(_error_app(bodies)) as served:
        report = Report(base_url=served.url)
        for path, marker in (("abc/trajectory", "trajectory"), ("docker", "docker"), ("def/trajectory", "trajectory"),
                             ("a%00b", "%00"), ("x" * 300, "x" * 256), ("b%00c", "%00")):  # fmt: skip
            report.add(_failed(served.url, path, bodies[marker]))
        with requests.Session() as session:
            blame(report, session, 5.0)
    report.consolidate()
    shown = sorted((f.cause, f.fingerprint[:20], f.count) for f in report.findings)
    assert shown == [("", "Traceback: FileNotFo", 2), ("", "Traceback: docker.er", 1),
                     ("NUL byte in path", "Internal Server Erro", 2),
                     ("over 255 bytes in path", "Internal Server Erro", 1)], shown  # fmt: skip
