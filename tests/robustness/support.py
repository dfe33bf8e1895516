"""Helpers for the robustness suite: a raw ASGI driver, the real CLI on a loopback port, a minimal HTTP/1.1 client.

Rules: every wait has a deadline, every started process is stopped in a `finally`, and traffic goes to 127.0.0.1
only. The raw driver exists because hostile requests (100 KB ids, NUL bytes, any header bytes) are exactly what
well-behaved clients such as httpx refuse to send.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import CONVERSATION, KEY_HEADER, ROOT, stop  # noqa: F401 - re-exported for this suite

# base64-looking, like real keys: '+', '/' and '=' change under percent-encoding, so both forms are searched for
KEY = "rb-K3y_9f8e7d6c+5b4a/Zq=="

# One line per measured fact, printed at the end of the run by conftest.py's terminal-summary hook.
COUNTS: list[str] = []


def report(line: str) -> None:
    print(line)
    COUNTS.append(line)


def key_forms(key: str = KEY) -> list[str]:
    """The ways a key can show up in an artefact: raw, percent-encoded, JSON-escaped."""
    from urllib.parse import quote

    return sorted({key, quote(key, safe=""), quote(key), quote(key, safe="").lower(), key.replace("/", "\\/")})


def cli() -> list[str]:
    script = Path(sys.executable).with_name("mockserver")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mockserver"]


# --- in process: raw ASGI ---------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def scope(method: str, raw_path: bytes, query: bytes = b"", headers: Iterable[tuple[bytes, bytes]] = ()) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 4010),
    }


async def asgi_call(app: Any, method: str, raw_path: bytes, query: bytes = b"", headers: Iterable[tuple[bytes, bytes]] = (), body: bytes | None = None, chunks: list[bytes] | None = None) -> Reply:
    """One request straight into the ASGI app; the app must answer within 15 s (a hang fails, it does not block)."""
    parts = list(chunks) if chunks is not None else [body or b""]
    replies: dict[str, Any] = {"status": None, "headers": [], "body": b""}

    async def receive() -> dict[str, Any]:
        if parts:
            chunk = parts.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}
        await asyncio.Event().wait()  # the app read past the body: behave like an idle client, until cancelled
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            replies["status"] = message["status"]
            replies["headers"] = message.get("headers", [])
        elif message["type"] == "http.response.body":
            replies["body"] += message.get("body", b"")

    await asyncio.wait_for(app(scope(method, raw_path, query, headers), receive, send), timeout=15)
    assert replies["status"] is not None, "the app finished without answering"
    names = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in replies["headers"]}
    return Reply(replies["status"], names, replies["body"])


class Driver:
    """Runs `asgi_call` from synchronous tests (Hypothesis included) on one private event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __call__(self, app: Any, method: str, raw_path: bytes | str, query: bytes | str = b"", headers: Iterable[tuple[str | bytes, str | bytes]] = (), body: bytes | None = None, chunks: list[bytes] | None = None) -> Reply:
        raw = raw_path.encode("utf-8", "surrogatepass") if isinstance(raw_path, str) else raw_path
        qs = query.encode() if isinstance(query, str) else query
        encoded = [(_bytes(k).lower(), _bytes(v)) for k, v in headers]
        return self.loop.run_until_complete(asgi_call(app, method, raw, qs, encoded, body, chunks))

    def close(self) -> None:
        self.loop.close()


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


# --- the real CLI ----------------------------------------------------------------------------------------------


class Output(threading.Thread):
    """Drains a pipe into memory (so the child never blocks on a full pipe) and signals the start-up banner."""

    BANNER = re.compile(r"mockserver: serving .* on http://(\S+):(\d+)")

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []
        self.banner: re.Match[str] | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line)
            if self.banner is None:
                self.banner = self.BANNER.search(line)
                if self.banner:
                    self.ready.set()
        self.ready.set()  # end of stream: the process is gone

    def text(self) -> str:
        return "".join(self.lines)


@dataclass
class Server:
    process: subprocess.Popen[str]
    host: str
    port: int
    stdout: Output
    stderr: Output
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def output(self) -> str:
        return self.stdout.text() + self.stderr.text()

    def rss_kib(self) -> int:
        """Resident memory of the server process, from /proc (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert found, status
        return int(found.group(1))


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None, timeout: float = 30.0) -> Iterator[Server]:
    """`mockserver serve ARGS --port 0` as a subprocess; yields once it listens; always stops it."""
    command = [*cli(), "serve", *args, "--port", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
        env={**os.environ, **(env or {})}, cwd=ROOT,
    )  # fmt: skip
    out, err = Output(process.stdout), Output(process.stderr)
    out.start()
    err.start()
    try:
        err.ready.wait(timeout)
        if err.banner is None:
            raise AssertionError(f"server did not start within {timeout} s: {' '.join(command)}\n{err.text()}")
        yield Server(process, err.banner.group(1), int(err.banner.group(2)), out, err, list(args))
    finally:
        stop(process)
        out.join(10)
        err.join(10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()




def run_cli(*args: str, timeout: float = 10.0, cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """Runs the CLI to completion; returns the result and its wall time (the process is killed on timeout)."""
    start = time.monotonic()
    result = subprocess.run(
        [*cli(), *args], capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout,
        cwd=cwd or ROOT, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return result, time.monotonic() - start


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- a minimal HTTP/1.1 client over raw sockets -----------------------------------------------------------------


@dataclass
class Wire:
    status: int | None  # None: the server closed the connection without an answer
    head: bytes
    body: bytes
    closed: bool  # the server closed the connection after answering


def exchange(port: int, data: bytes, timeout: float = 10.0) -> Wire:
    """Sends raw bytes on a fresh connection and reads one answer (by Content-Length) or the close."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading all of a huge request
        buffer = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return _parse(buffer, closed=True)
            buffer += chunk
            parsed = _parse(buffer, closed=False)
            if parsed.status is not None:
                return parsed
        raise AssertionError(f"no complete answer within {timeout} s: {buffer[:200]!r}")


def _parse(buffer: bytes, *, closed: bool) -> Wire:
    head, sep, body = buffer.partition(b"\r\n\r\n")
    if not sep:
        return Wire(None, buffer, b"", closed)
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
    if length and len(body) < int(length.group(1)) and not closed:
        return Wire(None, head, body, closed)
    if not length and not closed:
        return Wire(None, head, body, closed)
    return Wire(status, head, body, closed or b"connection: close" in head.lower())


def request_bytes(method: str, target: str | bytes, headers: Iterable[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    target_bytes = target if isinstance(target, bytes) else target.encode("latin-1")
    lines = [method.encode() + b" " + target_bytes + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [f"{k}: {v}".encode("latin-1") for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def copy_builtin_fixtures(target: Path) -> Path:
    """A private copy of the built-in fixtures folder, to plant things in."""
    source = ROOT / "fixtures" / "openhands"
    shutil.copytree(source, target)
    return target
