"""A relayed session as a stream fixture (serve/events/recording.py) and frames as journal entries (journaling.py),
in process."""

from __future__ import annotations

import yaml

from mockserver.serve.events import load_streams
from mockserver.serve.events.frames import Frame
from mockserver.serve.events.journaling import journal_sink
from mockserver.serve.events.recording import StreamRecording
from mockserver.serve.journal import Journal, Redactor

KEY = "sk-recorded-key-1234"


def recording(tmp_path, query=None) -> StreamRecording:
    pairs = query or [("EIO", "4"), ("transport", "websocket"), ("conversation_id", "abc"), ("latest_event_id", "-1"),
                      ("providers_set", ""), ("session_api_key", KEY)]  # fmt: skip
    return StreamRecording(tmp_path, "/socket.io/", pairs, [f"Bearer {KEY}"])


def test_events_before_the_first_client_event_replay_and_the_rest_answer_it(tmp_path):
    rec = recording(tmp_path)
    rec.server_event("oh_event", [{"id": 0, "message": "hello"}])
    rec.client_event("oh_user_action", [{"action": "message", "args": {"content": "hi"}}])
    rec.server_event("oh_event", [{"id": 1, "message": "echo"}])
    rec.server_event("oh_event", [{"id": 2, "message": "reply"}])
    doc = rec.document()
    assert doc["stream"] == "abc" and doc["match"] == {"query": {"conversation_id": "abc"}}
    assert doc["resume"] == {"query": "latest_event_id", "field": "id"}
    assert [e["data"]["id"] for e in doc["events"]] == [0]
    reply = doc["on"]["oh_user_action"][0]
    assert reply["when"] == {"action": "message", "args": {"content": "hi"}}
    assert [e["data"]["id"] for e in reply["emit"]] == [1, 2]


def test_nothing_secret_is_written_and_a_recorded_brace_pair_is_no_template(tmp_path):
    rec = recording(tmp_path)
    rec.server_event("e", [{"token": "abc", "text": f"key {KEY} here", "tpl": "{{data.x}}", "n": 1}])
    written = rec.write()
    assert written is not None and written.name == "abc.yaml" and written.parent.name == "_streams"
    text = written.read_text()
    assert KEY not in text
    data = yaml.safe_load(text)["events"][0]["data"]
    assert data == {"token": "[redacted]", "text": "key [redacted] here", "tpl": "{ {data.x}}", "n": 1}
    stream = load_streams(str(tmp_path), None).named("abc")
    assert stream is not None and stream.events[0].data is not None and not stream.events[0].data.dynamic


def test_a_session_with_nothing_in_it_writes_nothing_and_names_stay_apart(tmp_path):
    assert recording(tmp_path).write() is None
    one = recording(tmp_path, [("room", "a b"), ("user", "x")]).name()
    other = recording(tmp_path, [("room", "a"), ("user", "b x")]).name()
    assert one != other and "--" in one


def test_frames_become_journal_entries_named_from_the_servers_side():
    journal = Journal(100, Redactor(set(), None))
    sink = journal_sink(journal, None)
    base = ("sid1", "/socket.io/", (("conversation_id", "abc"), ("session_api_key", KEY)), (), "websocket")
    sink(Frame("connect", *base, stream="abc"))
    sink(Frame("send", *base, stream="abc", event="oh_event", data={"id": 1}))
    sink(Frame("receive", *base, stream="abc", event="oh_user_action", data={"a": 1}))
    sink(Frame("refuse", *base, fault="error", override="7", note="no"))
    sink(Frame("garbage", *base, note="bad"))
    sink(Frame("close", *base))
    entries = journal.snapshot()["requests"]
    assert [(e["method"], e["status"]) for e in entries] == [
        ("WS CONNECT", 101), ("WS OUT", 101), ("WS IN", 101),
        ("WS CONNECT", 403), ("WS GARBAGE", 400), ("WS CLOSE", 101),
    ]  # fmt: skip
    assert entries[1]["operation"] == "socket.io oh_event" and entries[1]["response"] == '{"id":1}'
    assert entries[0]["note"].startswith("socket sid1; stream abc") and entries[0]["fixture"] == "abc"
    assert entries[3]["override"] == "7" and "fault error (override 7)" in entries[3]["note"]
    assert KEY not in str(entries)
