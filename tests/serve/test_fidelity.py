"""Mock fidelity on real-world contract shapes (issue 9): one test per defect, each on a minimal contract of its own
(tests/contracts/fidelity/*.yaml, or inline), each failing before the fix."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import yaml

from mockserver.contract.spec import load_spec
from mockserver.serve.config import Config
from mockserver.serve.data.generation import POOL
from mockserver.serve.pipeline.core import build_mock
from tests.support import ROOT

FIDELITY = ROOT / "tests" / "contracts" / "fidelity"
FIELD_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")


def _contract(tmp_path: Path, document: dict[str, Any]) -> str:
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def _validator(spec_path: str, path: str, method: str, status: str, media: str = "application/json") -> Any:
    spec = load_spec(spec_path)
    op = next(o for o in spec.operations if o.path == path and o.method == method)
    schema = op.responses[status].content[media].schema
    return jsonschema_rs.validator_for(spec.schemas.standalone(schema), validate_formats=True)


@pytest.fixture
def fidelity(client_factory: Callable[..., httpx.Client]) -> Callable[..., httpx.Client]:
    return lambda name, **options: client_factory(spec=str(FIDELITY / f"{name}.yaml"), **options)


# B1 routing ---------------------------------------------------------------------------------------------------------


def test_same_shape_templates_answer_with_the_one_that_has_the_method(fidelity):
    client = fidelity("routing")
    found = client.get("/items/sha256:abcdef12")
    assert found.status_code == 200, found.text
    assert found.json()["digest"] == "sha256:abcdef12"
    assert client.delete("/items/5").status_code == 204
    wrong = client.patch("/items/5")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE, GET"
    assert client.get("/users/ann/attestations/sha256:abc").status_code == 200
    assert client.delete("/users/ann/attestations/12").status_code == 204


def test_a_literal_segment_still_beats_templates_whatever_the_method(fidelity):
    client = fidelity("routing")
    assert isinstance(client.get("/items/mine").json(), list)
    refused = client.delete("/items/mine")  # /items/mine is its own resource: no DELETE there
    assert refused.status_code == 405 and refused.headers["allow"] == "GET"


# B2 overlapping oneOf -----------------------------------------------------------------------------------------------


def _events_contract(tmp_path: Path) -> str:
    def branch(i: int) -> dict[str, Any]:
        return {
            "type": "object",
            "title": f"Payload{i}",
            "required": ["action", f"field_{i}"],
            "properties": {
                "action": {"type": "string"},
                f"field_{i}": {"type": "string"},
                "number": {"type": "integer", "minimum": 1},
                "repository": {
                    "type": "object",
                    "required": ["id", "full_name"],
                    "properties": {"id": {"type": "integer"}, "full_name": {"type": "string"}},
                },
            },
        }

    payload = {"oneOf": [*(branch(i) for i in range(8)), {"title": "PublicEvent", "type": "object"}]}
    event = {
        "type": "object",
        "required": ["id", "payload"],
        "properties": {"id": {"type": "string"}, "payload": payload},
    }
    return _contract(
        tmp_path,
        {
            "openapi": "3.1.0",
            "info": {"title": "events", "version": "1"},
            "paths": {
                "/events/{event_id}": {
                    "get": {
                        "parameters": [
                            {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}
                        ],
                        "responses": {"200": {"description": "e", "content": {"application/json": {"schema": event}}}},
                    }
                }
            },
        },
    )


def test_one_of_with_a_catch_all_branch_answers_every_slot_with_a_valid_body(tmp_path, client_factory):
    spec = _events_contract(tmp_path)
    client = client_factory(spec=spec)
    valid = _validator(spec, "/events/{event_id}", "GET", "200")
    payloads = []
    for i in range(POOL * 2):
        response = client.get(f"/events/e{i}")
        assert response.status_code == 200, response.text[:300]
        assert valid.is_valid(response.json())
        payloads.append(response.json()["payload"])
    # every specific branch also fits the catch-all (a oneOf needs exactly one): only the catch-all can be answered,
    # and a free-form object says nothing of its keys, so readable mode invents none (issue 19: a client reading
    # invented keys breaks)
    assert all(p == {} for p in payloads)


def test_one_of_of_disjoint_branches_uses_every_branch(fidelity):
    client = fidelity("pets")
    channels = {client.get(f"/notifications/n{i}").json()["channel"] for i in range(40)}
    assert channels == {"email", "sms"}


# B3 writeOnly in responses ------------------------------------------------------------------------------------------

SECRETS = {"llm_api_key", "search_api_key", "sandbox_api_key"}


def test_write_only_properties_never_appear_in_responses(fidelity):
    client = fidelity("fastapi")
    settings = [client.get("/api/settings", params={"n": i}).json() for i in range(POOL)]
    assert any(isinstance(s, dict) and s for s in settings)
    # a nullable writeOnly property (FastAPI's `SecretStr | None`) may come back null, never with a value
    assert all(s.get(name) is None for s in settings if isinstance(s, dict) for name in SECRETS)
    stored = client.post("/api/settings", json={"llm_api_key": "sk-1", "language": "en"}, params={"dynamic": 1})
    assert stored.status_code == 200 and all(stored.json().get(name) is None for name in SECRETS)
    created = client.post("/users", json={"name": "ann", "password": "pw"})
    assert created.status_code == 201 and "password" not in created.json()
    for i in range(1, 10):
        assert "password" not in client.get(f"/users/{i}").json()


def test_a_required_write_only_property_is_warned_about_once_at_start_up():
    mock = build_mock(Config(spec=str(FIDELITY / "fastapi.yaml")))
    about = [w for w in mock.warnings if "'password'" in w]
    assert len(about) == 1
    assert "#/components/schemas/User" in about[0] and "writeOnly" in about[0]


def test_write_only_is_left_out_inside_all_of_any_of_and_definitions(tmp_path, client_factory):
    token = {"anyOf": [{"type": "string", "writeOnly": True}, {"type": "null"}]}
    base = {"type": "object", "required": ["id", "token"], "properties": {"id": {"type": "integer"}, "token": token}}
    account = {"allOf": [{"$ref": "#/components/schemas/Base"},
                         {"type": "object", "properties": {"pin": {"$ref": "#/components/schemas/Pin"}}}]}  # fmt: skip
    listing = {"type": "array", "minItems": 2, "items": {"oneOf": [{"$ref": "#/components/schemas/Account"},
                                                                   {"type": "string"}]}}  # fmt: skip
    spec = _contract(tmp_path, {
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/accounts": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": listing}}}}}}},
        "components": {"schemas": {"Base": base, "Account": account,
                                   "Pin": {"type": "string", "pattern": "^[0-9]{4}$", "writeOnly": True}}},
    })  # fmt: skip
    client = client_factory(spec=spec)
    accounts = [a for i in range(POOL) for a in client.get("/accounts", params={"i": i}).json() if isinstance(a, dict)]
    # `token` accepts null besides its writeOnly string: null is no leak (FastAPI's `SecretStr | None`), a value is
    assert accounts and all("id" in a and a.get("token") is None and "pin" not in a for a in accounts)


# B4 readOnly + required ---------------------------------------------------------------------------------------------


def test_read_only_required_properties_are_optional_in_requests(fidelity):
    client = fidelity("fastapi")
    assert client.post("/users", json={"name": "ann", "password": "pw"}).status_code == 201
    assert client.post("/users", json={"id": 4, "name": "ann", "password": "pw"}).status_code == 201
    missing = client.post("/users", json={"password": "pw"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body"]


# B5 non-JSON bodies -------------------------------------------------------------------------------------------------

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_form_bodies_are_validated_with_fields_typed_by_the_schema(fidelity):
    client = fidelity("media")
    ok = client.post("/oauth/token", content=b"grant_type=password&client_id=web&expires_in=3600&offline=true",
                     headers=FORM)  # fmt: skip
    assert ok.status_code == 200, ok.text
    bad_number = client.post("/oauth/token", content=b"grant_type=password&client_id=web&expires_in=soon",
                             headers=FORM)  # fmt: skip
    assert bad_number.status_code == 400 and bad_number.json()["error"] in ("invalid_request", "invalid_client",
                                                                            "invalid_grant")  # fmt: skip
    assert client.post("/oauth/token", content=b"grant_type=password", headers=FORM).status_code == 400
    both = client.put("/notes/3", content=b"title=Hi&body=there&pinned=false", headers=FORM)
    assert both.status_code == 415  # this operation documents JSON and XML only


def test_a_form_beside_json_is_read_as_a_form(fidelity):
    client = fidelity("fastapi")
    ok = client.post("/auth/token", content=b"username=ann&password=pw&remember_days=7", headers=FORM)
    assert ok.status_code == 200, ok.text
    bad = client.post("/auth/token", content=b"username=ann&password=pw&remember_days=700", headers=FORM)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "remember_days"]


def test_xml_text_multipart_and_binary_bodies_are_accepted_as_documented(fidelity):
    client = fidelity("media")
    xml = client.put("/notes/3", content=b"<note><title>Hi</title><body>there</body></note>",
                     headers={"content-type": "application/xml"})  # fmt: skip
    assert xml.status_code == 200, xml.text
    broken = client.put("/notes/3", content=b"<note><title>Hi</note>", headers={"content-type": "application/xml"})
    assert broken.status_code == 422 and "not well-formed" in broken.text
    entity = client.put("/notes/3", content=b'<!DOCTYPE n [<!ENTITY a "aaaa">]><note>&a;</note>',
                        headers={"content-type": "application/xml"})  # fmt: skip
    assert entity.status_code == 422
    assert client.post("/notes/import", content="hello", headers={"content-type": "text/plain"}).status_code == 202
    too_long = client.post("/notes/import", content="x" * 2001, headers={"content-type": "text/plain"})
    assert too_long.status_code == 422
    upload = client.post("/attachments", files={"file": ("a.txt", b"\x00\xff binary")}, data={"description": "d"})
    assert upload.status_code == 201, upload.text
    assert client.post("/attachments", data={"description": "no file"}, files={"x": ("x", b"")}).status_code == 422
    blob = client.post("/blobs", content=b"\x00\x01\x02", headers={"content-type": "application/octet-stream"})
    assert blob.status_code == 201


def test_only_an_undocumented_media_type_is_a_415(fidelity):
    client = fidelity("media")
    refused = client.post("/notes/import", content=b"a,b", headers={"content-type": "text/csv"})
    assert refused.status_code == 415
    assert "text/plain" in refused.text


def test_an_xml_only_answer_is_xml(fidelity):
    response = fidelity("media").get("/notes/3/export")
    assert response.headers["content-type"] == "application/xml"
    root = ElementTree.fromstring(response.content)
    assert root.tag == "note" and root.find("title") is not None


# B6 discriminators --------------------------------------------------------------------------------------------------


def test_a_discriminator_picks_the_branch_of_a_request_body(fidelity):
    client = fidelity("pets")
    dog = {"pet_type": "Dog", "bark": True, "breed": "Husky", "name": "Rex"}
    assert client.post("/pets", json=dog).status_code == 201
    assert client.post("/pets", json={"pet_type": "Cat", "hunts": True, "name": "Tom"}).status_code == 201
    wrong_breed = client.post("/pets", json={"pet_type": "Dog", "breed": "Poodle", "name": "Rex"})
    assert wrong_breed.status_code == 422  # a Dog, by its tag, whatever a Cat would accept
    assert client.post("/pets", json={"pet_type": "Fish", "name": "Nemo"}).status_code == 422
    assert client.post("/pets/tagged", json={**dog, "pet_type": "dog"}).status_code == 201
    assert client.post("/pets/tagged", json={**dog, "pet_type": "puppy"}).status_code == 201
    assert client.post("/pets/tagged", json=dog).status_code == 422  # with a mapping, "Dog" is not a tag


def test_generated_answers_set_the_discriminator_of_their_branch(tmp_path, client_factory):
    source = yaml.safe_load((FIDELITY / "pets.yaml").read_text())
    source["paths"]["/pets/{pet_id}"] = {"get": {
        "parameters": [{"name": "pet_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "a pet", "content": {"application/json": {"schema": {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "pet_type"}}}}}}}}  # fmt: skip
    spec = _contract(tmp_path, source)
    client = client_factory(spec=spec)
    loaded = load_spec(spec)
    branches = {name: jsonschema_rs.validator_for(loaded.schemas.standalone({"$ref": f"#/$defs/{name}"}))
                for name in ("Cat", "Dog")}  # fmt: skip
    seen = set()
    for i in range(POOL):
        response = client.get(f"/pets/{i}")
        assert response.status_code == 200, response.text[:300]
        pet = response.json()
        assert pet["pet_type"] in branches and branches[pet["pet_type"]].is_valid(pet)
        seen.add(pet["pet_type"])
    assert seen == {"Cat", "Dog"}


# B7 the contract's default for the mock's own errors ---------------------------------------------------------------

AUTH = {"Authorization": "Bearer token"}


def test_the_mocks_own_errors_take_the_contracts_default_schema(fidelity):
    client = fidelity("defaults")
    error = _validator(str(FIDELITY / "defaults.yaml"), "/orders", "POST", "default")
    answers = {
        422: client.post("/orders", json={"item": ""}, headers=AUTH),
        401: client.post("/orders", json={"item": "tea", "quantity": 1}),
        405: client.delete("/orders", headers=AUTH),
        415: client.post("/orders", content=b"item=tea", headers={**AUTH, "content-type": "text/plain"}),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json", response.text
        body = response.json()
        assert error.is_valid(body), body
        assert body["code"] == status and body["message"]
    assert answers[405].headers["allow"] == "GET, POST"
    assert answers[401].headers["www-authenticate"].startswith("Bearer")
    assert "quantity" in answers[422].json()["message"] or "item" in answers[422].json()["message"]


# B8/B9 header values ------------------------------------------------------------------------------------------------


def _header_checks(spec: str) -> dict[tuple[str, str, str], Any]:
    loaded = load_spec(spec)
    return {
        (op.key, status, name.lower()): jsonschema_rs.validator_for(loaded.schemas.standalone(schema),
                                                                    validate_formats=True)
        for op in loaded.operations for status, r in op.responses.items() for name, (_, schema) in r.headers.items()
    }  # fmt: skip


def _typed(text: str) -> Any:
    return int(text) if text.isdigit() else text


@pytest.mark.parametrize("edge_cases", [False, True])
def test_header_values_are_valid_short_and_of_their_format(fidelity, edge_cases):
    spec = str(FIDELITY / "types31.yaml")
    checks = _header_checks(spec)
    client = fidelity("types31", edge_cases=edge_cases)
    for i in range(POOL):
        for key, response in (("GET /nodes/{node_id}", client.get(f"/nodes/n{i}")),
                              ("POST /dags", client.post("/dags", json={"dag_id": "abc", "is_paused": False},
                                                         params={"i": i}))):  # fmt: skip
            status = str(response.status_code)
            documented = {name for (k, s, name) in checks if k == key and s == status}
            assert documented, response.text[:200]
            for name in documented:
                if name not in response.headers:
                    continue
                value = response.headers[name]
                assert FIELD_VALUE.fullmatch(value) and len(value) <= 200, (name, value)
                assert checks[(key, status, name)].is_valid(_typed(value)), (name, value)
            assert "etag" in response.headers or key == "POST /dags"
    assert client.post("/dags", json={"dag_id": "abc", "is_paused": False}).headers["location"].startswith("https://")


# Leniency ----------------------------------------------------------------------------------------------------------


def test_nullable_true_in_a_31_document_accepts_null_in_requests(fidelity):
    client = fidelity("types31")
    assert client.put("/nodes/a", json={"label": None, "weight": None}).status_code == 200
    assert client.put("/nodes/a", json={"label": 5}).status_code == 422


# Realism ------------------------------------------------------------------------------------------------------------


def test_names_are_matched_as_whole_words(tmp_path, fidelity, client_factory):
    client = fidelity("fastapi")
    analyzers, images = set(), set()
    for i in range(POOL):
        settings = client.get("/api/settings", params={"i": i}).json() or {}
        analyzers.add(settings.get("security_analyzer"))
        images.add(settings.get("sandbox_runtime_container_image"))
    assert not any(isinstance(a, str) and a.startswith("http") for a in analyzers)
    assert not any(isinstance(i, str) and re.match(r"\d{4}-\d\d-\d\d", i) for i in images)
    repository = {"type": "object", "title": "Repository", "required": ["full_name"],
                  "properties": {"full_name": {"type": "string"}}}  # fmt: skip
    answer = {"description": "ok", "content": {"application/json": {"schema": repository}}}
    spec = _contract(tmp_path, {
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/repos/{r}": {"get": {"parameters": [{"name": "r", "in": "path", "required": True}],
                                         "responses": {"200": answer}}}},
    })  # fmt: skip
    names = {client_factory(spec=spec).get(f"/repos/r{i}").json()["full_name"] for i in range(8)}
    assert all(re.fullmatch(r"[a-z-]+/[a-z-]+", n) for n in names), names


def test_lists_have_one_to_five_items_and_counts_match(fidelity):
    client = fidelity("types31")
    for i in range(POOL):
        body = client.get("/dags", params={"offset": i}).json()
        assert 1 <= len(body["dags"]) <= 5
        assert body["total_entries"] == len(body["dags"])
    sizes = {len(client.get("/events", params={"page": i}).json()) for i in range(1, POOL)}
    assert sizes <= {1, 2, 3, 4, 5} and len(sizes) > 1


def test_limit_like_query_parameters_are_honoured(fidelity):
    client = fidelity("types31")
    for limit in (1, 3, 12):
        body = client.get("/dags", params={"limit": limit}).json()
        assert len(body["dags"]) == limit and body["total_entries"] == limit
    assert len(client.get("/events", params={"per_page": 7}).json()) == 7
    shapes = fidelity("pets").get("/shapes", params={"limit": 9}).json()
    assert len(shapes["items"]) == 9 and shapes["total"] == 9


def test_timestamps_are_coherent(fidelity):
    client = fidelity("fastapi")
    pairs = [client.get(f"/users/{i}").json() for i in range(1, 60)]
    pairs = [(u["created_at"], u["updated_at"]) for u in pairs if "created_at" in u and "updated_at" in u]
    assert len(pairs) > 20
    assert all(created <= updated for created, updated in pairs)


def test_a_pattern_gives_readable_ascii_not_unicode_junk(tmp_path, client_factory):
    item = {"type": "object", "required": ["code", "sku"], "properties": {
        "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "sku": {"type": "string", "pattern": "[a-z]+"}}}  # fmt: skip
    spec = _contract(tmp_path, {
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/items/{i}": {"get": {"parameters": [{"name": "i", "in": "path", "required": True}],
                  "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": item}}}}}}},
    })  # fmt: skip
    client = client_factory(spec=spec)
    for i in range(POOL):
        body = client.get(f"/items/{i}").json()
        assert re.fullmatch(r"[A-Z]{3}-[0-9]{4}", body["code"])
        assert body["sku"].isascii() and body["sku"].isprintable(), body


# Start-up noise ----------------------------------------------------------------------------------------------------


def _examples_contract(tmp_path: Path, count: int) -> str:
    examples = {f"bad{i}": {"value": {"n": "not a number"}} for i in range(count)}
    examples["stamp"] = {"value": {"n": 1, "at": "yesterday"}}
    schema = {"type": "object", "required": ["n"],
              "properties": {"n": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}}  # fmt: skip
    return _contract(tmp_path, {
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/n": {"get": {"responses": {"200": {"description": "x", "content": {
            "application/json": {"schema": schema, "examples": examples}}}}}}},
    })  # fmt: skip


def test_invalid_examples_are_one_summary_line_and_verbose_lists_them(tmp_path, capsys):
    from mockserver.cli import main

    spec = _examples_contract(tmp_path, 30)
    assert main(["fixtures", "check", spec]) == 0
    quiet = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(quiet) == 1 and "31 contract examples not served" in quiet[0] and "--verbose" in quiet[0]
    assert main(["fixtures", "check", spec, "--verbose"]) == 0
    assert len([line for line in capsys.readouterr().err.splitlines() if "not served" in line]) == 31


def test_an_example_invalid_only_by_format_can_be_served(tmp_path, client_factory):
    spec = _examples_contract(tmp_path, 1)
    assert client_factory(spec=spec).get("/n", headers={"Prefer": "example=stamp"}).status_code == 400
    served = client_factory(spec=spec, serve_invalid_format_examples=True).get(
        "/n", headers={"Prefer": "example=stamp"}
    )
    assert served.status_code == 200 and served.json() == {"n": 1, "at": "yesterday"}
    assert (
        client_factory(spec=spec, serve_invalid_format_examples=True)
        .get("/n", headers={"Prefer": "example=bad0"})
        .status_code
        == 400
    )  # a wrong type is still not served


def test_edge_case_header_values_on_the_large_contract_are_valid():
    """Every operation of the 1,000-operation contract that documents response headers (ETag, Last-Modified,
    Location), one valid request each, with --edge-cases: every header value is a short, valid HTTP field value."""
    from starlette.testclient import TestClient

    from bench.fidelity import requests_for
    from mockserver.contract.spec import load_spec
    from mockserver.serve.app import create_app
    from mockserver.serve.pipeline.core import Mock
    from tests.support import rich_contract

    large = rich_contract(1000)
    spec = load_spec(large)
    config = Config(spec=str(large), request_log=False, edge_cases=True)
    client = TestClient(create_app(config, Mock(spec, {}, config)), base_url="http://mock")
    with_headers = [r for r in requests_for(spec) if any(x.headers for x in r[0].responses.values())]
    assert len(with_headers) == 200
    seen = 0
    for op, path, body, headers in with_headers:
        response = client.request(op.method, path, content=body or None, headers=headers)
        assert 200 <= response.status_code < 300, response.text[:300]
        for name in (h for r in op.responses.values() for h in r.headers):
            if name in response.headers:
                seen += 1
                value = response.headers[name]
                assert FIELD_VALUE.fullmatch(value) and len(value) <= 200, (op.key, name, value)
    assert seen >= 300  # ETag and Location are required; Last-Modified mostly present


def test_a_contract_example_that_shows_a_write_only_property_is_served_without_it(tmp_path, client_factory):
    source = yaml.safe_load((FIDELITY / "fastapi.yaml").read_text())
    source["paths"]["/users/{user_id}"]["get"]["responses"]["200"]["content"]["application/json"]["example"] = {
        "id": 7, "name": "Ann", "password": "hunter2", "created_at": "2025-01-01T00:00:00Z"
    }  # fmt: skip
    client = client_factory(spec=_contract(tmp_path, source))
    assert client.get("/users/7").json() == {"id": 7, "name": "Ann", "created_at": "2025-01-01T00:00:00Z"}
