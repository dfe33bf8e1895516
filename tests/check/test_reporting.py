"""What a `Report` becomes: the text report, curl lines, JUnit XML and the progress line; the key never in any of
them, in any form it travels in."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver.check import reporting
from mockserver.check.findings import Finding, Progress, Report, Request
from mockserver.check.reporting import KEY_VARIABLE, ProgressDisplay, command_line, curl, render, summary, write_junit

KEY = "k3y/+=:secret"
BASIC = base64.b64encode(KEY.encode()).decode()


def report() -> Report:
    request = Request("GET", f"http://127.0.0.1:1/x/{KEY}?q=1", {"X-Key": KEY, "User-Agent": "python-requests",
                                                                 "Accept": "*/*"}, None)  # fmt: skip
    report = Report("http://127.0.0.1:1", operations=["GET /x/{id}", "GET /y"], requests=42, seconds=1.25, seed=7)
    report.add(Finding("GET /x/{id}", "response_schema_conformance", "Response violates schema",
                       f"at id: {KEY!r} is too long\nsecond line", received=f'200 application/json: {{"id": "{KEY}"}}',
                       request=request))  # fmt: skip
    report.add(Finding("GET /x/{id}", "response_schema_conformance", "Response violates schema",
                       f"at id: {KEY!r} is too long\nsecond line"))  # fmt: skip
    report.add(Finding("GET /x/{id}", "not_a_server_error", "Server error", f"Basic {BASIC} refused"))
    report.warn("contract: GET /y answers 401 without credentials, but documents no 401")
    return report


def test_render_groups_by_operation_and_check_with_counts_and_reproductions():
    text = render(report(), "mockserver check", KEY)
    assert text.splitlines()[:10] == [
        "GET /x/{id}",
        "  response_schema_conformance: 1 distinct failure",
        "    - Response violates schema (seen 2 times)",
        f"      at id: '{KEY_VARIABLE}' is too long",
        "      second line",
        f'      Received: 200 application/json: {{"id": "{KEY_VARIABLE}"}}',
        f'      Reproduce: curl -X GET "http://127.0.0.1:1/x/{KEY_VARIABLE}?q=1" -H "X-Key: {KEY_VARIABLE}"',
        "  not_a_server_error: 1 distinct failure",
        "    - Server error",
        f"      Basic {KEY_VARIABLE} refused",  # the Basic token of the key too
    ]
    assert "warning: contract: GET /y answers 401" in text
    assert text.endswith(
        "mockserver check FAILED: 2 distinct failure(s) in 2 check(s), 2 operation(s), 42 request(s) to "
        "http://127.0.0.1:1 in 1.2 s, seed 7\n"
    )
    assert KEY not in text and BASIC not in text


def test_summary_verdicts():
    assert summary(Report("u"), "check").startswith("check PASSED: 0 distinct failure(s)")
    errored = Report("u", errors=["cannot reach u"], stopped="interrupted (Ctrl-C)")
    assert summary(errored, "fuzz").startswith("fuzz ERROR")
    assert summary(errored, "fuzz").endswith(", stopped early: interrupted (Ctrl-C)")
    text = render(errored, "fuzz", None)
    assert "error: cannot reach u" in text


def test_curl_drops_what_requests_adds_and_quotes_for_the_shell():
    request = Request("POST", "http://127.0.0.1:1/x?a=1&b=2", {"Content-Type": "application/json", "Connection": "x",
                      "Accept-Encoding": "gzip", "Accept": "application/json"}, b"{\"it's\": 1}")  # fmt: skip
    assert curl(request, None) == (
        "curl -X POST 'http://127.0.0.1:1/x?a=1&b=2' -H 'Content-Type: application/json' "
        "-H 'Accept: application/json' --data-binary '{\"it'\"'\"'s\": 1}'"
    )


def test_curl_writes_basic_credentials_as_curls_own_option():
    from mockserver.contract import security

    request = Request("GET", "http://127.0.0.1:1/x", {"Authorization": security.basic_authorization(KEY)}, None)
    assert curl(request, KEY) == f'curl -X GET http://127.0.0.1:1/x -u "{KEY_VARIABLE}"'


def test_junit_has_a_testcase_per_operation_and_check_and_a_failure_per_finding(tmp_path: Path):
    out = tmp_path / "junit.xml"
    done = report()
    done.errors.append(f"internal error: {KEY}")
    write_junit(done, out, "check", KEY, ("not_a_server_error", "response_schema_conformance", "ignored_auth"))
    text = out.read_text()
    assert KEY not in text and BASIC not in text
    suite = ET.fromstring(text).find("testsuite")
    assert suite is not None
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("time")) == (
        "mockserver check", "7", "2", "1", "1.250"
    )  # fmt: skip
    cases = [(c.get("classname"), c.get("name"), len(c.findall("failure"))) for c in suite.findall("testcase")]
    assert cases == [
        ("GET /x/{id}", "not_a_server_error", 1),
        ("GET /x/{id}", "response_schema_conformance", 1),
        ("GET /x/{id}", "ignored_auth", 0),
        ("GET /y", "not_a_server_error", 0),
        ("GET /y", "response_schema_conformance", 0),
        ("GET /y", "ignored_auth", 0),
        ("run", "run", 0),
    ]
    failure = suite.find("testcase[@name='response_schema_conformance']/failure")
    assert failure is not None and failure.get("type") == "response_schema_conformance"
    assert failure.get("message") == "Response violates schema"
    assert "Reproduce: curl -X GET" in (failure.text or "") and "Received: 200" in (failure.text or "")
    error = suite.find("testcase[@name='run']/error")
    assert error is not None and error.get("message") == f"internal error: {KEY_VARIABLE}"


def test_junit_without_operations_lists_those_of_the_findings(tmp_path: Path):
    out = tmp_path / "junit.xml"
    write_junit(Report("u", findings=[Finding("GET /z", "connection", "t", "m")]), out, "fuzz", None, ())
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite is not None and [(c.get("classname"), c.get("name")) for c in suite] == [("GET /z", "connection")]


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["check", "http://h", "--api-key", KEY, "--seed", "1"], "check http://h --seed 1"),
        (["check", f"--api-key={KEY}", "http://h"], "check http://h"),
        (["fuzz", "http://h", "--include", "GET /x"], "fuzz http://h --include 'GET /x'"),
    ],
)
def test_the_command_line_without_the_key(argv, shown):
    assert command_line(argv) == shown


def test_progress_on_a_pipe_is_one_line_per_phase():
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=False)
    for progress in (Progress("examples", 1, 0, 0.1), Progress("examples", 5, 0, 0.5), Progress("coverage", 9, 1, 2.4),
                     Progress("", 12, 1, 3.0)):  # fmt: skip
        display(progress)
    display.close()
    assert stream.getvalue().splitlines() == [
        "examples: 1 requests, 0 failures, 0 s",
        "coverage: 9 requests, 1 failures, 2 s",
        "done: 12 requests, 1 failures, 3 s",
    ]


def test_progress_on_a_terminal_rewrites_one_line_and_clears_it():
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=True)
    display(Progress("examples", 1, 0, 0.1))
    display.close()
    assert stream.getvalue() == "\r\x1b[Kexamples: 1 requests, 0 failures, 0 s\r\x1b[K"


def test_redact_is_identity_without_a_key():
    assert reporting.redact("nothing to hide", None) == "nothing to hide"
