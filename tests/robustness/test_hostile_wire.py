"""The real server (uvicorn + our app) under hostile bytes on the wire: every request gets an answer below 500 or a
clean close, idle and half-sent requests hold up no one, and the next ordinary request gets the right answer."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator

import pytest

from mockserver import Config, create_app

from .support import CONVERSATION, KEY, KEY_HEADER, Server, exchange, report, request_bytes, serve

AUTH = (KEY_HEADER, KEY)
READY = next(iter(create_app(Config(request_log=False)).state.mock.fixtures.values())).by_name["ready"].first.body_bytes
MiB = 1_048_576


def _get(target: str | bytes, *headers: tuple[str, str], method: str = "GET", body: bytes = b"") -> bytes:
    return request_bytes(method, target, [AUTH, *headers], body)


# (name, raw bytes, the statuses that count as a clear answer)
HOSTILE: list[tuple[str, bytes, set[int]]] = [
    ("1 MiB header", _get(CONVERSATION + "ready", ("X-Big", "a" * MiB)), {200, 400, 431}),
    ("10,000 headers", _get(CONVERSATION + "ready", *((f"X-H{i}", "v") for i in range(10_000))), {200, 400, 431}),
    ("100 KB id", _get(CONVERSATION + "x" * 100_000), {200, 400, 414}),
    ("dot-dot path", _get(CONVERSATION + "../../../../etc/passwd"), {404}),
    ("encoded dot-dot", _get(CONVERSATION + "..%2F..%2F..%2Fetc%2Fpasswd"), {200}),
    ("invalid UTF-8 escape", _get(CONVERSATION + "%c0%ae%ff"), {422}),
    ("encoded NUL", _get(CONVERSATION + "a%00b"), {200}),
    ("raw NUL in path", _get(b"/api/conversations/a\x00b"), {400}),
    ("NUL in a header", _get(CONVERSATION + "ready", ("X-Bad", "a\x00b")), {400}),
    ("RTL and emoji, raw UTF-8", _get(("/api/conversations/\u202eمرحبا😀").encode()), {200, 400}),
    ("600 query parameters", _get(CONVERSATION + "ready?" + "&".join(f"q{i}=%ff" for i in range(600))), {200}),
    ("3,000 query parameters", _get(CONVERSATION + "ready?" + "&".join(f"q{i}=1" for i in range(3000))), {422}),
    ("JSON body on GET", _get(CONVERSATION + "ready", ("Content-Type", "application/json"), body=b'{"a": 1}'), {200}),
    ("binary body on GET", _get(CONVERSATION + "ready", body=bytes(range(256)) * 64), {200}),
    ("2 MiB body on GET", _get(CONVERSATION + "ready", body=b"x" * (2 * MiB)), {413}),
    (
        "chunked body on GET",
        _get(CONVERSATION + "ready", ("Transfer-Encoding", "chunked")) + b"5\r\nhello\r\n0\r\n\r\n",
        {200},
    ),
    (
        "broken chunking",
        _get(CONVERSATION + "ready", ("Transfer-Encoding", "chunked")) + b"zz\r\nhello\r\n0\r\n\r\n",
        {400},
    ),
    ("unknown method BREW", _get(CONVERSATION + "ready", method="BREW"), {400, 405, 501}),
    ("WebDAV PROPFIND", _get(CONVERSATION + "ready", method="PROPFIND"), {405}),
    ("DELETE", _get(CONVERSATION + "ready", method="DELETE"), {405}),
    ("TRACE", _get(CONVERSATION + "ready", method="TRACE"), {405}),
    ("malformed Prefer", _get(CONVERSATION + "ready", ("Prefer", 'code=abc;;="')), {400}),
    ("absurd Prefer example", _get(CONVERSATION + "ready", ("Prefer", "example=../../../../etc/passwd")), {400}),
    ("absolute-form target", _get("http://127.0.0.1/api/conversations/ready"), {200, 400, 404}),
    ("asterisk target", _get("*"), {400, 404}),
    (
        "HTTP/1.0 without Host",
        b"GET /api/conversations/ready HTTP/1.0\r\n" + f"{KEY_HEADER}: {KEY}\r\n\r\n".encode(),
        {200},
    ),
    ("garbage request line", b"HELLO THERE\r\n\r\n", {400}),
    ("TLS ClientHello", bytes.fromhex("16030100a5010000a10303") + bytes(200), {400}),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400}),
]
STATUSES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serve("--api-key", KEY) as running:
        yield running
        assert "Traceback" not in running.output()
        errors = sum(n for status, n in STATUSES.items() if status.isdigit() and int(status) >= 500)
        report(
            f"hostile requests (wire): {sum(STATUSES.values())} raw requests, answers by status "
            f"{dict(sorted(STATUSES.items()))}, {errors} 5xx, {STATUSES['unanswered']} unanswered"
        )


def still_serving(server: Server) -> None:
    answer = exchange(server.port, _get(CONVERSATION + "ready"))
    assert (answer.status, answer.body) == (200, READY)
    assert server.process.poll() is None


@pytest.mark.e2e
@pytest.mark.parametrize("name, data, allowed", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bytes_get_a_clear_answer(server, name, data, allowed):
    answer = exchange(server.port, data)
    STATUSES[str(answer.status) if answer.status is not None else "unanswered"] += 1
    assert answer.status is not None, f"{name}: closed without an answer: {answer.head[:200]!r}"
    assert answer.status < 500 and answer.status in allowed, (answer.status, answer.head[:300], answer.body[:300])
    assert b"root:" not in answer.body
    still_serving(server)


@pytest.mark.e2e
def test_pipelined_requests_are_all_answered_in_order(server):
    ids = [f"pipe-{i}" for i in range(200)]
    data = b"".join(_get(CONVERSATION + i) for i in ids) + _get(CONVERSATION + "ready", ("Connection", "close"))
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(data)
        received = b""
        while True:  # bounded: the last request asks the server to close
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            received += chunk
    heads = received.count(b"HTTP/1.1 200 OK")
    assert heads == len(ids) + 1
    positions = [received.find(f'"conversation_id":"{i}"'.encode()) for i in ids]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert received.endswith(READY)
    STATUSES["200"] += heads


@pytest.mark.e2e
def test_idle_and_half_sent_requests_hold_up_no_one(server):
    stalled = [
        b"GET /api/conversations/ready HTTP/1.1\r\nHost: x\r\n",  # headers never finished
        _get(CONVERSATION + "ready", ("Content-Length", "1000"))[:-2] + b"\r\n\r\nonly a little",  # body never finished
        b"",  # connected, nothing sent
        b"G",
    ]
    sockets = []
    try:
        for i in range(40):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(stalled[i % len(stalled)])
            sockets.append(sock)
        for _ in range(5):
            still_serving(server)
            STATUSES["200"] += 1
    finally:
        for sock in sockets:
            sock.close()
    still_serving(server)
