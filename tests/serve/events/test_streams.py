"""Stream fixtures as loaded (serve/events/streams.py, template.py, faults.py): replay from the resume parameter,
matching, templates, and every mistake refused with file, pointer and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mockserver.contract.documents import DocumentError
from mockserver.contract.spec import load_spec
from mockserver.serve.config import Config
from mockserver.serve.events import EventStreams, FaultError, check_fault, load_streams
from mockserver.serve.events.faults import find
from mockserver.serve.events.template import TemplateError, compile_value
from mockserver.serve.pipeline.core import build_mock
from tests.support import CONVERSATIONS

FOLDER = str(Path(__file__).parent / "streams")
SPEC = load_spec(CONVERSATIONS)


def streams() -> EventStreams:
    return load_streams(FOLDER, SPEC)


def ids(steps: list) -> list:
    return [s.data.value.get("id") for s in steps]


def test_the_folder_loads_every_stream_and_the_http_loader_leaves_them_alone():
    mock = build_mock(Config(spec=CONVERSATIONS, fixtures=FOLDER))
    assert sorted(s.name for s in mock.streams.streams) == ["chat", "ends", "refused"]
    assert mock.fixtures == {}  # stream documents are not HTTP fixtures
    chat = mock.streams.named("chat")
    assert chat is not None and chat.operation == "GET /api/conversations/{conversation_id}"
    assert chat.next_id == 3  # one past the largest whole-number id


@pytest.mark.parametrize(
    ("latest", "expected"),
    [("-1", [0, 1, 2, "STATUS$READY"]), ("0", [1, 2, "STATUS$READY"]), ("2", ["STATUS$READY"]),
     ("junk", [0, 1, 2, "STATUS$READY"]), (None, [0, 1, 2, "STATUS$READY"])],
)  # fmt: skip
def test_replay_skips_what_the_client_saw_and_always_sends_events_without_a_whole_number_id(latest, expected):
    chat = streams().named("chat")
    assert chat is not None
    query = {"conversation_id": ["chat"], **({"latest_event_id": [latest]} if latest is not None else {})}
    assert ids(chat.replay(query)) == expected


def test_the_most_specific_stream_matches_and_none_is_quiet(tmp_path):
    (tmp_path / "any.yaml").write_text("stream: any\nevents: []\n")
    (tmp_path / "one.yaml").write_text("stream: one\nmatch: {query: {room: a}}\nevents: []\n")
    found = load_streams(str(tmp_path), None)
    assert found.find({"room": ["a"]}).name == "one"
    assert found.find({"room": ["b"]}).name == "any"
    (tmp_path / "any.yaml").unlink()
    assert load_streams(str(tmp_path), None).find({"room": ["b"]}) is None


def test_a_path_given_with_or_without_slashes_is_one_handshake_path():
    assert EventStreams("socket.io").path == EventStreams("/socket.io/").path == "/socket.io/"
    assert load_streams(FOLDER, SPEC, "/socket.io").path == "/socket.io/"


# --- mistakes: file, pointer, reason -----------------------------------------------------------------------------

BASE = {"stream": "s", "match": {"query": {"conversation_id": "x"}}, "events": [{"event": "e", "data": {"id": 1}}]}


@pytest.mark.parametrize(
    ("change", "pointer", "reason"),
    [
        ({"operation": "GET /nowhere"}, "/operation", "no operation 'GET /nowhere' in the contract"),
        ({"operation": "GET /api/conversations/{conversation_id}", "match": {"query": {"room": "x"}}},
         "/match/query/room", "has no path or query parameter 'room'"),
        ({"path": "/ws/"}, "/path", "unknown handshake path '/ws/'"),
        ({"events": [{"data": {"id": 1}}]}, "/events/0/event", "required: the socket.io event name"),
        ({"events": [{"event": "e"}, {"event": "connect"}]}, "/events/1/event", "reserved by socket.io"),
        ({"events": [{"event": "e", "delay_ms": -5}]}, "/events/0/delay_ms", "whole number of milliseconds"),
        ({"events": [{"event": "e", "payload": 1}]}, "/events/0/payload", "unknown key for an event"),
        ({"events": "e"}, "/events", "a list of at most"),
        ({"events": [{"event": "e", "data": {"a": ["{{secret}}"]}}]}, "/events/0/data/a/0", "unknown template name"),
        ({"events": [{"event": "e"}, {"fault": "error"}]}, "/events/1/fault", "only the first step"),
        ({"events": [{"fault": "explode"}]}, "/events/0/fault", "must be one of disconnect, drop, error"),
        ({"resume": {"query": "latest_event_id"}}, "/resume", "must be {query: PARAMETER, field: MEMBER}"),
        ({"on": {"chat": [{"emit": [{"fault": "error"}]}]}}, "/on/chat/0/emit/0/fault", "disconnect, drop"),
        ({"on": {"chat": {"emit": [{"event": "e"}], "reply": 1}}}, "/on/chat/reply", "unknown key for a reply"),
        ({"extra": 1}, "/extra", "unknown key; a stream fixture has"),
    ],
)  # fmt: skip
def test_a_malformed_stream_is_refused_with_file_pointer_and_reason(tmp_path, change, pointer, reason):
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump({**BASE, **change}))
    with pytest.raises(DocumentError) as caught:
        load_streams(str(tmp_path), SPEC)
    assert (caught.value.file, caught.value.pointer) == (str(file), pointer)
    assert reason in caught.value.reason


def test_an_unquoted_on_key_is_read_as_on_not_as_yaml_true(tmp_path):
    (tmp_path / "s.yaml").write_text("stream: s\nevents: []\non:\n  ping:\n    emit: [{event: pong}]\n")
    stream = load_streams(str(tmp_path), None).named("s")
    assert stream is not None and stream.on["ping"][0].emit[0].event == "pong"


def test_two_streams_of_one_name_are_refused(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text("stream: same\nevents: []\n")
    with pytest.raises(DocumentError) as caught:
        load_streams(str(tmp_path), None)
    assert caught.value.pointer == "/stream" and "already used by" in caught.value.reason


def test_a_stream_document_with_a_bad_operation_stops_the_whole_mock_build(tmp_path):
    (tmp_path / "s.yaml").write_text("stream: s\noperation: GET /nowhere\nevents: []\n")
    with pytest.raises(DocumentError, match="no operation 'GET /nowhere'"):
        build_mock(Config(spec=CONVERSATIONS, fixtures=str(tmp_path)))


# --- templates ---------------------------------------------------------------------------------------------------


def test_a_whole_placeholder_keeps_the_type_and_an_inline_one_is_text():
    template = compile_value({"id": "{{next_id}}", "text": "you said {{data.args.content}} ({{data.n}})",
                              "args": "{{data.args}}", "missing": "{{data.no}}", "q": "{{query.room}}"})  # fmt: skip
    scope = {"data": {"args": {"content": "hi"}, "n": 3}, "query": {"room": "a"}, "next_id": 7}
    assert template.render(scope) == {"id": 7, "text": "you said hi (3)", "args": {"content": "hi"},
                                      "missing": None, "q": "a"}  # fmt: skip
    assert "next_id" in template.names


def test_a_template_without_placeholders_is_its_value():
    value = {"a": [1, "b"]}
    template = compile_value(value)
    assert not template.dynamic and template.render({}) is value


@pytest.mark.parametrize("text", ["{{os.system}}", "{{data.a}} and {{__import__}}", "{{ unclosed"])
def test_a_template_naming_anything_else_is_refused(text):
    with pytest.raises(TemplateError):
        compile_value({"x": text})


# --- faults through the overrides API ----------------------------------------------------------------------------


def test_a_fault_is_checked_and_normalised():
    item = check_fault({"stream": "chat", "fault": "drop", "params": {"n": 1, "b": True}, "after": 2}, streams())
    assert item == {"stream": "chat", "fault": "drop", "params": {"n": "1", "b": "true"}, "after": 2,
                    "message": "", "times": None}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [({"stream": "nope", "fault": "disconnect"}, "stream"), ({"stream": "chat", "fault": "boom"}, "fault"),
     ({"stream": "*", "fault": "error", "after": 1}, "after"), ({"stream": "*", "fault": "drop", "times": 0}, "times"),
     ({"stream": "*", "fault": "drop", "params": {"a": [1]}}, "params"),
     ({"stream": "*", "fault": "drop", "x": 1}, "x"), ([], "(body)")],
)  # fmt: skip
def test_a_bad_fault_names_the_member_at_fault(body, field):
    with pytest.raises(FaultError) as caught:
        check_fault(body, streams())
    assert caught.value.field == field


def test_the_most_specific_then_newest_fault_comes_first_and_http_overrides_are_not_faults():
    items = [
        {"id": "1", "stream": "*", "fault": "drop", "params": {}},
        {"id": "2", "stream": "chat", "fault": "disconnect", "params": {}},
        {"id": "3", "stream": "chat", "fault": "error", "params": {"conversation_id": "chat"}},
        {"id": "4", "stream": "chat", "fault": "drop", "params": {"conversation_id": "other"}},
        {"id": "5", "operation": "GET /x", "prefer": "code=500"},
    ]
    found = find(items, "chat", {"conversation_id": ["chat"]})
    assert [f["id"] for f in found] == ["3", "2", "1"]
    assert [f["id"] for f in find(items, "", {})] == ["1"]  # a connection no stream matched: only `*`


def test_a_match_value_may_list_alternatives(tmp_path):
    (tmp_path / "s.yaml").write_text("stream: s\nmatch: {query: {room: [a, b]}}\nevents: []\n")
    found = load_streams(str(tmp_path), None)
    assert found.find({"room": ["b"]}) is not None and found.find({"room": ["c"]}) is None


STATEFUL = """
- stream: stopped
  operation: GET /api/conversations/{conversation_id}
  match: {query: {conversation_id: c1}}
  state: {status: STOPPED}
  events: [{event: e, data: stopped}]
- stream: started
  operation: GET /api/conversations/{conversation_id}
  match: {query: {conversation_id: c1}}
  state: {status: RUNNING}
  events: [{event: e, data: started}]
- stream: any-running
  operation: GET /api/conversations/{conversation_id}
  state: {status: RUNNING}
  events: []
- stream: fallback
  events: []
"""


def test_a_stream_with_a_state_follows_the_resources_current_answer(tmp_path):
    (tmp_path / "s.yaml").write_text(STATEFUL)
    found = load_streams(str(tmp_path), SPEC)
    status = {"c1": "STOPPED", "c2": "RUNNING"}
    asked: list[tuple[str, dict]] = []

    def resource(operation: str, params: dict) -> object:
        asked.append((operation, params))
        return {"conversation_id": params["conversation_id"], "status": status.get(params["conversation_id"])}

    assert found.find({"conversation_id": ["c1"]}, resource).name == "stopped"
    assert len(asked) == 1  # one answer asked for, shared by every stream of that operation and id
    status["c1"] = "RUNNING"  # POST .../start, say
    assert found.find({"conversation_id": ["c1"]}, resource).name == "started"
    assert found.find({"conversation_id": ["c2"]}, resource).name == "any-running"
    assert found.find({"conversation_id": ["c3"]}, resource).name == "fallback"  # status None
    assert found.find({"conversation_id": ["c1"]}).name == "fallback"  # no way to ask: state streams never match
    assert found.find({}, resource).name == "fallback"  # no id in the handshake: nothing to ask about


def test_a_state_needs_a_get_operation(tmp_path):
    (tmp_path / "s.yaml").write_text("stream: s\nstate: {status: RUNNING}\nevents: []\n")
    with pytest.raises(DocumentError) as caught:
        load_streams(str(tmp_path), SPEC)
    assert caught.value.pointer == "/state" and "needs `operation:`" in caught.value.reason


def test_the_resource_is_the_mocks_current_answer_asked_in_process():
    from mockserver.serve.events.mount import _resource
    from tests.support import CONVERSATIONS_FIXTURES

    config = Config(spec=CONVERSATIONS, fixtures=CONVERSATIONS_FIXTURES, api_key="k-1234")
    mock = build_mock(config)
    answer = _resource(lambda: mock, config)
    body = answer("GET /api/conversations/{conversation_id}", {"conversation_id": "running"})
    assert body["conversation_id"] == "running" and body["status"] == "RUNNING"  # with the key: not a 401
    assert answer("GET /nowhere", {}) is None
