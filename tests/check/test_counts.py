"""One count of requests, taken where they leave: what check, fuzz and replay print equals what a server logged,
with and without --rate-limit, with 429s, and with the checker's own probes (Schemathesis' `ignored_auth` probes
without credentials, its start-up probes) in it.

The server is a plain `http.server` on a loopback port that logs every request line it reads, before any parsing an
ASGI server would refuse (uvicorn answers a header holding NUL with a 400 of its own, never seen by the app)."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mockserver import cli
from mockserver.check import conformance, reporting
from mockserver.check import replay as replay_command
from mockserver.check.plan import Plan
from mockserver.contract.spec import load_spec

from . import zoo

pytestmark = pytest.mark.e2e  # a real server on a loopback port


class Logged(ThreadingHTTPServer):
    """Answers the get-conversation contract as real OpenHands 0.53 does (a 500 for an id over 255 bytes or with a
    NUL; otherwise the conversation, or 401 without the key) and, with `every`, a 429 to every `every`-th request."""

    daemon_threads = True

    def __init__(self, every: int = 0, auth_ignored: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.every = every
        self.auth_ignored = auth_ignored
        self.lines: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Logged

    def parse_request(self) -> bool:
        with self.server.lock:
            self.server.lines.append(self.raw_requestline.decode("latin-1").rstrip("\r\n"))
            self.number = len(self.server.lines)
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, body = self.decide()
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def decide(self) -> tuple[int, Any]:
        if self.server.every and self.number % self.server.every == 0:
            return 429, {"detail": "Too Many Requests"}
        path = self.path.split("?", 1)[0]
        if not path.startswith(zoo.PREFIX) or len(path) <= len(zoo.PREFIX) or self.command not in ("GET", "HEAD"):
            return 404, {"detail": "Not Found"}
        if not self.server.auth_ignored and self.headers.get("X-Session-API-Key") != zoo.KEY:
            return 401, {"detail": "Unauthorized"}
        cid = path[len(zoo.PREFIX) :]
        if "%00" in cid or len(cid) > 255:
            return 500, "Internal Server Error"
        return 200, zoo.full(cid)

    do_GET = do_HEAD = do_OPTIONS = do_POST = do_PUT = do_PATCH = do_DELETE = do_TRACE = answer


def serving(server: Logged) -> Iterator[Logged]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def logged() -> Iterator[Logged]:
    yield from serving(Logged())


def printed(out: str) -> int:
    found = re.search(r", (\d+) requests? to http", out)
    assert found, out
    return int(found.group(1))


@pytest.mark.parametrize("command", ["check", "fuzz"])
@pytest.mark.parametrize("rate", [None, "1000/s"])
def test_the_count_printed_is_what_the_server_got(
    logged: Logged,
    command: str,
    rate: str | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    pace = ["--rate-limit", rate] if rate else []
    # a count bounds fuzz (the boundary cases, NUL and long ids among them, come first); --duration guards a hang
    bound = ["--max-requests", "40", "--duration", "240"] if command == "fuzz" else []
    junit = tmp_path / "run.xml"
    code = cli.main([command, "--url", logged.url, "--seed", "3", "--max-examples", "5", "--cassette", "",
                     "--no-progress", "--junit-xml", str(junit), *pace, *bound])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out  # the NUL and long ids are found
    assert printed(out) == len(logged.lines), out
    properties = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert properties["requests"] == str(len(logged.lines))


def test_the_engines_own_auth_probes_are_counted(capsys: pytest.CaptureFixture[str]) -> None:
    """A server that ignores credentials: every case makes Schemathesis send probes without them, on a session of its
    own; they are counted, paced and bounded like ours."""
    for server in serving(Logged(auth_ignored=True)):
        plan = Plan(server.url, api_key=zoo.KEY, seed=2, max_examples=5)
        report = conformance.run(plan, load_spec(None))
        assert any(f.check == "ignored_auth" for f in report.findings), report
        assert report.requests == len(server.lines)
        bounded = conformance.run(Plan(server.url, api_key=zoo.KEY, seed=2, max_examples=5, max_requests=7),
                                  load_spec(None))  # fmt: skip
        assert bounded.requests == 7 == len(server.lines) - report.requests


@pytest.mark.parametrize("fuzz", [False, True])
def test_with_429s_every_attempt_is_counted(fuzz: bool) -> None:
    clock = zoo.FakeClock()  # 429 waits and pacing cost no time
    for server in serving(Logged(every=4)):
        plan = Plan(server.url, api_key=zoo.KEY, seed=5, max_examples=5, rate_limit=2.0, fuzz=fuzz,
                    max_requests=120 if fuzz else None)  # fmt: skip
        report = conformance.run(plan, load_spec(None), clock=clock)
        assert report.rate_limited >= 3, report
        assert report.requests == len(server.lines), (report.requests, len(server.lines))
        assert printed(reporting.summary(report, "check")) == len(server.lines)
        assert clock.slept  # the pacing and the waits went through the clock


def test_phase_lines_add_up_to_the_summary(logged: Logged) -> None:
    import io

    stream = io.StringIO()
    display = reporting.ProgressDisplay(stream, interactive=False)
    report = conformance.run(Plan(logged.url, api_key=zoo.KEY, seed=1, max_examples=3), load_spec(None), [display])
    display.close()
    lines = stream.getvalue().splitlines()
    assert sum(int(line.split(": ", 1)[1].split()[0]) for line in lines) == report.requests == len(logged.lines)


def test_replay_prints_what_it_sent(logged: Logged, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    cassette = tmp_path / "run.yaml"
    assert cli.main(["check", "--url", logged.url, "--seed", "3", "--max-examples", "3", "--no-progress",
                     "--cassette", str(cassette)]) == 1  # fmt: skip
    capsys.readouterr()
    before = len(logged.lines)
    assert replay_command.run(str(cassette), None, None, 10.0) == 1
    out = capsys.readouterr().out
    sent = re.search(r"; (\d+) requests? sent", out)
    assert sent, out
    assert int(sent.group(1)) == len(logged.lines) - before > 0
