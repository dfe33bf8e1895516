"""Connection faults from an override (`"fault": "reset" | "close" | "stall"`), seen by a client on a real loopback
socket: a reset before any byte, a connection closed after part of the body, a body that trickles past the client's
patience (serve/faults.py). Each against a uvicorn server in this process (tests/support.Served)."""

from __future__ import annotations

import socket

import httpx
import pytest

from mockserver.serve.app import create_app
from mockserver.serve.config import Config
from tests.support import CONVERSATION, KEY_HEADER, Served

pytestmark = pytest.mark.e2e
OP = "GET /api/conversations/{conversation_id}"
REQUEST = f"GET {CONVERSATION}running HTTP/1.1\r\nHost: mock\r\n{KEY_HEADER}: k\r\n\r\n".encode()


def _read_all(sock: socket.socket) -> bytes:
    """What the server sends until it closes; a reset raises ConnectionResetError, a client timeout socket.timeout."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.fixture
def server():
    with Served(create_app(Config(request_log=False))) as served:
        yield served


def _fault(server: Served, fault: str, **extra: object) -> None:
    added = httpx.post(f"{server.url}/__mock/overrides", json={"operation": OP, "fault": fault, **extra})
    assert added.status_code == 201, added.text


def _connect(server: Served, timeout: float) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.sendall(REQUEST)
    return sock


def test_reset_before_any_byte(server):
    _fault(server, "reset")
    with _connect(server, 10) as sock, pytest.raises(ConnectionResetError):
        _read_all(sock)
    with pytest.raises(httpx.ReadError, match="reset"):  # what a frontend's HTTP client sees
        httpx.get(f"{server.url}{CONVERSATION}running", headers={KEY_HEADER: "k"})


def test_close_after_part_of_the_body(server):
    whole = httpx.get(f"{server.url}{CONVERSATION}running", headers={KEY_HEADER: "k"}).content
    _fault(server, "close")
    with _connect(server, 10) as sock:
        data = _read_all(sock)  # the server closed: recv returned b""
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and f"content-length: {len(whole)}".encode() in head.lower()
    assert 0 < len(body) < len(whole) and whole.startswith(body)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{server.url}{CONVERSATION}running", headers={KEY_HEADER: "k"})
    entry = httpx.get(f"{server.url}/__mock/requests?limit=1").json()["requests"][0]
    assert entry["source"] == "override" and "fault=close" in entry["note"]


def test_stall_trickles_the_body_past_the_clients_patience(server):
    _fault(server, "stall", response={"status": 200, "body": None})  # with an exact answer too: 4 bytes, `null`
    with _connect(server, 0.3) as sock:
        data = b""
        with pytest.raises(TimeoutError):
            while True:
                data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: 4" in head.lower()
    assert len(body) < 4  # the headers came, the body did not
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}{CONVERSATION}running", headers={KEY_HEADER: "k"}, timeout=0.3)
    httpx.delete(f"{server.url}/__mock/overrides")
    assert httpx.get(f"{server.url}{CONVERSATION}running", headers={KEY_HEADER: "k"}).status_code == 200


def test_a_fault_for_some_uses_only(server):
    _fault(server, "reset", times=1)
    with pytest.raises(httpx.ReadError):
        httpx.get(f"{server.url}{CONVERSATION}running", headers={KEY_HEADER: "k"})
    assert httpx.get(f"{server.url}{CONVERSATION}running", headers={KEY_HEADER: "k"}).status_code == 200
