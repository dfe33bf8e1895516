"""Fixture sequences: several answers served in turn per request identity, then repeat-last, cycle or 404."""

from __future__ import annotations

import pytest

from mockserver.contract.documents import DocumentError
from mockserver.contract.spec import load_spec
from mockserver.serve.pipeline.fixtures import load_fixtures
from tests.support import CONVERSATION, KEY_HEADER, SHOP

KEY = {KEY_HEADER: "k"}
OP = "operation: GET /api/conversations/{conversation_id}\n"


def _body(status: str) -> str:
    return f"{{conversation_id: s, title: t, status: {status}}}"


def _sequence(then: str, match: str = "match: {path: {conversation_id: s}}\n") -> str:
    return (
        OP + match + f"responses:\n  - body: {_body('STARTING')}\n  - body: {_body('RUNNING')}\n"
        f"  - body: {_body('STOPPED')}\nthen: {then}\n"
    )


@pytest.mark.parametrize(
    "then, expected",
    [
        ("repeat-last", ["STARTING", "RUNNING", "STOPPED", "STOPPED", "STOPPED"]),
        ("cycle", ["STARTING", "RUNNING", "STOPPED", "STARTING", "RUNNING"]),
    ],
)
def test_a_sequence_advances_per_request(client_factory, tmp_path, then, expected):
    (tmp_path / "s.yaml").write_text(_sequence(then))
    client = client_factory(fixtures=str(tmp_path))
    answers = [client.get(CONVERSATION + "s", headers=KEY) for _ in expected]
    assert [a.json()["status"] for a in answers] == expected
    assert {a.headers["x-mock-source"] for a in answers} == {"fixture"}
    notes = [e["note"] for e in client.get("/__mock/requests").json()["requests"]]
    assert notes[:3] == ["s (1/3)", "s (2/3)", "s (3/3)"]


def test_each_request_identity_has_its_own_position(client_factory, tmp_path):
    (tmp_path / "s.yaml").write_text(_sequence("repeat-last", match=""))  # matches every id
    client = client_factory(fixtures=str(tmp_path))
    a = [client.get(CONVERSATION + "a", headers=KEY).json()["status"] for _ in range(2)]
    b = client.get(CONVERSATION + "b", headers=KEY).json()["status"]
    controlled = client.get(CONVERSATION + "a?__delay=0", headers=KEY).json()["status"]  # controls are not identity
    assert a == ["STARTING", "RUNNING"] and b == "STARTING" and controlled == "STOPPED"


def test_then_404_needs_a_documented_404(tmp_path):
    (tmp_path / "s.yaml").write_text(_sequence("404"))
    with pytest.raises(DocumentError) as caught:
        load_fixtures(str(tmp_path), load_spec(None))
    assert caught.value.pointer == "/then" and "documents no 404" in str(caught.value)


def test_then_404_answers_the_contracts_404_after_the_last_step(client_factory, tmp_path):
    (tmp_path / "s.yaml").write_text(
        "operation: GET /pets/{petId}\nmatch: {path: {petId: '3'}}\nresponses:\n"
        "  - body: {id: 3, name: Tom, kind: cat, lives: 9}\n  - body: {id: 3, name: Tom, kind: cat, lives: 8}\n"
        "then: 404\n"
    )
    client = client_factory(spec=SHOP, fixtures=str(tmp_path))
    auth = {"Authorization": "Basic dTpw"}
    answers = [client.get("/v1/pets/3", headers=auth) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 404]
    assert answers[1].json()["lives"] == 8 and {"title", "status"} <= answers[2].json().keys()


@pytest.mark.parametrize(
    "text, pointer",
    [
        (OP + "responses: []\n", "/responses"),
        (OP + f"response: {{body: {_body('RUNNING')}}}\nresponses: [{{body: null}}]\n", "/responses"),
        (OP + "response: {body: null}\nthen: cycle\n", "/then"),
        (OP + "responses: [{body: null}]\nthen: forever\n", "/then"),
        (OP + f"responses:\n  - body: {_body('RUNNING')}\n  - body: {_body('PAUSED')}\n", "/responses/1/body/status"),
        (OP + "responses:\n  - {status: 200, body: null}\n  - {status: 418}\n", "/responses/1/status"),
    ],
)
def test_a_bad_sequence_names_file_and_pointer(tmp_path, text, pointer):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(DocumentError) as caught:
        load_fixtures(str(tmp_path), load_spec(None))
    assert caught.value.pointer == pointer and caught.value.file.endswith("bad.yaml")


def test_the_builtin_sequence_goes_starting_then_running(client):
    seen = [client.get(CONVERSATION + "starting-then-running", headers=KEY).json() for _ in range(4)]
    assert [s["status"] for s in seen] == ["STARTING", "STARTING", "RUNNING", "RUNNING"]
    assert [s["runtime_status"] for s in seen] == [None, "STATUS$BUILDING_RUNTIME", "STATUS$READY", "STATUS$READY"]


def test_prefer_example_serves_a_sequence_in_turn_too(client):
    pick = {**KEY, "Prefer": "example=starting-then-running"}
    assert [client.get(CONVERSATION + "x", headers=pick).json()["status"] for _ in range(3)] == [
        "STARTING", "STARTING", "RUNNING",
    ]  # fmt: skip
