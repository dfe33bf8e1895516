"""`mockserver proxy --record`: socket.io passed through to a real upstream (python-socketio's server on a loopback
port), journaled, written as a stream fixture without the credentials, and that fixture replayed by `serve`."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import socketio
import yaml

from mockserver.serve.events import load_streams
from tests.support import CONVERSATIONS, HANG_S, Served, serve, wait_until

pytestmark = pytest.mark.e2e
SECRET = "sk-relay-secret-77"


def upstream_app() -> Any:
    """A small socket.io server: on connect, two events (ids 0 and 1) from the last one the client saw; on `ask`,
    an answer that echoes the question (and the key, if it was sent: the recorder must redact it)."""
    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")  # as OpenHands does

    @sio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        query = dict(pair.split("=", 1) for pair in environ["QUERY_STRING"].split("&") if "=" in pair)
        after = int(query.get("latest_event_id", "-1"))
        for i in range(after + 1, 2):
            await sio.emit("news", {"id": i, "text": f"item {i}", "key": query.get("session_api_key", "")}, to=sid)

    @sio.event
    async def ask(sid: str, data: dict[str, Any]) -> None:
        await sio.emit("answer", {"id": 2, "text": f"you asked {data['q']}", "echo": SECRET}, to=sid)

    return socketio.ASGIApp(sio, socketio_path="socket.io")


class Client:
    def __init__(self, url: str, query: str) -> None:
        self.events: list[tuple[str, Any]] = []
        self.answered = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("news", lambda data: self.events.append(("news", data)))
        self.sio.on("answer", lambda data: (self.events.append(("answer", data)), self.answered.set()))
        self.sio.connect(f"{url}/?{query}", transports=["websocket"], wait_timeout=HANG_S)


def test_proxy_relays_records_and_serve_replays_the_recorded_stream(tmp_path):
    record = tmp_path / "recorded"
    query = f"room=lobby&latest_event_id=-1&session_api_key={SECRET}"
    with Served(upstream_app()) as upstream:
        with serve(CONVERSATIONS, "--upstream", upstream.url, "--record", str(record), subcommand="proxy") as proxy:
            client = Client(proxy.url, query)
            try:
                wait_until(lambda: len(client.events) >= 2, 10, "the upstream's events through the proxy")
                client.sio.emit("ask", {"q": "why"})
                assert client.answered.wait(HANG_S)
            finally:
                client.sio.disconnect()
            file = record / "_streams" / "lobby.yaml"
            wait_until(file.exists, 10, "the recorded stream")
            journal = httpx.get(proxy.url + "/__mock/requests").json()["requests"]
    assert [e for _, e in client.events][:2] == [{"id": 0, "text": "item 0", "key": SECRET},
                                                 {"id": 1, "text": "item 1", "key": SECRET}]  # fmt: skip
    methods = [e["method"] for e in journal if e["method"].startswith("WS")]
    assert methods[0] == "WS CONNECT" and methods.count("WS OUT") == 3 and methods.count("WS IN") == 1
    assert "recorded into" in [e for e in journal if e["method"] == "WS CLOSE"][-1]["note"]

    text = file.read_text()
    assert SECRET not in text
    doc = yaml.safe_load(text)
    assert doc["match"] == {"query": {"room": "lobby"}}  # no credential, no resume parameter
    assert doc["resume"] == {"query": "latest_event_id", "field": "id"}
    assert [e["data"]["id"] for e in doc["events"]] == [0, 1] and doc["events"][0]["data"]["key"] == "[redacted]"
    assert load_streams(str(record), None).named("lobby") is not None

    with serve(CONVERSATIONS, "--fixtures", str(record)) as mock:  # the recording, replayed without the upstream
        replay = Client(mock.url, "room=lobby&latest_event_id=0")
        try:
            wait_until(lambda: len(replay.events) >= 1, 10, "the replay")
            replay.sio.emit("ask", {"q": "why"})
            assert replay.answered.wait(HANG_S)
        finally:
            replay.sio.disconnect()
    assert replay.events[0] == ("news", {"id": 1, "text": "item 1", "key": "[redacted]"})  # resumed after id 0
    assert replay.events[-1] == ("answer", {"id": 2, "text": "you asked why", "echo": "[redacted]"})


def test_proxy_refuses_the_handshake_when_the_upstream_cannot_be_reached(tmp_path):
    with Served(upstream_app()) as gone:
        url = gone.url
    with serve(CONVERSATIONS, "--upstream", url, subcommand="proxy") as proxy:
        sio = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(f"{proxy.url}/?room=x", transports=["websocket"], wait_timeout=HANG_S)
        journal = httpx.get(proxy.url + "/__mock/requests").json()["requests"]
    refused = [e for e in journal if e["method"] == "WS CONNECT"]
    assert refused and refused[0]["status"] == 403 and "cannot be reached" in refused[0]["note"]
