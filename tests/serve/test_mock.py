"""The framework-free core: a `MockRequest` in, an `Outcome` out, no HTTP. Routing, security, validation, Prefer and
what the journal is told (operation, secrets, note)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.serve.config import Config
from mockserver.serve.pipeline import problems
from mockserver.serve.pipeline import recipe as recipe_module
from mockserver.serve.pipeline.core import Mock, MockRequest, Outcome, build_mock

CONTRACT = """
openapi: 3.1.0
info: {title: core, version: '1'}
servers: [{url: 'http://127.0.0.1:9/api'}]
paths:
  /pets:
    get:
      parameters: [{name: limit, in: query, schema: {type: integer, maximum: 10}}]
      security: [{bearer: []}, {key: []}]
      responses:
        '200':
          description: pets
          content:
            application/json:
              schema: {type: array, maxItems: 3, items: {$ref: '#/components/schemas/Pet'}}
        '422':
          description: invalid
          content:
            application/json:
              schema:
                type: object
                required: [detail]
                properties:
                  detail:
                    type: array
                    items:
                      type: object
                      required: [loc, msg, type]
                      properties:
                        loc: {type: array, items: {anyOf: [{type: string}, {type: integer}]}}
                        msg: {type: string}
                        type: {type: string}
    post:
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
              examples:
                rex: {value: {petId: 1, name: Rex}}
  /pets/{petId}:
    get:
      parameters: [{name: petId, in: path, required: true, schema: {type: integer, minimum: 1}}]
      security: [{cookie: []}]
      responses:
        '200':
          description: one pet
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    key: {type: apiKey, in: header, name: X-Key}
    cookie: {type: apiKey, in: cookie, name: sid}
  schemas:
    Pet:
      type: object
      required: [petId, name]
      properties: {petId: {type: integer, minimum: 1}, name: {type: string, minLength: 1}}
"""
FIXTURE = """
operation: GET /pets/{petId}
name: slow-rex
match: {path: {petId: '1'}}
response: {delay_ms: 300, body: {petId: 1, name: Rex}}
"""
KEY = {"x-key": "key-1234"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("core")
    (folder / "api.yaml").write_text(CONTRACT)
    (folder / "fixtures").mkdir()
    (folder / "fixtures" / "rex.yaml").write_text(FIXTURE)
    return folder


@pytest.fixture(scope="module")
def mock(folder: Path) -> Mock:
    return build_mock(Config(spec=str(folder / "api.yaml"), fixtures=str(folder / "fixtures")))


def handle(mock: Mock, method: str, path: str, **parts: Any) -> Outcome:
    return mock.handle(MockRequest(method, path.encode(), **parts))


def body(outcome: Outcome) -> Any:
    return json.loads(outcome.answer.body)


def test_a_path_the_contract_lacks_is_404_listing_its_paths(mock):
    for path in ("/api/nothing", "/pets"):  # the second misses the servers' prefix
        outcome = handle(mock, "GET", path, headers=KEY)
        assert (outcome.answer.status, outcome.answer.media) == (404, problems.PROBLEM_JSON)
        assert body(outcome)["paths"] == ["/pets", "/pets/{petId}"]
        assert (outcome.operation, outcome.note, outcome.secrets) == ("", "no operation matches", ())


def test_a_method_the_path_lacks_is_405_with_allow(mock):
    outcome = handle(mock, "DELETE", "/api/pets", headers=KEY)
    assert outcome.answer.status == 405
    assert outcome.answer.headers == (("Allow", "GET, POST"),)
    assert body(outcome)["allowed"] == ["GET", "POST"]
    assert outcome.note == "DELETE not offered; allowed: GET, POST"


def test_missing_credentials_are_401_with_a_challenge_for_the_http_scheme(mock):
    outcome = handle(mock, "GET", "/api/pets")
    answer = outcome.answer
    assert (answer.status, answer.source, outcome.operation) == (401, "error", "GET /pets")
    assert answer.headers == (("WWW-Authenticate", 'Bearer realm="mockserver"'),)
    assert body(outcome)["detail"] == "Send credentials: Authorization: Bearer … or header X-Key"
    assert outcome.secrets == ()


def test_an_apikey_only_operation_gets_no_challenge(mock):
    outcome = handle(mock, "GET", "/api/pets/2")
    assert outcome.answer.status == 401 and outcome.answer.headers == ()


def test_credentials_are_collected_for_redaction_wherever_they_travel(mock):
    assert handle(mock, "GET", "/api/pets", headers=KEY).secrets == ("key-1234",)
    bearer = handle(mock, "GET", "/api/pets", headers={"authorization": "Bearer tok-5678"})
    assert (bearer.answer.status, bearer.secrets) == (200, ("tok-5678",))
    cookie = handle(mock, "GET", "/api/pets/2", cookies={"sid": "c00kie"})
    assert (cookie.answer.status, cookie.secrets) == (200, ("c00kie",))


def test_a_wrong_key_is_refused_and_still_collected(folder):
    strict = build_mock(Config(spec=str(folder / "api.yaml"), fixtures="", api_key="right-key"))
    wrong = handle(strict, "GET", "/api/pets", headers={"x-key": "wrong-key"})
    assert (wrong.answer.status, wrong.secrets) == (401, ("wrong-key",))
    assert handle(strict, "GET", "/api/pets", headers={"x-key": "right-key"}).answer.status == 200


def test_a_422_holds_fastapi_style_detail_items(mock):
    outcome = handle(mock, "GET", "/api/pets", query={"limit": ["50"]}, headers=KEY)
    assert (outcome.answer.status, outcome.answer.source, outcome.answer.media) == (422, "error", "application/json")
    (item,) = body(outcome)["detail"]
    assert item["loc"] == ["query", "limit"] and item["type"] == "value_error" and "maximum" in item["msg"]
    assert outcome.note == f"query/limit: {item['msg']}"


def test_too_many_query_parameters_is_the_first_violation(mock):
    outcome = handle(mock, "GET", "/api/pets", query={"limit": ["x"]}, headers=KEY, too_many_query=True)
    detail = body(outcome)["detail"]
    assert detail[0] == {"loc": ["query"], "msg": "Too many query parameters", "type": "value_error.too_many"}
    assert detail[1]["loc"] == ["query", "limit"]


def test_body_and_path_violations(mock):
    missing = handle(mock, "POST", "/api/pets")
    assert missing.answer.status == 422  # no documented 422: the mock's own problem, with the errors
    assert body(missing)["errors"] == [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
    not_utf8 = handle(mock, "GET", "/api/pets/%ff", cookies={"sid": "c00kie"})
    assert body(not_utf8)["errors"][0]["loc"] == ["path", "petId"]
    assert body(not_utf8)["errors"][0]["type"] == "value_error.encoding"


def test_security_is_checked_before_validation(mock):
    assert handle(mock, "GET", "/api/pets", query={"limit": ["abc"]}).answer.status == 401


def test_prefer_delay_sets_the_answer_delay_capped_at_the_maximum(folder, mock):
    assert handle(mock, "GET", "/api/pets", headers={**KEY, "prefer": "delay=250"}).answer.delay_ms == 250
    capped = build_mock(Config(spec=str(folder / "api.yaml"), fixtures="", max_delay_ms=1000))
    assert handle(capped, "GET", "/api/pets", headers={**KEY, "prefer": "delay=99999"}).answer.delay_ms == 1000
    assert handle(mock, "GET", "/api/pets", headers=KEY).answer.delay_ms is None  # the configured latency applies


def test_a_fixture_brings_its_delay_and_name(mock):
    outcome = handle(mock, "GET", "/api/pets/1", cookies={"sid": "c00kie"})
    assert (outcome.answer.status, outcome.answer.source, outcome.answer.delay_ms) == (200, "fixture", 300)
    assert body(outcome) == {"petId": 1, "name": "Rex"}
    assert outcome.note == "slow-rex"
    overridden = handle(mock, "GET", "/api/pets/1", cookies={"sid": "c00kie"}, headers={"prefer": "delay=5"})
    assert overridden.answer.delay_ms == 5


def test_the_note_names_the_example_or_the_refusal(mock):
    pet = b'{"petId":2,"name":"B"}'
    example = handle(mock, "POST", "/api/pets", headers={"content-type": "application/json"}, body=pet)
    assert (example.answer.status, example.answer.source, example.note) == (201, "example", "rex")
    refused = handle(mock, "GET", "/api/pets", headers={**KEY, "prefer": "code=abc"})
    assert refused.answer.status == 400
    assert refused.note == "code must be a 3-digit HTTP status, got 'abc'" == body(refused)["detail"]


def test_generated_bodies_echo_the_typed_path_parameter_and_are_deterministic(mock):
    first = handle(mock, "GET", "/api/pets/7", cookies={"sid": "c00kie"})
    assert first.answer.source == "generated" and first.note == ""
    assert body(first)["petId"] == 7  # an integer, as the schema says, not "7"
    again = handle(mock, "GET", "/api/pets/7", cookies={"sid": "other"})
    assert again.answer.body == first.answer.body  # credentials take no part in the choice


def test_error_rate_injects_500_and_503_named_after_the_operation(folder):
    faulty = build_mock(Config(spec=str(folder / "api.yaml"), fixtures="", error_rate=1.0))
    outcomes = [handle(faulty, "GET", "/api/pets") for _ in range(40)]  # not even security comes first
    assert {o.answer.status for o in outcomes} == {500, 503}
    assert {o.operation for o in outcomes} == {"GET /pets"} and {o.answer.source for o in outcomes} == {"error"}
    assert handle(faulty, "GET", "/api/elsewhere").answer.status == 404  # a route miss is never faulted


RECIPE_CONTRACT = """
openapi: 3.1.0
info: {title: shapes, version: '1'}
paths:
  /things/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: verbose, in: query, schema: {type: boolean}}
      security: [{key: []}]
      responses:
        '200':
          description: a thing or nothing
          content:
            application/json:
              schema: {anyOf: [{$ref: '#/components/schemas/Thing'}, {type: 'null'}]}
  /others/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: another, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
  schemas:
    Thing:
      type: object
      required: [id, name]
      properties: {id: {type: string}, name: {type: string}}
"""
RECIPE_FIXTURE = """
operation: GET /things/{id}
name: known
match: {path: {id: known}}
response: {body: {id: known, name: Known}}
"""


def test_a_known_request_shape_is_answered_as_the_whole_pipeline_answers_it(tmp_path: Path, monkeypatch):
    """Requests that differ only in their path reuse how the first was decided (`Recipe`); every answer is the one
    a mock that never reuses anything gives, whatever the path: fixtures, other operations, bad escapes,
    preferences, an override added later."""
    (tmp_path / "api.yaml").write_text(RECIPE_CONTRACT)
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "known.yaml").write_text(RECIPE_FIXTURE)
    config = Config(spec=str(tmp_path / "api.yaml"), fixtures=str(tmp_path / "fixtures"))
    reusing, fresh = build_mock(config), build_mock(config)
    shapes = [
        ({"x-key": "k-1234"}, {}, b""),
        ({"x-key": "k-1234", "prefer": "dynamic=false"}, {}, b""),
        ({"x-key": "k-1234", "prefer": "branch=0"}, {}, b""),
        ({"x-key": "k-1234"}, {"verbose": ["true"]}, b"verbose=true"),
        ({"x-key": "k-1234"}, {"verbose": ["nope"]}, b"verbose=nope"),  # a 422 every time: nothing to reuse
        ({}, {}, b""),  # a 401 every time
    ]
    paths = ["/things/a", "/things/b", "/things/known", "/things/%FF", "/others/a", "/things/b%20c", "/others/z"]
    reused: list[Outcome] = []
    answer = recipe_module.Recipe.answer

    def counted(self: Any, *args: Any) -> Outcome | None:
        outcome = answer(self, *args)
        reused.extend([outcome] if outcome is not None else [])
        return outcome

    monkeypatch.setattr(recipe_module.Recipe, "answer", counted)
    for round_ in range(3):
        if round_ == 2:  # an override applies at once, recipes or not
            item = {"operation": "GET /things/{id}", "params": {"id": "b"}, "prefer": "code=200, dynamic=false"}
            for mock in (reusing, fresh):
                mock.store.add_override(dict(item))
        for headers, query, query_string in shapes:
            for path in paths:
                shape = ("GET", query_string, tuple(sorted(headers.items())))
                got = reusing.handle(MockRequest("GET", path.encode(), query, headers, shape=shape))
                want = fresh.handle(MockRequest("GET", path.encode(), query, headers))
                assert got == want, (path, headers, query)
    assert not fresh.recipes and len(reusing.recipes) == 4 + 5  # /things: 4 shapes generate; /others: all 5
    assert len(reused) >= 20 and {o.answer.source for o in reused} == {"generated"}
