"""End to end, the real CLI on loopback: `mockserver proxy` in front of a stand-in for OpenHands 0.53.0
(tests/serve/openhands_upstream.py) passes its answers on unchanged, reports the drift in its log, its journal and a
JUnit file, and records fixtures from which `mockserver serve --fixtures DIR` answers the same request list as the
real server did; the API key is in no recorded file."""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from mockserver.contract import security
from tests.serve import openhands_upstream as oh
from tests.support import CONVERSATION, KEY_HEADER, Served, serve

pytestmark = pytest.mark.e2e
KEY = {KEY_HEADER: oh.KEY}
Request = tuple[str, str, bool]  # method, path (as sent), with the key
Answer = tuple[int, bytes, str]  # status, body, content type


def _requests() -> list[Request]:
    keyed = [
        *("running", "starting", "stopped", "drifted", "echo", "running", "stopped", "starting"),
        *(f"unknown-{i}" for i in range(40)),  # 200 null
        *("running/", "abc/", "unknown-3/", "zzz/", "stopped/"),  # 307 to the path without the slash
        *("a%2Fb", "team%2Fproject", "x%2F%2Fy"),  # 404 {"detail": "Not Found"}
        *("x" * 300, "a%00b"),  # 500 text/plain
        *[oh.POLLED] * (oh.POLL_BUDGET + 2),  # 200, 200, 200, then 429 + Retry-After
        *("running", "unknown-3", "drifted", "unknown-39"),  # repeated requests
    ]
    requests = [("GET", CONVERSATION + cid, True) for cid in keyed]
    requests += [("GET", CONVERSATION + cid, False) for cid in ("running", "unknown-1", "starting", "q", "r")]  # 401
    requests += [("POST", CONVERSATION + cid, True) for cid in ("running", "x")]  # 405 {"detail": ...}
    return requests


REQUESTS = _requests()


def _send(base: str) -> list[Answer]:
    answers = []
    with httpx.Client(base_url=base, timeout=10, follow_redirects=False, trust_env=False) as client:
        for method, path, keyed in REQUESTS:
            response = client.request(method, path, headers=KEY if keyed else {})
            answers.append((response.status_code, response.content, response.headers.get("content-type", "")))
    return answers


def _same(a: Answer, b: Answer) -> bool:
    """Same status and body: the same bytes, or the same JSON value (the mock writes JSON compactly, as FastAPI)."""
    if a[0] != b[0]:
        return False
    if a[1] == b[1]:
        return True
    try:
        return bool(json.loads(a[1]) == json.loads(b[1]))
    except ValueError:
        return False


def test_proxy_reports_drift_and_its_recording_replays_the_real_answers(tmp_path: Path) -> None:
    app, state = oh.create()
    record, junit = tmp_path / "recorded", tmp_path / "junit.xml"
    with Served(app) as upstream:
        direct = _send(upstream.url)
        state.polls.clear()  # the same rate-limit budget for the pass through the proxy
        args = ["--upstream", upstream.url, "--record", str(record), "--junit-xml", str(junit), "--violations-header"]
        with serve(*args, subcommand="proxy") as proxy:
            proxied = _send(proxy.url)
            journal = httpx.get(proxy.url + "/__mock/requests", trust_env=False).json()["requests"]
            drifted_header = httpx.get(proxy.url + CONVERSATION + "drifted", headers=KEY, trust_env=False).headers
            proxy.process.send_signal(signal.SIGTERM)  # as a CI job stops it; SIGINT (Ctrl-C) is tested below
            proxy.process.wait(20)

    # passed on unchanged: status, body and content type as the upstream sent them
    assert proxied == direct
    assert sorted({a[0] for a in direct}) == [200, 307, 401, 404, 405, 429, 500]

    # the log: one line per finding (operation, direction, pointer, reason), then the summary at exit
    assert proxy.process.returncode == 1  # violations were seen
    log = proxy.stderr.text()
    assert "mockserver: violation: GET /api/conversations/{conversation_id} response /body/status: " in log
    assert "mockserver: warning: GET /api/conversations/{conversation_id} response /status: status 401" in log
    assert "mockserver: warning: GET /api/conversations/{conversation_id} response /status: status 429" in log
    summary = next(line for line in log.splitlines() if line.startswith("mockserver: proxy FAILED: "))
    assert f"{len(REQUESTS) + 1} requests forwarded, 0 upstream errors" in summary
    assert f"mockserver: wrote JUnit XML to {junit}" in log and "mockserver: recorded " in log

    # the journal: the finding on the entry of the request that showed it
    drifted = [e for e in journal if e["path"] == CONVERSATION + "drifted"]
    assert drifted and all(v["pointer"] == "/body/status" for e in drifted for v in e["violations"])
    assert any(v["severity"] == "warning" and "429" in v["reason"] for e in journal for v in e["violations"])
    assert "PAUSED" in drifted_header["x-contract-violations"]

    # JUnit: one case per operation, failing on the violations; warnings in its output
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("classname"): case for case in suite.iter("testcase")}
    operation = cases["GET /api/conversations/{conversation_id}"]
    messages = [f.get("message", "") for f in operation.findall("failure")]
    assert any("response /body/status" in m and "PAUSED" in m for m in messages)
    assert "status 429" in operation.findtext("system-out", "") and "(no operation)" in cases
    assert int(suite.get("failures", "0")) == len(messages) >= 1

    # replay: the recorded fixtures answer the same request list as the upstream did
    with serve("--fixtures", str(record), "--no-request-log") as mock:
        replayed = _send(mock.url)
    agree = [_same(a, b) for a, b in zip(proxied, replayed, strict=True)]
    ratio = sum(agree) / len(agree)
    differ = [(REQUESTS[i][1], proxied[i][0], replayed[i][0]) for i, same in enumerate(agree) if not same]
    print(f"\nrecorded then replayed: {sum(agree)}/{len(agree)} answers agree ({ratio:.1%}); differ: {differ}")
    assert ratio >= 0.95, differ
    # the only differences are the expected ones: the rate limit (not replayed for ever) and the redacted echo
    assert {(path, upstream_status) for path, upstream_status, _ in differ} <= {
        (CONVERSATION + oh.POLLED, 429), (CONVERSATION + "echo", 200)
    }  # fmt: skip

    # the key is in no recorded file, nor in the JUnit file, the journal or the log
    forms = [form.encode() for form in security.wire_forms(oh.KEY)]
    written = [p for p in record.rglob("*") if p.is_file()]
    assert len(written) >= 10
    for blob in [*(p.read_bytes() for p in written), junit.read_bytes(), json.dumps(journal).encode(), log.encode()]:
        assert not any(form in blob for form in forms)


@pytest.mark.parametrize("command", ["proxy", "serve"])
def test_ctrl_c_also_prints_the_summary_and_writes_junit_in_a_new_folder(tmp_path: Path, command: str) -> None:
    app, _ = oh.create()
    junit = tmp_path / "reports" / "drift.xml"  # the README's command, with no reports/ folder yet
    with Served(app) as upstream:
        with serve("--upstream", upstream.url, "--junit-xml", str(junit), subcommand=command) as proxy:
            path = CONVERSATION + ("running" if command == "proxy" else "drifted")  # serve: no fixture answers it
            assert httpx.get(proxy.url + path, headers=KEY, trust_env=False).status_code == 200
    assert "Traceback" not in proxy.stderr.text()
    if command == "proxy":
        assert proxy.process.returncode == 0  # no violation
        assert "mockserver: proxy PASSED: 1 request forwarded" in proxy.stderr.text()
        assert ET.parse(junit).getroot().find("testsuite").get("failures") == "0"  # type: ignore[union-attr]
    else:
        assert proxy.process.returncode == 1  # "drifted" answers a status the contract lacks
        assert ET.parse(junit).getroot().find("testsuite").get("failures") == "1"  # type: ignore[union-attr]


def test_a_report_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    app, _ = oh.create()
    (tmp_path / "taken").write_text("a file where the folder should be")
    with Served(app) as upstream:
        with serve("--upstream", upstream.url, "--junit-xml", str(tmp_path / "taken" / "drift.xml"),
                   subcommand="proxy") as proxy:  # fmt: skip
            assert httpx.get(proxy.url + CONVERSATION + "running", headers=KEY, trust_env=False).status_code == 200
    text = proxy.stderr.text()
    assert proxy.process.returncode == 2 and "Traceback" not in text, text
    assert "mockserver proxy: error: cannot write JUnit XML: " in text and "mockserver: proxy PASSED" in text


def test_a_dead_upstream_is_a_502_and_the_proxy_stays_up(tmp_path: Path) -> None:
    from tests.support import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    with serve("--upstream", dead, "--record", str(tmp_path / "rec"), subcommand="proxy") as proxy:
        for _ in range(3):
            answer = httpx.get(proxy.url + CONVERSATION + "running", headers=KEY, trust_env=False)
            assert answer.status_code == 502 and "cannot connect" in answer.json()["detail"]
        assert httpx.get(proxy.url + "/__mock/health", trust_env=False).status_code == 200
    assert "mockserver: upstream error: GET /api/conversations/running: cannot connect" in proxy.stderr.text()
    assert not list((tmp_path / "rec").rglob("*.yaml"))


def test_hybrid_serve_forwards_what_no_fixture_answers() -> None:
    app, _ = oh.create()
    with Served(app) as upstream, serve("--upstream", upstream.url, "--no-request-log") as hybrid:
        fixture = httpx.get(hybrid.url + CONVERSATION + "ready", headers=KEY, trust_env=False)
        forwarded = httpx.get(hybrid.url + CONVERSATION + "drifted", headers=KEY, trust_env=False)
    assert fixture.headers["x-mock-source"] == "fixture"
    assert (forwarded.headers["x-mock-source"], forwarded.json()["status"]) == ("upstream", "PAUSED")
    assert "the rest forwarded to " + upstream.url in hybrid.stderr.text()
    assert "mockserver: serve FAILED: 1 request forwarded" in hybrid.stderr.text()


def test_the_request_line_reaches_the_upstream_byte_for_byte() -> None:
    """A catch-all upstream (a plain http.server logging request lines) sees every path exactly as the client sent
    it: no dot segment folded, no percent-encoding changed."""
    import http.client
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class CatchAll(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), CatchAll)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    paths = ["/api/conversations/..", "/api/conversations/a%2Fb", "/api/conversations/%2e%2e", "/api/./x/../y",
             "/api/conversations/%2E%2E/%2f?q=a%2Fb&r=..", "/api/conversations/x%20y%7e"]  # fmt: skip
    try:
        with serve("--upstream", f"http://127.0.0.1:{upstream.server_address[1]}", "--no-request-log",
                   subcommand="proxy") as proxy:  # fmt: skip
            for path in paths:
                connection = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=10)
                connection.request("GET", path, headers=KEY)  # http.client sends the target as given
                assert connection.getresponse().status == 404
                connection.close()
    finally:
        upstream.shutdown()
        upstream.server_close()
        thread.join(timeout=5)
    assert seen == paths
