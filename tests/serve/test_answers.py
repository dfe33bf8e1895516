"""The producer: a `Decision` in, an immutable `Answer` out. It never decides, so each test hands it a decision and
checks the bytes: generated bodies (echo only when the result stays valid), generated headers, a 4xx made from
violations shaped to the contract's schema, examples, null, fixtures, problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.contract.spec import Operation, Spec, load_spec
from mockserver.serve.data.generation import Generator
from mockserver.serve.pipeline import problems
from mockserver.serve.pipeline.answer import Answer, from_fixture, problem_answer
from mockserver.serve.pipeline.fixtures import load_fixtures
from mockserver.serve.pipeline.negotiation import (
    EMPTY,
    EXAMPLE,
    FIXTURE,
    FROM_ERROR,
    FROM_EXAMPLE,
    FROM_FIXTURE,
    FROM_GENERATED,
    GENERATE,
    INVALID,
    NULL,
    PROBLEM,
    Decision,
)
from mockserver.serve.pipeline.producer import Producer

JSON = "application/json"
CONTRACT = """
openapi: 3.1.0
info: {title: producer, version: '1'}
paths:
  /things/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: a thing, with headers
          headers:
            X-Rate: {required: true, schema: {type: integer, minimum: 1, maximum: 9}}
            X-Tags: {schema: {type: array, minItems: 1, maxItems: 2, items: {type: string, enum: [red, blue]}}}
            Content-Type: {schema: {type: string, enum: [text/html]}}
          content:
            application/json: {schema: {$ref: '#/components/schemas/Thing'}}
            text/plain: {schema: {type: string}}
        '201':
          description: one or many
          content:
            application/json:
              schema:
                oneOf:
                  - {$ref: '#/components/schemas/Thing'}
                  - {type: array, items: {$ref: '#/components/schemas/Thing'}}
        '202':
          description: a thing whose id must also start with x
          content:
            application/json:
              schema:
                allOf: [{$ref: '#/components/schemas/Thing'}, {properties: {id: {pattern: '^x'}}}]
        '204': {description: nothing}
        '400':
          description: FastAPI's shape
          content:
            application/json:
              schema:
                type: object
                required: [detail]
                additionalProperties: false
                properties: {detail: {type: array}}
        '409':
          description: a problem document
          content:
            application/problem+json:
              schema:
                type: object
                required: [type, title, status, errors]
                properties: {status: {const: 409}, errors: {type: array}}
        '422':
          description: message and errors
          content:
            application/json:
              schema:
                type: object
                required: [message, errors]
                additionalProperties: false
                properties: {message: {type: string}, errors: {type: array}}
        '423':
          description: none of the shapes fit
          content:
            application/json:
              schema:
                type: object
                required: [code]
                additionalProperties: false
                properties: {code: {type: integer}}
        '424': {description: no body}
        '500':
          description: impossible
          content:
            application/json: {schema: {type: string, minLength: 5, maxLength: 2}}
components:
  schemas:
    Thing:
      type: object
      required: [id, name]
      additionalProperties: false
      properties: {id: {type: string, maxLength: 4}, name: {type: string}}
"""
DETAIL = [{"loc": ["query", "n"], "msg": "Field required", "type": "missing"}]


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Spec:
    path: Path = tmp_path_factory.mktemp("producer") / "api.yaml"
    path.write_text(CONTRACT)
    return load_spec(path)


@pytest.fixture(scope="module")
def op(spec: Spec) -> Operation:
    return spec.operations[0]


@pytest.fixture
def producer(spec: Spec) -> Producer:
    return Producer(spec.schemas, Generator(spec.schemas, seed=3))


def valid(spec: Spec, op: Operation, status: str, media: str, value: Any) -> bool:
    schema = op.responses[status].content[media].schema
    return bool(jsonschema_rs.validator_for(spec.schemas.standalone(schema)).is_valid(value))


def generate(status: str, slot: int = 0, media: str | None = JSON, **more: Any) -> Decision:
    return Decision(GENERATE, int(status), FROM_GENERATED, status, media, slot=slot, **more)


def test_generated_bodies_are_valid_and_carry_generated_headers(spec, op, producer):
    for slot in range(8):
        answer = producer.produce(op, generate("200", slot), {})
        assert (answer.status, answer.source, answer.media, answer.delay_ms) == (200, FROM_GENERATED, JSON, None)
        assert valid(spec, op, "200", JSON, json.loads(answer.body))
        headers = dict(answer.headers)
        assert set(headers) == {"X-Rate", "X-Tags"}  # Content-Type is the media type's, never generated
        assert 1 <= int(headers["X-Rate"]) <= 9
        assert set(headers["X-Tags"].split(",")) <= {"red", "blue"}  # OpenAPI's `simple` style: comma-separated


def test_the_same_decision_gives_the_same_bytes(op, spec):
    one = Producer(spec.schemas, Generator(spec.schemas, seed=3)).produce(op, generate("200", 5), {})
    two = Producer(spec.schemas, Generator(spec.schemas, seed=3)).produce(op, generate("200", 5), {})
    assert one == two


def test_a_path_parameter_is_echoed_only_when_the_body_stays_valid(spec, op, producer):
    assert json.loads(producer.produce(op, generate("200"), {"id": "ab"}).body)["id"] == "ab"
    too_long = json.loads(producer.produce(op, generate("200"), {"id": "abcdefgh"}).body)
    assert too_long["id"] != "abcdefgh" and valid(spec, op, "200", JSON, too_long)  # maxLength 4
    plain = producer.produce(op, generate("200"), {}).body
    assert producer.produce(op, generate("200"), {"zz": "ab"}).body == plain  # no field of that name


def test_echo_into_a_composed_schema_validates_the_whole_body(spec, op, producer):
    assert json.loads(producer.produce(op, generate("202"), {"id": "xy"}).body)["id"] == "xy"
    kept = json.loads(producer.produce(op, generate("202"), {"id": "ab"}).body)  # fails the allOf's pattern
    assert kept["id"] != "ab" and valid(spec, op, "202", JSON, kept)


def test_a_branch_decision_generates_from_that_branch(spec, op, producer):
    many = json.loads(producer.produce(op, generate("201", branch=1), {"id": "ab"}).body)
    one = json.loads(producer.produce(op, generate("201", branch=0), {}).body)
    assert isinstance(many, list) and isinstance(one, dict)
    assert valid(spec, op, "201", JSON, many) and valid(spec, op, "201", JSON, one)


def test_text_media_is_sent_as_text(op, producer):
    answer = producer.produce(op, generate("200", media="text/plain"), {})
    assert answer.media == "text/plain" and not answer.body.startswith(b'"')


def test_no_content_or_no_documented_response_is_an_empty_body(op, producer):
    empty = producer.produce(op, generate("204", media=None), {})
    assert (empty.status, empty.body, empty.media) == (204, b"", None)
    undocumented = producer.produce(op, Decision(GENERATE, 503, FROM_ERROR), {})
    assert (undocumented.status, undocumented.body, undocumented.media, undocumented.source) == (
        503, b"", None, FROM_ERROR
    )  # fmt: skip


def test_a_schema_nothing_satisfies_gets_the_closest_value_said_once(op, producer):
    # issue 21: never the mock's own 500 for a contract's mistake: the closest value, and a note (a start-up warning)
    answer = producer.produce(op, generate("500"), {})
    assert (answer.status, answer.media) == (500, JSON) and isinstance(json.loads(answer.body), str)
    producer.produce(op, generate("500", slot=3), {})
    said = [n for n in producer.generator.notes if "GET /things/{id}|500|application/json" in n]
    assert len(said) == 1 and "no value satisfies" in said[0]


@pytest.mark.parametrize(
    ("status", "media", "expected"),
    [
        ("400", JSON, {"detail": DETAIL}),
        ("409", problems.PROBLEM_JSON, {**problems.INVALID_REQUEST.body(errors=DETAIL), "status": 409}),
        ("422", JSON, {"message": problems.INVALID_REQUEST.default, "errors": DETAIL}),
    ],
)
def test_violations_are_shaped_to_the_contracts_schema(spec, op, producer, status, media, expected):
    decision = Decision(INVALID, int(status), FROM_ERROR, status, media, value=DETAIL)
    answer = producer.produce(op, decision, {})
    assert (answer.status, answer.media, answer.source) == (int(status), media, FROM_ERROR)
    assert json.loads(answer.body) == expected
    assert valid(spec, op, status, media, expected)


def test_violations_no_shape_fits_get_a_body_valid_against_the_schema(spec, op, producer):
    answer = producer.produce(op, Decision(INVALID, 423, FROM_ERROR, "423", JSON, value=DETAIL), {})
    assert valid(spec, op, "423", JSON, json.loads(answer.body))
    bare = producer.produce(op, Decision(INVALID, 424, FROM_ERROR, "424", None, value=DETAIL), {})
    assert (bare.status, bare.body, bare.media) == (424, b"", None)


def test_examples_null_and_empty(op, producer):
    thing = {"id": "a", "name": "b"}
    example = producer.produce(op, Decision(EXAMPLE, 200, FROM_EXAMPLE, "200", JSON, value=thing), {})
    assert (example.body, example.source) == (b'{"id":"a","name":"b"}', FROM_EXAMPLE)
    assert set(dict(example.headers)) == {"X-Rate", "X-Tags"}  # a documented response's headers, whatever the body
    text = producer.produce(op, Decision(EXAMPLE, 200, FROM_EXAMPLE, "200", "text/plain", value="plain words"), {})
    assert text.body == b"plain words"
    null = producer.produce(op, Decision(NULL, 200, FROM_GENERATED, "200", JSON), {})
    assert (null.body, null.media) == (b"null", JSON)
    empty = producer.produce(op, Decision(EMPTY, 200, FROM_GENERATED, headers=(("X-A", "1"),)), {})
    assert empty == Answer(200, b"", FROM_GENERATED, None, (("X-A", "1"),))


def test_problems_carry_their_members_and_headers(op, producer):
    decision = Decision(PROBLEM, 400, FROM_ERROR, problem=problems.BAD_PREFER, detail="no", extra=(("available", []),),
                        headers=(("X-Why", "because"),))  # fmt: skip
    answer = producer.produce(op, decision, {})
    assert answer == problem_answer(problems.BAD_PREFER, "no", (("X-Why", "because"),), available=[])
    assert json.loads(answer.body) == {
        "type": "https://mockserver.invalid/problems/bad-prefer",
        "title": "Bad Request",
        "status": 400,
        "detail": "no",
        "available": [],
    }


def test_fixtures_are_sent_as_loaded_with_their_media_headers_and_delay(spec, op, producer, tmp_path):
    (tmp_path / "f.yaml").write_text(
        "operation: GET /things/{id}\nname: teapot\nresponse:\n  status: 200\n  delay_ms: 40\n"
        "  headers: {Content-Type: application/vnd.thing+json, X-Rate: 3}\n  body: {id: t, name: pot}\n"
    )
    fixture = load_fixtures(str(tmp_path), spec)[op.key].by_name["teapot"]
    answer = producer.produce(op, Decision(FIXTURE, 200, FROM_FIXTURE, fixture=fixture), {})
    assert answer == from_fixture(fixture)
    assert answer == Answer(200, b'{"id":"t","name":"pot"}', FROM_FIXTURE, "application/vnd.thing+json",
                            (("X-Rate", "3"),), 40)  # fmt: skip


def test_a_decisions_delay_reaches_the_answer(op, producer):
    assert producer.produce(op, generate("200")._replace(delay_ms=75), {}).delay_ms == 75
    assert producer.produce(op, Decision(NULL, 200, FROM_GENERATED, "200", JSON, delay_ms=0), {}).delay_ms == 0


def test_answers_are_immutable(op, producer):
    answer = producer.produce(op, generate("200"), {})
    with pytest.raises(AttributeError):  # a named tuple: no attribute can be set
        answer.status = 500  # type: ignore[misc]


def test_a_decision_it_cannot_produce_is_refused(op, producer):
    with pytest.raises(ValueError, match="cannot produce a 'surprise' decision"):
        producer.produce(op, Decision("surprise", 200, FROM_GENERATED, "200", JSON), {})


ECHO_CONTRACT = """
openapi: 3.1.0
info: {title: echo, version: '1'}
paths:
  /things/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: plain, content: {application/json: {schema: {$ref: '#/components/schemas/Plain'}}}}
        '201': {description: short ids, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
        '202':
          description: whole body decides
          content:
            application/json:
              schema:
                allOf: [{$ref: '#/components/schemas/Plain'}, {properties: {id: {pattern: '^x'}}}]
  /owners/{owner}/things/{n}:
    get:
      parameters:
        - {name: owner, in: path, required: true, schema: {type: string}}
        - {name: n, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: two echoed fields, one an integer
          content:
            application/json:
              schema:
                type: object
                required: [owner, n, label]
                properties: {owner: {type: string}, n: {type: integer}, label: {type: string}}
components:
  schemas:
    Plain:
      type: object
      required: [id, name]
      properties: {id: {type: string}, name: {type: string}}
    Thing:
      type: object
      required: [id, name]
      properties: {id: {type: string, maxLength: 4}, name: {type: string}}
"""
IDS = st.one_of(
    st.text(max_size=12),  # quotes, backslashes, control characters, any plane
    st.sampled_from(["", "x", "xy", '"', "\\", "a\u2028b", "\x00", "\x7f", "é", "🚀", "xx" * 10]),
)


@pytest.fixture(scope="module")
def echo_spec(tmp_path_factory: pytest.TempPathFactory) -> Spec:
    path: Path = tmp_path_factory.mktemp("echo") / "api.yaml"
    path.write_text(ECHO_CONTRACT)
    return load_spec(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(id_=IDS, n=st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=3)), slot=st.integers(0, 40),
       status=st.sampled_from(["200", "201", "202"]))  # fmt: skip
def test_bodies_made_once_per_slot_are_the_bodies_the_value_gives(echo_spec, id_, n, slot, status):
    """The pool slot's bytes with echoed path parameters spliced in are exactly the bytes of the generated value with
    the echo applied (`Producer._echo`) and serialised: same fields, same order, same JSON escapes, same refusals."""
    one, many = echo_spec.operations
    fast = Producer(echo_spec.schemas, Generator(echo_spec.schemas, seed=5))
    slow = Producer(echo_spec.schemas, Generator(echo_spec.schemas, seed=5))
    for op, decision, coerced in (
        (one, generate(status, slot), {"id": id_}),
        (many, generate("200", slot), {"owner": id_, "n": n}),
        (many, generate("200", slot), {"n": n}),
    ):
        made = fast.produce(op, decision, coerced)
        assert made == fast.produce(op, decision, coerced)  # from the cached slot the second time
        plan = slow._plan(op, decision)
        assert made == slow._generated_value(decision, plan, coerced, {})  # the value, echoed, serialised


def test_an_echo_spliced_into_bytes_is_escaped_as_json(echo_spec):
    one, many = echo_spec.operations
    producer = Producer(echo_spec.schemas, Generator(echo_spec.schemas, seed=5))
    for id_ in ('a"b\\c\n', "日本", "\x00"):
        assert json.loads(producer.produce(one, generate("200", 3), {"id": id_}).body)["id"] == id_
    both = json.loads(producer.produce(many, generate("200", 3), {"owner": "ann", "n": 7}).body)
    assert (both["owner"], both["n"]) == ("ann", 7)
    kept = json.loads(producer.produce(many, generate("200", 3), {"owner": "ann", "n": "seven"}).body)
    assert kept["owner"] != "ann" and isinstance(kept["n"], int)  # one echo not valid: none of them
