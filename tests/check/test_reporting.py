"""What a `Report` becomes: the text report, curl lines (a shell can run them; long values written as printf or cut;
each request printed once), JUnit XML and the progress line; the key never in any of them, in any form it travels in,
and only a key long enough to be told from ordinary text."""

from __future__ import annotations

import base64
import io
import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver import cli
from mockserver.check import cassette, reporting
from mockserver.check.findings import Finding, Progress, Report, Request, input_cause
from mockserver.check.replay import fill
from mockserver.check.reporting import KEY_VARIABLE, ProgressDisplay, command_line, curl, render, summary, write_junit
from mockserver.contract import verdicts

from . import zoo

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
        "    [1] Response violates schema (seen 2 times)",
        f"      at id: '{KEY_VARIABLE}' is too long",
        "      second line",
        f'      Received: 200 application/json: {{"id": "{KEY_VARIABLE}"}}',
        f'      Reproduce: curl -X GET "http://127.0.0.1:1/x/{KEY_VARIABLE}?q=1" -H "X-Key: {KEY_VARIABLE}"',
        "  not_a_server_error: 1 distinct failure",
        "    [2] Server error",
        f"      Basic {KEY_VARIABLE} refused",  # the Basic token of the key too
    ]
    assert "warning: contract: GET /y answers 401" in text
    assert text.endswith(
        "mockserver check FAILED: 2 distinct failures in 2 checks, 2 operations, 42 requests to "
        "http://127.0.0.1:1 in 1.2 s, seed 7\n"
    )
    assert KEY not in text and BASIC not in text


def test_summary_verdicts():
    assert summary(Report("u"), "check").startswith("check PASSED: 0 distinct failures")
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
    cases = [(c.get("classname"), c.get("name")) for c in suite.iter("testcase")] if suite is not None else []
    assert cases == [("GET /z", "connection")]


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


def test_progress_on_a_pipe_is_one_line_per_phase_and_the_lines_add_up():
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=False)
    for progress in (Progress("", 2, 0, 0.0), Progress("examples", 3, 0, 0.1, since=2),
                     Progress("examples", 5, 0, 0.5, since=2), Progress("coverage", 9, 1, 2.4, since=6),
                     Progress("coverage", 12, 1, 3.0, since=6)):  # fmt: skip
        display(progress)
    display.close()
    lines = stream.getvalue().splitlines()
    assert lines == [
        "setup: 2 requests (2 in all), 0 failures, 0 s",
        "examples: 4 requests (6 in all), 0 failures, 0 s",
        "coverage: 6 requests (12 in all), 1 failures, 3 s",
    ]
    assert sum(int(line.split(": ")[1].split()[0]) for line in lines) == 12


def test_progress_on_a_terminal_rewrites_one_line_and_clears_it():
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=True)
    display(Progress("examples", 1, 0, 0.1))
    display.close()
    assert stream.getvalue() == "\r\x1b[Kexamples: 1 requests (1 in all), 0 failures, 0 s\r\x1b[K"


def test_redact_is_identity_without_a_key():
    assert reporting.redact("nothing to hide", None) == "nothing to hide"


BASE = "http://127.0.0.1:3000/api/conversations/"


def request(path: str, **headers: str) -> Request:
    return Request("GET", BASE + path, {"X-Session-API-Key": zoo.KEY, **headers}, None)


def server_error(path: str) -> Finding:
    sent = request(path)
    return Finding("GET /c/{id}", "not_a_server_error", "Server error", "Server error", request=sent, status=500,
                   distinct="ServerError:500", cause=input_cause(sent))  # fmt: skip


def test_long_values_are_printed_as_printf_or_cut(tmp_path: Path) -> None:
    repeated = request("x" * 5000)
    printed = reporting.curl(repeated, zoo.KEY, short=True)
    assert printed == (f'curl -X GET "{BASE}$(printf x%.0s $(seq 5000))" -H "X-Session-API-Key: $MOCKSERVER_API_KEY"')
    assert reporting.curl(repeated, zoo.KEY).count("x" * 5000) == 1  # the JUnit report keeps every byte
    utf8 = "%C3%BC%E4%BC%9A%F0%9F%99%82" * 111 + "xxx"  # rules.utf8_of(1002), as sent
    assert len(reporting.curl(request(utf8), zoo.KEY, short=True)) < 200
    random_looking = "".join(random.Random(1).choices("abcdefghijklmnopqrstuvwxyz0123456789", k=3000))
    cut = reporting.curl(request(random_looking), zoo.KEY, short=True)
    assert "…[" in cut and "more characters" in cut and len(cut) < 400


def shell_words(curl: str) -> list[str]:
    """The arguments bash makes of a printed curl line (curl itself not needed), the key from the environment."""
    env = {"MOCKSERVER_API_KEY": zoo.KEY, "PATH": "/usr/bin:/bin"}
    script = "printf '%s\\n' " + curl.removeprefix("curl ")
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=10, env=env
    ).stdout.splitlines()


@pytest.mark.e2e  # bash reads the printed line
@pytest.mark.parametrize("path", ["x" * 5000, "%C3%BC%E4%BC%9A%F0%9F%99%82" * 111 + "xxx", "a%00b%25x" * 30])
def test_a_shortened_curl_expands_to_the_same_request(path: str) -> None:
    printed = reporting.curl(request(path), zoo.KEY, short=True)
    words = shell_words(printed)  # the URL must come out byte for byte
    assert BASE + path in words, (printed, words)
    assert f"X-Session-API-Key: {zoo.KEY}" in words


def test_each_request_is_printed_once() -> None:
    report = Report(base_url=BASE)
    first = server_error("x" * 5000)
    second = Finding("GET /c/{id}", "content_type_conformance", "Undocumented Content-Type", "text/plain",
                     request=first.request, status=500)  # fmt: skip
    report.add(first)
    report.add(second)
    text = reporting.render(report, "mockserver check", zoo.KEY)
    assert text.count("Reproduce: curl") == 1 and "Reproduce: the request of [1]" in text
    assert zoo.KEY not in text


def test_cassette_placeholders_round_trip() -> None:
    key = "k+y/=with:colon%and space"
    for form, placeholder in cassette.placeholders(key):
        assert key not in placeholder
        assert fill(placeholder, key) == form
    assert [p for _, p in cassette.placeholders("plainkey123")] == [
        "${MOCKSERVER_API_KEY:basic}",
        "${MOCKSERVER_API_KEY}",
    ]


def test_short_keys_are_refused() -> None:
    assert "has 1 character;" in verdicts.key_problem("e")
    assert "has 3 characters" in verdicts.key_problem("abc")  # verdicts.MIN_SECRET: the one minimum of both
    assert verdicts.key_problem("abcd") == ""
    assert verdicts.key_problem("anything") == "" and verdicts.key_problem(None) == ""
    # A key of 4+ characters is replaced where its whole value appears, and nowhere else
    assert reporting.redact("every e, nothing here; the key: anything.", "anything") == (
        "every e, nothing here; the key: $MOCKSERVER_API_KEY."
    )


@pytest.mark.parametrize("command", ["check", "fuzz"])
def test_a_short_key_is_a_usage_error(command: str, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("MOCKSERVER_API_KEY", "e")
    code = cli.main([command, "http://127.0.0.1:9", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "has 1 character; use one of at least 4" in err, err


@pytest.mark.e2e
def test_the_contract_suite_refuses_a_short_key() -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(root / "contracts"), "--base-url", "http://127.0.0.1:9", "-q"],
        env={**os.environ, "MOCKSERVER_API_KEY": "e"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 4, result.stdout + result.stderr  # pytest's usage error
    assert "use one of at least 4" in result.stderr


@pytest.mark.parametrize("key", ['k3y"with-quote', "k3y\\backslash", "clé-123456", "with space-123", "tab\tkey-123"])
def test_a_key_a_report_would_escape_is_refused(key: str) -> None:
    # JSON and YAML escape these, so the escaped key would slip past the replacement of its value
    assert "visible ASCII" in verdicts.key_problem(key)


@pytest.mark.parametrize("key", ["zoo-key-4f1c9a7e", "Abc.~!#$%&'()*+,/:;<=>?@[]^_`{|}-123"])
def test_a_key_of_visible_ascii_is_fine(key: str) -> None:
    assert verdicts.key_problem(key) == ""


def test_the_start_line_stays_readable_on_a_large_contract():
    skipped = [f"POST /things/{i}" for i in range(500)] + [f"DELETE /things/{i}" for i in range(84)]
    report = Report(base_url="http://127.0.0.1:1", operations=["GET /a"], skipped=skipped, methods=["GET"])
    line = reporting.start_line(report, "check")
    assert len(line) < 400, line
    assert "skipped as unsafe: 584 (POST 500, DELETE 84): POST /things/0, POST /things/1" in line
    assert "... (all 584 in the report)" in line
    text = reporting.render(report, "mockserver check", None)
    assert all(f"  skipped: {key}\n" in text for key in skipped)


def test_exit_codes_are_written_once_and_help_docs_and_junit_agree(tmp_path, capsys):
    from mockserver import cli
    from mockserver.check import commands, merge

    page = (Path(__file__).parents[2] / "docs" / "reference" / "exit-codes.md").read_text()
    rows = {int(line.split("|")[1]): line.split("|")[2].strip() for line in page.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip().isdigit()}  # fmt: skip
    assert rows == commands.MEANING
    for command in ("check", "fuzz"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        shown = " ".join(capsys.readouterr().out.split())
        assert all(" ".join(f"{code} {text}".split()) in shown for code, text in commands.MEANING.items())
    for code in commands.MEANING:
        report = Report(base_url="http://127.0.0.1:1", operations=["GET /a"])
        if code == 1:
            report.findings.append(Finding("GET /a", "not_a_server_error", "Server error", "500"))
        elif code == 2:
            report.errors.append("contract: broken")
        elif code == 3:
            report.untest("GET /a", "never reached")
        reporting.write_junit(report, tmp_path / "run.xml", "check", None, ("not_a_server_error",))
        properties = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "run.xml").getroot().iter("property")}
        assert (properties["exit-code"], properties["verdict"]) == (str(code), merge.VERDICTS[code])
        assert commands.MEANING[code].startswith(merge.VERDICTS[code].lower())
