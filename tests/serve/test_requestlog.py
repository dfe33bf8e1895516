"""The per-request log line in batches (serve/requestlog.py): far fewer writes than requests, every line written at the
flush, at lifespan shutdown, at exit and after a request that raised; and, end to end, every line of the real CLI
survives its shutdown. Counts only: the tests that let a timer fire wait on an event with a deadline for a hang."""

from __future__ import annotations

import asyncio
import io
import signal
import subprocess
import threading

import httpx
import pytest

from mockserver.serve import requestlog
from mockserver.serve.app import MockApp, create_app
from mockserver.serve.config import Config
from mockserver.serve.requestlog import MAX_LINES, RequestLog
from tests.support import CONVERSATION, serve

HANG = 30.0  # seconds: only a hang waits this long
NEVER = 3600.0  # a timer that never fires within a test: what is written, the test's flush wrote


class Counting(io.StringIO):
    """A stream that counts its `write` calls (one each is one system call on a real stderr)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.written = threading.Event()

    def write(self, text: str) -> int:
        self.writes += 1
        self.written.set()
        return super().write(text)


def _app(stream: Counting, interval: float = NEVER, **options: object) -> MockApp:
    options.setdefault("auth", "off")
    app = create_app(Config(request_log=True, **options))  # type: ignore[arg-type]
    assert app.log is not None
    app.log.stream, app.log.interval = stream, interval
    return app


async def _requests(app: MockApp, paths: list[str]) -> list[int]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        answers = [await client.get(path) for path in paths]
    return [answer.status_code for answer in answers]


def _lines(stream: Counting) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if line.startswith("GET ")]


def test_n_requests_are_far_fewer_writes_and_every_line_is_there_after_the_flush():
    stream = Counting()
    app = _app(stream)
    paths = [f"{CONVERSATION}id-{i}" for i in range(200)] + [CONVERSATION + "running"] * 100

    async def run() -> tuple[list[int], int]:
        statuses = await _requests(app, paths)
        before = stream.writes
        app.flush()
        return statuses, before

    statuses, before = asyncio.run(run())
    assert set(statuses) == {200}
    assert before == 0 and stream.writes == 1  # 300 requests, one write
    lines = _lines(stream)
    assert [line.split(" ")[1] for line in lines] == paths  # every line, in order
    assert {line.split(" ")[3] for line in lines[:200]} == {"generated"}
    assert {line.split(" ")[3] for line in lines[200:]} == {"fixture"}


def test_the_timer_writes_the_buffer_without_a_flush():
    stream = Counting()
    log = RequestLog(stream)  # the default interval: a few milliseconds

    async def run() -> int:
        for i in range(50):
            log.write(f"GET /things/{i} 200 generated 0.10ms\n")
        written_at_once = stream.writes
        for _ in range(int(HANG / 0.01)):  # a hang guard, not a timing: the timer is due after milliseconds
            if stream.written.is_set():
                break
            await asyncio.sleep(0.01)
        return written_at_once

    assert asyncio.run(run()) == 0
    assert stream.writes == 1 and stream.getvalue().count("\n") == 50


def test_a_full_buffer_is_written_at_once():
    stream = Counting()
    log = RequestLog(stream, interval=NEVER)

    async def run() -> None:
        for i in range(MAX_LINES * 3):
            log.write(f"{i}\n")

    asyncio.run(run())
    assert stream.writes == 3 and stream.getvalue().count("\n") == MAX_LINES * 3
    assert log.lines == []


def test_log_lines_outside_an_event_loop_are_written_at_once():
    stream = Counting()
    RequestLog(stream).write("GET / 200 generated 0.10ms\n")
    assert stream.getvalue() == "GET / 200 generated 0.10ms\n"


def test_a_line_left_on_a_loop_that_closed_is_written_with_the_next_one():
    # TestClient runs each request on a loop of its own: a timer on a closed loop never fires
    stream = Counting()
    log = RequestLog(stream, interval=NEVER)

    async def one(i: int) -> None:
        log.write(f"line {i}\n")

    asyncio.run(one(1))
    assert stream.writes == 0
    asyncio.run(one(2))
    assert stream.getvalue() == "line 1\nline 2\n"  # written when the next loop's first line came
    assert stream.writes == 1


def test_a_closed_log_stream_never_breaks_a_request():
    stream = io.StringIO()
    stream.close()
    RequestLog(stream).write("GET / 200 generated 0.10ms\n")  # no exception: losing a log line beats a 500


def test_a_request_that_raises_still_gets_its_line(monkeypatch: pytest.MonkeyPatch):
    stream = Counting()
    app = _app(stream)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug while sending")

    monkeypatch.setattr(app, "_headers", broken)  # on the way to `send`

    async def run() -> None:
        with pytest.raises(RuntimeError):
            await _requests(app, [CONVERSATION + "running"])
        app.flush()

    asyncio.run(run())
    (line,) = _lines(stream)
    method, path, status, source, ms, reason = line.split(" ")
    assert (method, path, status, source, reason) == ("GET", CONVERSATION + "running", "500", "crashed",
                                                      "(RuntimeError)")  # fmt: skip
    assert ms.endswith("ms")


def test_a_crashed_line_never_shows_the_api_key(monkeypatch: pytest.MonkeyPatch):
    stream = Counting()
    app = _app(stream, api_key="crash-secret-123")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug while sending")

    monkeypatch.setattr(app, "_headers", broken)  # on the way to `send`

    async def run() -> None:
        with pytest.raises(RuntimeError):
            await _requests(app, [CONVERSATION + "crash-secret-123"])
        app.flush()

    asyncio.run(run())
    (line,) = _lines(stream)
    assert "crash-secret-123" not in line and "[redacted]" in line


def test_lifespan_shutdown_writes_the_buffered_lines():
    stream = Counting()
    app = _app(stream)

    async def run() -> list[str]:
        await _requests(app, [CONVERSATION + "running"] * 5)
        assert stream.writes == 0
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
        sent: list[str] = []

        async def receive() -> dict[str, str]:
            return next(messages)

        async def send(message: dict[str, str]) -> None:
            sent.append(message["type"])

        await app({"type": "lifespan"}, receive, send)  # type: ignore[arg-type]
        return sent

    assert asyncio.run(run()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert len(_lines(stream)) == 5 and stream.writes == 1


def test_closing_the_app_and_exit_write_the_buffered_lines():
    closed, exiting = Counting(), Counting()
    app = _app(closed)
    other = RequestLog(exiting, interval=NEVER)

    async def run() -> None:
        await _requests(app, [CONVERSATION + "running"] * 3)
        other.write("GET /left 200 fixture 0.10ms\n")

    asyncio.run(run())
    assert closed.writes == exiting.writes == 0
    app.close()
    assert len(_lines(closed)) == 3
    requestlog.flush_all()  # what atexit runs
    assert exiting.getvalue() == "GET /left 200 fixture 0.10ms\n"


@pytest.mark.e2e
@pytest.mark.parametrize(("stop", "workers"), [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGTERM, 2)],
                         ids=["SIGINT", "SIGTERM", "SIGTERM-2-workers"])  # fmt: skip
def test_every_line_survives_the_shutdown_of_the_real_cli(stop: signal.Signals, workers: int):
    paths = [f"{CONVERSATION}id-{i}" for i in range(40)] + [CONVERSATION + "running"] * 40
    with serve("--auth", "off", "--workers", str(workers), timeout=60) as server:
        with httpx.Client(base_url=server.url, timeout=HANG) as client:
            assert {client.get(path).status_code for path in paths} == {200}
        server.process.send_signal(stop)
        try:
            server.process.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            pytest.fail("the server did not stop")
        server.stderr.join(HANG)
        lines = [line for line in server.stderr.text().splitlines() if line.startswith("GET ")]
    assert sorted(line.split(" ")[1] for line in lines) == sorted(paths)
