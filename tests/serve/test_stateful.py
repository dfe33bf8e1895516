"""`--stateful`: collections inferred from the contract, seeded from fixtures, bounded, deterministic ids, writeOnly
never answered, the contract's not-found answer after a delete; and `POST /__mock/reset`."""

from __future__ import annotations

import pytest

from mockserver.contract.spec import load_spec
from mockserver.serve.pipeline.collection import CREATE, LIST, READ, REMOVE, UPDATE, infer
from tests.support import CONVERSATIONS, CONVERSATIONS_FIXTURES, KEY_HEADER, SHOP

KEY = {KEY_HEADER: "k"}
BASE = "/api/conversations"
POSTED = {
    "title": "Migrate to Vite",
    "selected_repository": "acme/web-app",
    "selected_branch": "chore/vite",
    "git_provider": "gitlab",
    "llm_api_key": "sk-very-secret-value",
}


@pytest.fixture
def stateful(client_factory):
    return client_factory(spec=CONVERSATIONS, fixtures=CONVERSATIONS_FIXTURES, stateful=True)


def test_collections_are_inferred_from_the_contract():
    (conversations,) = infer(load_spec(CONVERSATIONS))
    assert conversations.name == BASE and conversations.id_param == "conversation_id"
    assert conversations.operations == {
        f"GET {BASE}/{{conversation_id}}": READ, f"POST {BASE}": CREATE, f"GET {BASE}": LIST,
        f"PATCH {BASE}/{{conversation_id}}": UPDATE, f"DELETE {BASE}/{{conversation_id}}": REMOVE,
    }  # fmt: skip
    assert conversations.write_only == {"llm_api_key"} and conversations.id_field == "conversation_id"
    (pets,) = infer(load_spec(SHOP))
    assert pets.name == "/pets" and pets.id_integer and pets.id_field == "id"


def test_post_then_get_returns_what_was_posted_minus_write_only(stateful):
    created = stateful.post(BASE, json=POSTED, headers=KEY)
    assert created.status_code == 200 and created.headers["x-mock-source"] == "state"
    body = created.json()
    assert body["status"] == "ok" and body["conversation_status"] == "STARTING"  # shaped by the POST fixture
    new_id = body["conversation_id"]
    got = stateful.get(f"{BASE}/{new_id}", headers=KEY)
    assert got.headers["x-mock-source"] == "state"
    item = got.json()
    assert item["conversation_id"] == new_id
    assert {k: item[k] for k in POSTED if k != "llm_api_key"} == {k: v for k, v in POSTED.items() if k != "llm_api_key"}
    assert item.get("llm_api_key") is None and "sk-very-secret-value" not in got.text  # null at most: no leak
    listed = stateful.get(BASE, headers=KEY).json()
    assert listed["results"][0]["conversation_id"] == new_id  # newest first
    assert "running" in [r["conversation_id"] for r in listed["results"]] and listed["next_page_id"] is None


def test_delete_then_get_gives_the_contracts_not_found(stateful):
    new_id = stateful.post(BASE, json={"title": "t"}, headers=KEY).json()["conversation_id"]
    deleted = stateful.delete(f"{BASE}/{new_id}", headers=KEY)
    assert deleted.status_code == 200 and deleted.json() is True
    gone = stateful.get(f"{BASE}/{new_id}", headers=KEY)
    assert gone.status_code == 200 and gone.json() is None  # this contract's not-found: 200 null
    assert stateful.delete(f"{BASE}/{new_id}", headers=KEY).json() is False
    assert new_id not in [r["conversation_id"] for r in stateful.get(BASE, headers=KEY).json()["results"]]


def test_a_seeded_item_can_be_deleted_and_its_fixture_does_not_come_back(stateful):
    assert stateful.get(f"{BASE}/running", headers=KEY).json()["title"] == "Fix flaky login test"
    stateful.delete(f"{BASE}/running", headers=KEY)
    assert stateful.get(f"{BASE}/running", headers=KEY).json() is None
    assert stateful.post("/__mock/reset").status_code == 200
    assert stateful.get(f"{BASE}/running", headers=KEY).json()["title"] == "Fix flaky login test"


def test_patch_updates_what_get_returns(stateful):
    new_id = stateful.post(BASE, json={"title": "before"}, headers=KEY).json()["conversation_id"]
    assert stateful.patch(f"{BASE}/{new_id}", json={"title": "after"}, headers=KEY).json() is True
    assert stateful.get(f"{BASE}/{new_id}", headers=KEY).json()["title"] == "after"
    assert stateful.patch(f"{BASE}/nope", json={"title": "x"}, headers=KEY).json() is False


def test_an_unknown_id_is_not_found_and_sequences_still_play(stateful):
    assert stateful.get(f"{BASE}/never-created", headers=KEY).json() is None
    statuses = [stateful.get(f"{BASE}/warming-up", headers=KEY).json()["status"] for _ in range(4)]
    assert statuses == ["STARTING", "STARTING", "RUNNING", "RUNNING"]


def test_ids_are_deterministic_from_the_seed(client_factory):
    def ids(seed: int) -> list[str]:
        client = client_factory(spec=CONVERSATIONS, fixtures=CONVERSATIONS_FIXTURES, stateful=True, seed=seed)
        return [client.post(BASE, json={"title": "t"}, headers=KEY).json()["conversation_id"] for _ in range(3)]

    first = ids(0)
    assert first == ids(0) and first != ids(1) and len(set(first)) == 3
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in first)


def test_reset_gives_the_same_ids_again(stateful):
    first = stateful.post(BASE, json={"title": "t"}, headers=KEY).json()["conversation_id"]
    stateful.post("/__mock/reset")
    assert stateful.post(BASE, json={"title": "t"}, headers=KEY).json()["conversation_id"] == first


def test_collections_are_bounded_oldest_out(client_factory):
    client = client_factory(spec=CONVERSATIONS, fixtures=CONVERSATIONS_FIXTURES, stateful=True, state_size=3)
    made = [client.post(BASE, json={"title": f"n{i}"}, headers=KEY).json()["conversation_id"] for i in range(4)]
    listed = [r["conversation_id"] for r in client.get(BASE, headers=KEY).json()["results"]]
    assert listed == made[::-1][:3]
    assert client.get(f"{BASE}/{made[0]}", headers=KEY).json() is None
    assert client.get(f"{BASE}/running", headers=KEY).json() is None  # the seed was the oldest


def test_list_honours_limit(stateful):
    for i in range(3):
        stateful.post(BASE, json={"title": f"n{i}"}, headers=KEY)
    assert len(stateful.get(f"{BASE}?limit=2", headers=KEY).json()["results"]) == 2
    assert len(stateful.get(f"{BASE}?per_page=1", headers=KEY).json()["results"]) == 1  # as generated lists do


def test_a_documented_404_after_delete_on_a_richer_contract(client_factory):
    client = client_factory(spec=SHOP, stateful=True)
    auth = {"Authorization": "Bearer t"}
    created = client.post("/v1/pets", json={"name": "Rex", "kind": "dog"}, headers={"Cookie": "session=s"})
    assert created.status_code == 201 and created.headers["x-mock-source"] == "state"
    pet = created.json()
    assert pet["name"] == "Rex" and pet["kind"] == "dog" and isinstance(pet["id"], int)
    basic = {"Authorization": "Basic dTpw"}
    assert client.get(f"/v1/pets/{pet['id']}", headers=basic).json() == pet
    assert [p["name"] for p in client.get("/v1/pets", headers=auth).json()] == ["Rex"]
    assert client.delete(f"/v1/pets/{pet['id']}", headers=auth).status_code == 204
    gone = client.get(f"/v1/pets/{pet['id']}", headers=basic)
    assert gone.status_code == 404 and gone.headers["x-mock-source"] == "state"
    assert {"title", "status"} <= gone.json().keys()


def test_prefer_and_overrides_still_win_over_state(stateful):
    assert stateful.get(f"{BASE}/running", headers={**KEY, "Prefer": "code=422"}).status_code == 422
    stateful.post("/__mock/overrides", json={"operation": f"GET {BASE}/{{conversation_id}}", "prefer": "branch=null"})
    assert stateful.get(f"{BASE}/running", headers=KEY).json() is None


def test_state_view_and_reset_clear_everything(stateful):
    stateful.post(BASE, json={"title": "t"}, headers=KEY)
    stateful.post("/__mock/overrides", json={"operation": f"GET {BASE}", "prefer": "code=422"})
    stateful.get(f"{BASE}/warming-up", headers=KEY)
    (collection,) = stateful.get("/__mock/state").json()["collections"]
    assert len(collection["items"]) == 2 and all(i.get("llm_api_key") is None for i in collection["items"])
    assert stateful.post("/__mock/reset").json()["reset"] == ["state", "overrides", "sequences", "journal"]
    assert len(stateful.get("/__mock/state").json()["collections"][0]["items"]) == 1  # the seed again
    assert stateful.get("/__mock/overrides").json()["overrides"] == []
    assert stateful.get("/__mock/requests").json()["total"] == 0
    assert stateful.get(f"{BASE}/warming-up", headers=KEY).json()["status"] == "STARTING"  # from the start


USERS = """
openapi: 3.1.0
info: {title: users, version: '1'}
paths:
  /users:
    post:
      requestBody: {required: true, content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}
      responses:
        '201': {description: made, content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}
  /users/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: one, content: {application/json: {schema: {$ref: '#/components/schemas/User'}}}}
components:
  schemas:
    User:
      type: object
      required: [id, name, password]
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        password: {type: string, writeOnly: true}
"""


def test_a_required_write_only_property_is_never_answered(tmp_path, client_factory):
    # The contract cannot have both; the mock's other answers leave it out (and warn), so state does too
    (tmp_path / "users.yaml").write_text(USERS)
    client = client_factory(spec=str(tmp_path / "users.yaml"), stateful=True)
    created = client.post("/users", json={"name": "ann", "password": "hunter22"})
    assert created.status_code == 201 and created.headers["x-mock-source"] == "state"
    assert created.json()["name"] == "ann" and "password" not in created.json() and "hunter22" not in created.text
    got = client.get(f"/users/{created.json()['id']}")
    assert got.json() == created.json() and "hunter22" not in got.text
