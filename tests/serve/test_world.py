"""A world, not only a contract: auth modes, fixtures recorded without credentials, templated fixture bodies, fixtures
served only by name, several fixture folders, collection lists made of their item fixtures, singletons and the
effects (`state:`) fixtures declare. On a tiny inline contract."""

from __future__ import annotations

import pytest

from mockserver.contract.documents import DocumentError
from mockserver.serve.config import Config
from mockserver.serve.pipeline.core import build_mock

API = """
openapi: 3.1.0
info: {title: things, version: '1'}
security: [{key: []}]
paths:
  /things:
    get:
      parameters: [{name: limit, in: query, schema: {type: integer}}]
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Thing'}}}}
    post:
      requestBody: {content: {application/json: {schema: {type: object, properties: {name: {type: string}}}}}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Ack'}}}}
  /things/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
  /things/{id}/start:
    post:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Ack'}}}}
  /prefs:
    get:
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Prefs'}}}}
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Prefs'}}}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object}}}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
  schemas:
    Ack:
      type: object
      required: [status, id]
      properties: {status: {type: string}, id: {type: string}}
    Thing:
      type: object
      required: [id, name]
      properties:
        id: {type: string}
        name: {type: string}
        state: {type: string, enum: [STOPPED, STARTING, RUNNING]}
        url: {anyOf: [{type: string}, {type: 'null'}]}
        since: {type: string}
    Prefs:
      type: object
      properties:
        theme: {type: string, enum: [dark, light]}
        token: {anyOf: [{type: string, writeOnly: true}, {type: 'null'}]}
"""

THINGS = {
    "alpha.yaml": """
operation: GET /things/{id}
match: {path: {id: alpha}}
response: {body: {id: alpha, name: Alpha, state: STOPPED, url: null}}
""",
    "beta.yaml": """
operation: GET /things/{id}
match: {path: {id: beta}}
response: {body: {id: beta, name: Beta, state: RUNNING, url: /things/beta}}
""",
    "start.yaml": """
operation: POST /things/{id}/start
response: {body: {status: ok, id: "{{path.id}}"}}
state:
  set: {state: STARTING, since: "{{now}}"}
  then:
    - {after_ms: 0, set: {state: RUNNING, url: "/things/{{path.id}}"}}
    - {after_ms: 3600000, set: {name: much later}}
""",
    "create.yaml": """
operation: POST /things
response: {body: {status: ok, id: new}}
state:
  set: {name: "{{body.name}}", state: STARTING}
""",
    "prefs.yaml": """
operation: GET /prefs
response: {body: {theme: dark, token: null}}
""",
    "prefs-light.yaml": """
operation: GET /prefs
name: light
when: named
response: {body: {theme: light}}
""",
}


def folder(tmp_path, files, name="fixtures"):
    root = tmp_path / name
    root.mkdir(exist_ok=True)
    for file, text in files.items():
        (root / file).write_text(text)
    return str(root)


@pytest.fixture
def api(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(API)
    return str(path)


def test_auth_is_enforced_as_declared_unless_off(client_factory, api, tmp_path):
    fixtures = folder(tmp_path, THINGS)
    enforced = client_factory(spec=api, fixtures=fixtures)
    assert enforced.get("/things/alpha").status_code == 401
    assert enforced.get("/things/alpha", headers={"X-Key": "k"}).status_code == 200
    off = client_factory(spec=api, fixtures=fixtures, auth="off")
    assert off.get("/things/alpha").json()["name"] == "Alpha"


def test_an_unknown_auth_mode_is_one_clear_line(api, capsys):
    from mockserver.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["serve", api, "--auth", "maybe"])
    assert stopped.value.code == 2
    assert "--auth" in capsys.readouterr().err


def test_a_fixture_recorded_without_credentials_is_served_without_them(client_factory, api, tmp_path):
    keyless = {"alpha.yaml": THINGS["alpha.yaml"] + "auth: none\n"}
    client = client_factory(spec=api, fixtures=folder(tmp_path, keyless))
    assert client.get("/things/alpha").status_code == 200  # the real server answered it without a key
    assert client.get("/things/other").status_code == 401  # nothing says so for another id


def test_a_fixture_body_takes_the_request_s_path_parameters(client_factory, api, tmp_path):
    client = client_factory(spec=api, fixtures=folder(tmp_path, THINGS), auth="off")
    assert client.post("/things/zeta/start").json() == {"status": "ok", "id": "zeta"}
    assert client.post("/things/eta/start").json() == {"status": "ok", "id": "eta"}


def test_a_named_fixture_is_served_only_when_asked_for(client_factory, api, tmp_path):
    client = client_factory(spec=api, fixtures=folder(tmp_path, THINGS), auth="off")
    assert client.get("/prefs").json()["theme"] == "dark"
    assert client.get("/prefs", headers={"Prefer": "example=light"}).json() == {"theme": "light"}


def test_several_fixture_folders_are_one_set_and_a_name_twice_names_both_files(client_factory, api, tmp_path):
    one = folder(tmp_path, {"alpha.yaml": THINGS["alpha.yaml"]}, "one")
    two = folder(tmp_path, {"beta.yaml": THINGS["beta.yaml"]}, "two")
    client = client_factory(spec=api, fixtures=[one, two], auth="off")
    assert {client.get(f"/things/{i}").json()["name"] for i in ("alpha", "beta")} == {"Alpha", "Beta"}
    again = folder(tmp_path, {"alpha.yaml": THINGS["alpha.yaml"]}, "three")
    with pytest.raises(DocumentError, match="already used by") as caught:
        build_mock(Config(spec=api, fixtures=[one, again]))
    assert "three" in str(caught.value) and "one" in str(caught.value)


def test_without_stateful_a_list_is_made_of_its_item_fixtures(client_factory, api, tmp_path):
    client = client_factory(spec=api, fixtures=folder(tmp_path, THINGS), auth="off")
    listed = client.get("/things").json()
    assert {t["id"] for t in listed} == {"alpha", "beta"}
    for thing in listed:
        assert client.get(f"/things/{thing['id']}").json() == thing
    assert len(client.get("/things", params={"limit": 1}).json()) == 1


def test_an_action_sets_fields_now_and_plays_its_later_steps_when_read(client_factory, api, tmp_path):
    client = client_factory(spec=api, fixtures=folder(tmp_path, THINGS), auth="off", stateful=True)
    assert client.post("/things/alpha/start").json() == {"status": "ok", "id": "alpha"}
    alpha = client.get("/things/alpha").json()  # the 0 ms step is due: played at this read
    assert (alpha["state"], alpha["url"], alpha["name"]) == ("RUNNING", "/things/alpha", "Alpha")  # not the 1 h one
    assert alpha["since"].endswith("Z")  # {{now}}
    listed = {t["id"]: t for t in client.get("/things").json()}
    assert listed["alpha"] == alpha
    assert client.post("/things/nobody/start").json()["id"] == "nobody"  # no item: answered, nothing changes


def test_a_created_item_takes_the_create_fixture_s_state(client_factory, api, tmp_path):
    client = client_factory(spec=api, fixtures=folder(tmp_path, THINGS), auth="off", stateful=True)
    answer = client.post("/things", json={"name": "Gamma"})
    created = answer.json()
    assert answer.status_code == 200, answer.text
    assert created["status"] == "ok" and created["id"] != "new"  # the new id, echoed
    item = client.get(f"/things/{created['id']}").json()
    assert (item["name"], item["state"]) == ("Gamma", "STARTING")


def test_a_singleton_answers_what_was_posted_and_never_a_secret(client_factory, api, tmp_path):
    client = client_factory(spec=api, fixtures=folder(tmp_path, THINGS), auth="off", stateful=True)
    assert client.get("/prefs").json() == {"theme": "dark", "token": None}  # the fixture, as written
    client.post("/prefs", json={"theme": "light", "token": "s3cret-value", "other": 1})
    answer = client.get("/prefs")
    assert answer.json() == {"theme": "light"}  # writeOnly: left out
    assert "s3cret-value" not in answer.text
    client.post("/prefs", json={"theme": "purple"})  # not in the enum: that field stays as it was
    assert client.get("/prefs").json()["theme"] == "light"
    client.post("/__mock/reset")
    assert client.get("/prefs").json()["theme"] == "dark"


@pytest.mark.parametrize(
    ("state", "pointer", "reason"),
    [
        ("state: {set: {}}", "/state/set", "non-empty mapping"),
        ("state: {then: [{after_ms: -1, set: {a: 1}}]}", "/state/then/0/after_ms", "integer from 0"),
        ("state: {then: [{set: {a: '{{nope}}'}}]}", "/state/then/0/set/a", "unknown template name"),
        ("state: {sett: {a: 1}}", "/state/sett", "unknown key"),
        ("state: {}", "/state", "sets nothing"),
    ],
)
def test_a_bad_state_section_is_refused_with_its_pointer(api, tmp_path, state, pointer, reason):
    files = {"start.yaml": "operation: POST /things/{id}/start\nresponse: {body: {status: ok, id: x}}\n" + state}
    with pytest.raises(DocumentError) as caught:
        build_mock(Config(spec=api, fixtures=folder(tmp_path, files)))
    assert caught.value.pointer == pointer and reason in caught.value.reason


def test_generated_items_are_the_same_in_the_list_and_in_their_detail(client_factory, api, tmp_path):
    states = {name: text for name, text in THINGS.items() if name in ("alpha.yaml", "beta.yaml")}
    client = client_factory(spec=api, fixtures=folder(tmp_path, states), auth="off", seed=3)
    detail = client.get("/things/zzz-unknown").json()
    assert detail["id"] == "zzz-unknown"
    assert detail["url"] == "/things/zzz-unknown"  # points at the mock itself, relative
    assert (detail["state"], detail["url"] is None) in {("STOPPED", False), ("RUNNING", False)}  # a fixture's state
    assert client.get("/things/zzz-unknown").json() == detail  # the same every time


def test_a_generated_list_holds_each_item_as_its_detail_answers_it(client_factory, api, tmp_path):
    client = client_factory(spec=api, fixtures=folder(tmp_path, {}), auth="off")
    listed = client.get("/things").json()
    assert listed
    for item in listed:
        assert client.get(f"/things/{item['id']}").json() == item
        assert item["url"] == f"/things/{item['id']}"


def test_the_recorder_notes_an_answer_served_without_credentials_and_replay_needs_none(tmp_path, client_factory):
    from tests.serve import openhands_upstream as oh
    from tests.serve.test_recorder import exchange, recorder

    rec = recorder(tmp_path)
    rec.submit(exchange("running", body=oh.CONVERSATIONS["running"], secrets=()))  # no credential was sent
    rec.submit(exchange("stopped", body=oh.CONVERSATIONS["running"] | {"conversation_id": "stopped"},
                        secrets=(oh.KEY,)))  # fmt: skip
    rec.close()
    recorded = {p.stem.split("--")[0]: p.read_text() for p in tmp_path.rglob("*.yaml")}
    assert "auth: none" in recorded["running"] and "auth: none" not in recorded["stopped"]
    client = client_factory(fixtures=str(tmp_path))
    assert client.get("/api/conversations/running").status_code == 200  # as the upstream answered it: no key
    assert client.get("/api/conversations/stopped").status_code == 401  # that one was answered to a key


def test_a_free_form_object_is_answered_empty_not_with_invented_keys(client_factory):
    client = client_factory(spec="contracts/openhands/openapi.json", fixtures="", auth="off")
    assert client.get("/api/options/config").json() == {}  # {type: object, additionalProperties: true}
    typed = client.get("/api/settings").json()["secrets_store"]["custom_secrets"]  # dict[str, str]: still filled
    assert isinstance(typed, dict)
