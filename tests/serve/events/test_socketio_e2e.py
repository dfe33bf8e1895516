"""socket.io against the real CLI on a loopback port, with python-socketio's client: the handshake (WebSocket and
polling), replay from `latest_event_id`, a scripted answer, faults from the stream and through the overrides API,
the journal, and a client sending garbage frames (disconnected; the server keeps serving)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.support import CONVERSATIONS, HANG_S, Server, run_cli, serve, wait_until

pytestmark = pytest.mark.e2e
FOLDER = str(Path(__file__).parent / "streams")
SECRET = "sk-socket-secret-42"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serve(CONVERSATIONS, "--fixtures", FOLDER) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(server: Server) -> None:
    httpx.post(server.url + "/__mock/reset")


class Client:
    """A python-socketio client that keeps what it was sent."""

    def __init__(self, server: Server, **query: object) -> None:
        self.events: list[Any] = []
        self.closed = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("oh_event", self.events.append)
        self.sio.on("status", self.events.append)
        self.sio.on("disconnect", lambda *reason: self.closed.set())
        url = server.url + "?" + "&".join(f"{k}={v}" for k, v in query.items())
        self.sio.connect(url, transports=["websocket"], wait_timeout=HANG_S)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sio.disconnect()

    def wait_for(self, count: int) -> list[Any]:
        wait_until(lambda: len(self.events) >= count, 10, f"{count} events")
        return self.events


def journal(server: Server) -> list[dict[str, Any]]:
    return [e for e in httpx.get(server.url + "/__mock/requests").json()["requests"] if e["method"].startswith("WS")]


def test_replay_resumes_after_latest_event_id_and_the_journal_has_the_connection_and_frames(server):
    with Client(server, conversation_id="chat", latest_event_id=0, session_api_key=SECRET) as client:
        events = client.wait_for(3)
        sid = client.sio.get_sid()
    assert [e["id"] for e in events] == [1, 2, "STATUS$READY"]
    wait_until(lambda: any(e["method"] == "WS CLOSE" for e in journal(server)), 10, "the close entry")
    entries = journal(server)
    assert [e["method"] for e in entries] == ["WS CONNECT", "WS OUT", "WS OUT", "WS OUT", "WS CLOSE"]
    connect = entries[0]
    assert connect["status"] == 101 and connect["fixture"] == "chat" and "stream chat" in connect["note"]
    assert ["session_api_key", "[redacted]"] in connect["query"]
    assert SECRET not in str(httpx.get(server.url + "/__mock/requests").text)
    assert entries[1]["operation"] == "socket.io oh_event" and '"second"' in entries[1]["response"]
    assert sid is not None  # the socket.io session the journal's notes name by its own id
    assert len({e["note"].split(";")[0] for e in entries}) == 1  # one connection


def test_the_polling_handshake_opens_an_engine_io_session(server):
    answer = httpx.get(server.url + "/socket.io/?EIO=4&transport=polling")
    assert answer.status_code == 200
    assert answer.text.startswith("0{") and '"sid"' in answer.text and '"websocket"' in answer.text


def test_a_client_event_gets_the_scripted_reply_templated_from_its_payload(server):
    with Client(server, conversation_id="chat", latest_event_id=2) as client:
        client.wait_for(1)  # the status update: events 0-2 were seen
        ack = client.sio.call("oh_user_action", {"action": "message", "args": {"content": "hello"}}, timeout=HANG_S)
        events = client.wait_for(3)
        client.sio.emit("oh_user_action", {"action": "run"})  # no `when` of the first reply: the second answers
        after = client.wait_for(4)
    assert ack == {"received": "hello"}
    assert events[1:3] == [
        {"id": 3, "source": "user", "message": "hello"},
        {"id": 4, "source": "agent", "message": "echo: hello", "conversation": "chat"},
    ]
    assert after[3] == {"error": True, "message": "not a message"}
    inbound = [e for e in journal(server) if e["method"] == "WS IN"]
    assert [e["operation"] for e in inbound] == ["socket.io oh_user_action"] * 2


def test_a_disconnect_fault_through_the_overrides_api_ends_the_session_after_n_events_once(server):
    added = httpx.post(server.url + "/__mock/overrides",
                       json={"stream": "chat", "fault": "disconnect", "after": 1, "times": 1})  # fmt: skip
    assert added.status_code == 201, added.text
    with Client(server, conversation_id="chat") as client:
        assert client.closed.wait(HANG_S)
        assert len(client.events) == 1
    close = [e for e in journal(server) if e["method"] == "WS CLOSE"]
    assert close and f"fault disconnect (override {added.json()['id']})" in close[-1]["note"]
    with Client(server, conversation_id="chat") as again:  # `times: 1`: used up
        assert [e["id"] for e in again.wait_for(4)] == [0, 1, 2, "STATUS$READY"]


def test_a_fault_added_while_a_connection_is_open_applies_at_its_next_frame(server):
    with Client(server, conversation_id="chat") as client:
        client.wait_for(4)
        httpx.post(server.url + "/__mock/overrides", json={"stream": "*", "fault": "drop"}).raise_for_status()
        client.sio.emit("oh_user_action", {"action": "message", "args": {"content": "x"}})
        assert client.closed.wait(HANG_S)


def refusal(server: Server, **query: object) -> Any:
    """What the server answered a handshake it refused (the client's `connect_error` data)."""
    errors: list[Any] = []
    sio = socketio.Client(reconnection=False)
    sio.on("connect_error", errors.append)
    url = server.url + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(url, transports=["websocket"], wait_timeout=HANG_S)
    sio.disconnect()
    return errors[-1]


def test_an_error_fault_refuses_the_handshake_with_its_message(server):
    httpx.post(server.url + "/__mock/overrides",
               json={"stream": "*", "fault": "error", "message": "try later"}).raise_for_status()  # fmt: skip
    assert refusal(server, conversation_id="chat") == {"message": "try later"}
    httpx.delete(server.url + "/__mock/overrides")
    assert refusal(server, conversation_id="refused") == {"message": "invalid_session_api_key"}  # the stream's own
    refused = [e for e in journal(server) if e["status"] == 403]
    assert [e["method"] for e in refused] == ["WS CONNECT", "WS CONNECT"]
    with Client(server, conversation_id="chat") as client:  # the override is gone
        assert len(client.wait_for(4)) == 4


def test_a_stream_that_ends_with_a_disconnect_step_sends_nothing_after_it(server):
    with Client(server, conversation_id="ends") as client:
        assert client.closed.wait(HANG_S)
        assert client.events == [{"phase": "one"}]


def test_a_connection_no_stream_matches_is_accepted_and_quiet(server):
    with Client(server, conversation_id="unknown") as client:
        assert client.sio.call("anything", {"a": 1}, timeout=HANG_S) is None  # handled, unanswered
        sid = client.sio.get_sid()
    assert client.events == []
    entries = journal(server)
    assert entries[0]["method"] == "WS CONNECT" and "no stream matched" in entries[0]["note"]
    assert not [e for e in entries if e["method"] == "WS OUT"]
    assert sid


@pytest.mark.parametrize("junk", ["xyz", "", "9", "42garbage[", '42["a"', "4{{{", b"\x00\xff\xfe"])
def test_a_client_sending_garbage_is_disconnected_and_the_server_keeps_serving(server, junk):
    url = f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket&conversation_id=quiet"
    with ws_connect(url, open_timeout=HANG_S) as ws:
        assert str(ws.recv(timeout=HANG_S)).startswith("0{")  # Engine.IO open
        ws.send("40")
        assert str(ws.recv(timeout=HANG_S)).startswith("40")  # Socket.IO connect
        ws.send(junk)
        with pytest.raises(ConnectionClosed):
            while True:  # whatever was on its way, then the close: a hang fails at the recv timeout
                ws.recv(timeout=HANG_S)
    assert server.process.poll() is None
    assert [e for e in journal(server) if e["method"] == "WS GARBAGE"]
    with Client(server, conversation_id="chat") as client:
        assert len(client.wait_for(4)) == 4
    assert "Traceback" not in server.output()


def test_a_websocket_anywhere_else_is_refused_before_the_handshake(server):
    with pytest.raises(InvalidStatus) as caught:
        ws_connect(f"ws://127.0.0.1:{server.port}/api/conversations/x", open_timeout=HANG_S)
    assert caught.value.response.status_code == 403


def test_a_malformed_stream_stops_start_up_with_file_pointer_and_reason(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stream: s\noperation: GET /api/conversations/{conversation_id}\nevents:\n  - {data: {id: 1}}\n")
    result, _ = run_cli("serve", CONVERSATIONS, "--fixtures", str(tmp_path), "--port", "0", timeout=60)
    assert result.returncode == 2
    assert f"{bad}: /events/0/event: required: the socket.io event name" in result.stderr
    bad.write_text("stream: s\noperation: GET /nowhere\nevents: []\n")
    result, _ = run_cli("serve", CONVERSATIONS, "--fixtures", str(tmp_path), "--port", "0", timeout=60)
    assert result.returncode == 2 and f"{bad}: /operation: no operation 'GET /nowhere'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_socketio_path_is_the_users_to_name():
    with serve(CONVERSATIONS, "--fixtures", FOLDER, "--socketio-path", "/live") as custom:
        events: list[Any] = []
        sio = socketio.Client(reconnection=False)
        sio.on("oh_event", events.append)
        sio.connect(f"{custom.url}/?conversation_id=chat", transports=["websocket"], socketio_path="/live/",
                    wait_timeout=HANG_S)  # fmt: skip
        try:
            wait_until(lambda: len(events) >= 4, 10, "the replay at /live/")
        finally:
            sio.disconnect()
        assert httpx.get(custom.url + "/socket.io/?EIO=4&transport=polling").status_code == 404
