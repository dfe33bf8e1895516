"""The OpenHands event streams (fixtures/openhands-app/events/) agree with the REST fixtures (fixtures/openhands/)
and give the conversation screen what it needs: a ready agent for RUNNING, STOPPED history, errors named by the
conversation's runtime_status, and a scripted chat exchange. The last test plays the frontend's own handshake."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import socketio
import yaml

from mockserver.contract.spec import load_spec
from mockserver.serve.events import Stream, load_streams
from tests.support import HANG_S, ROOT, serve, wait_until

EVENTS = ROOT / "fixtures" / "openhands-app" / "events"
REST = ROOT / "fixtures" / "openhands"
STREAMS = load_streams(str(EVENTS), load_spec(str(ROOT / "contracts" / "openhands" / "openapi.json")))


def conversations() -> dict[str, dict[str, Any]]:
    found = {}
    for file in sorted(REST.glob("*.yaml")):
        doc = yaml.safe_load(file.read_text())
        body = (doc.get("response") or {}).get("body") or (doc.get("responses") or [{}])[-1].get("body")
        if isinstance(body, dict) and "conversation_id" in body:
            found[body["conversation_id"]] = body
    return found


CONVERSATIONS = conversations()


def stream_for(conversation_id: str, status: str | None = None) -> Stream:
    """The stream the frontend's handshake gets while GET /api/conversations/{id} answers as the REST fixture does
    (or with `status` instead, as after a --stateful transition)."""

    def resource(operation: str, params: dict[str, str]) -> Any:
        assert operation == "GET /api/conversations/{conversation_id}"
        body = CONVERSATIONS.get(params["conversation_id"], {"status": "RUNNING"})  # one created at run time
        return {**body, "status": status} if status else body

    stream = STREAMS.find({"conversation_id": [conversation_id], "latest_event_id": ["-1"]}, resource)
    assert stream is not None, conversation_id
    return stream


def replayed(stream: Stream) -> list[Any]:
    return [step.data.render({"data": None, "query": {}, "next_id": 0}) for step in stream.replay({}) if step.data]


def agent_state(events: list[Any]) -> str:
    states = [e["extras"]["agent_state"] for e in events if e.get("observation") == "agent_state_changed"]
    assert events[-1].get("observation") == "agent_state_changed", "the agent state comes last, as OpenHands sends it"
    return states[-1]


@pytest.mark.parametrize(("conversation_id", "body"), sorted(CONVERSATIONS.items()))
def test_every_conversation_the_frontend_connects_to_has_a_stream_that_agrees_with_its_rest_state(
    conversation_id, body
):
    if body.get("status") != "RUNNING" and not body.get("runtime_status"):
        return  # the frontend opens no socket for it
    stream = stream_for(conversation_id)
    events = replayed(stream)
    status = body.get("status")
    runtime = body.get("runtime_status")
    updates = [e["id"] for e in events if e.get("status_update")]
    if runtime == "STATUS$READY":
        assert agent_state(events) == "awaiting_user_input" and updates == ["STATUS$READY"]
    elif runtime == "STATUS$STOPPED":
        assert agent_state(events) == "stopped"
    elif status == "STARTING":
        assert agent_state(events) == "loading"
    elif stream.name != "default":  # an error state: the status update names the conversation's runtime_status
        assert updates == [runtime]
        assert agent_state(events) in ("error", "stopped", "rate_limited")


@pytest.mark.parametrize(("status", "state"), [("STARTING", "loading"), ("RUNNING", "awaiting_user_input")])
def test_a_stopped_conversation_started_with_stateful_streams_its_new_state(status, state):
    assert agent_state(replayed(stream_for("stopped"))) == "stopped"
    now = stream_for("stopped", status)
    assert agent_state(replayed(now)) == state
    if status == "RUNNING":  # the frontend reconnects with the last id it saw (2): only what is new
        tail = [step.data.value for step in now.replay({"latest_event_id": ["2"]}) if step.data]
        assert [e.get("id") for e in tail] == ["STATUS$READY", 3] and now.on.get("oh_user_action")
    assert stream_for("running", "STOPPED").name == "any-stopped"  # POST .../stop


def test_the_running_stream_resumes_after_latest_event_id_and_always_resends_the_ready_state():
    stream = stream_for("running")
    tail = [step.data.value for step in stream.replay({"latest_event_id": ["3"]}) if step.data]
    assert [e.get("status_update") or e["id"] for e in tail] == [True, 4]


@pytest.mark.parametrize("conversation_id", ["running", "a-conversation-created-at-run-time"])
def test_a_chat_message_gets_the_echo_the_agent_running_its_reply_and_the_agent_waiting(conversation_id):
    stream = stream_for(conversation_id)
    message = {"action": "message", "args": {"content": "Add a test", "image_urls": [], "file_urls": [],
                                             "timestamp": "2026-03-12T10:00:00Z"}}  # fmt: skip
    reply = stream.reply("oh_user_action", message)
    assert reply is not None
    scope = {"data": message, "query": {"conversation_id": conversation_id}}
    sent = [step.data.render({**scope, "next_id": stream.next_id + i}) for i, step in enumerate(reply.emit)]
    assert sent[0]["source"] == "user" and sent[0]["args"]["content"] == "Add a test"
    assert [e.get("extras", {}).get("agent_state") for e in sent] == [None, "running", None, "awaiting_user_input"]
    assert sent[2]["source"] == "agent" and sent[2]["action"] == "message" and "Add a test" in sent[2]["message"]
    assert [e["id"] for e in sent] == list(range(stream.next_id, stream.next_id + 4))
    pause = stream.reply("oh_user_action", {"action": "change_agent_state", "args": {"agent_state": "paused"}})
    assert pause is not None and pause.emit[0].data is not None
    assert pause.emit[0].data.render({"data": {"args": {"agent_state": "paused"}}})["extras"]["agent_state"] == "paused"


@pytest.mark.e2e
def test_the_frontends_handshake_gets_a_ready_agent_and_a_reply_to_a_chat_message():
    received: list[Any] = []
    done = threading.Event()
    # as `make serve-openhands`, without --stateful
    profile = ["contracts/openhands/openapi.json", "--fixtures", str(REST), "--fixtures", str(EVENTS.parent)]
    profile += ["--auth", "off"]
    with serve(*profile) as server:
        sio = socketio.Client(reconnection=False)

        def on_event(event: Any) -> None:
            received.append(event)
            if event.get("extras", {}).get("agent_state") == "awaiting_user_input" and len(received) > 6:
                done.set()

        sio.on("oh_event", on_event)
        query = "conversation_id=running&latest_event_id=-1&providers_set=&session_api_key="
        sio.connect(f"{server.url}/?{query}", transports=["websocket"], wait_timeout=HANG_S)
        try:
            wait_until(lambda: len(received) >= 6, 10, "the replay")
            assert received[-1]["extras"]["agent_state"] == "awaiting_user_input"
            sio.emit("oh_user_action", {"action": "message", "args": {"content": "hi", "image_urls": [],
                                                                      "file_urls": []}})  # fmt: skip
            assert done.wait(HANG_S)
        finally:
            sio.disconnect()
        methods = [e["method"] for e in httpx.get(server.url + "/__mock/requests").json()["requests"]]
    assert received[6]["message"] == "hi" and "hi" in received[8]["message"]
    assert methods.count("WS IN") == 1 and methods.count("WS OUT") == 10
