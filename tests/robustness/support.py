"""Helpers for the robustness suite: a raw ASGI driver, the real CLI on a loopback port, a minimal HTTP/1.1 client.

Rules: every wait has a deadline, every started process is stopped in a `finally`, and traffic goes to 127.0.0.1
only. The raw driver exists because hostile requests (100 KB ids, NUL bytes, any header bytes) are exactly what
well-behaved clients such as httpx refuse to send.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import (  # noqa: F401 - re-exported for this suite
    CONVERSATION,
    COUNTS,
    KEY_HEADER,
    ROOT,
    Server,
    cli,
    free_port,
    listening,
    run_cli,
    serve,
    stop,
)

# base64-looking, like real keys: '+', '/' and '=' change under percent-encoding, so both forms are searched for
KEY = "rb-K3y_9f8e7d6c+5b4a/Zq=="


def report(line: str) -> None:
    print(line)
    COUNTS.append(line)


def key_forms(key: str = KEY) -> list[str]:
    """The ways a key can show up in an artefact: raw, percent-encoded, JSON-escaped."""
    from urllib.parse import quote

    return sorted({key, quote(key, safe=""), quote(key), quote(key, safe="").lower(), key.replace("/", "\\/")})


# --- in process: raw ASGI ---------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


def scope(
    method: str, raw_path: bytes, query: bytes = b"", headers: Iterable[tuple[bytes, bytes]] = ()
) -> dict[str, Any]:
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


async def asgi_call(
    app: Any,
    method: str,
    raw_path: bytes,
    query: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes | None = None,
    chunks: list[bytes] | None = None,
) -> Reply:
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

    def __call__(
        self,
        app: Any,
        method: str,
        raw_path: bytes | str,
        query: bytes | str = b"",
        headers: Iterable[tuple[str | bytes, str | bytes]] = (),
        body: bytes | None = None,
        chunks: list[bytes] | None = None,
    ) -> Reply:
        raw = raw_path.encode("utf-8", "surrogatepass") if isinstance(raw_path, str) else raw_path
        qs = query.encode() if isinstance(query, str) else query
        encoded = [(_bytes(k).lower(), _bytes(v)) for k, v in headers]
        return self.loop.run_until_complete(asgi_call(app, method, raw, qs, encoded, body, chunks))

    def close(self) -> None:
        self.loop.close()


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


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


def request_bytes(
    method: str, target: str | bytes, headers: Iterable[tuple[str, str]] = (), body: bytes = b""
) -> bytes:
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
