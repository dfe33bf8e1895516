"""`negotiate()` and its neighbours without HTTP: a tiny contract, `Facts.of(...)`, and the `Decision` each line of
the precedence in serve/negotiation.py gives (test_negotiation.py covers the same list over HTTP)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mockserver.contract.spec import Operation, Spec, load_spec
from mockserver.serve.pipeline import problems
from mockserver.serve.pipeline.fixtures import FixtureIndex, load_fixtures
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
    NEVER,
    NULL,
    PER_REQUEST,
    PER_SHAPE,
    PROBLEM,
    Decision,
    Facts,
    choose_media,
    default_status,
    fault,
    invalid,
    negotiate,
    unauthorized,
)
from mockserver.serve.pipeline.preferences import Preferences

JSON, TEXT = "application/json", "text/plain"
SLOT = 7
CONTRACT = """
openapi: 3.1.0
info: {title: negotiation, version: '1'}
paths:
  /things/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      security: [{key: []}, {bearer: []}]
      responses:
        '200':
          description: a thing, or null
          content:
            application/json:
              schema:
                anyOf: [{$ref: '#/components/schemas/Thing'}, {type: 'null'}]
              examples:
                first: {value: {id: a, name: Alpha}}
                second: {value: {id: b, name: Beta}}
            text/plain:
              schema: {type: string}
              examples:
                plain: {value: a thing}
        '404':
          description: missing
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Problem'}
              examples:
                gone: {value: {message: gone}}
        4XX:
          description: any other client error
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Problem'}
  /strict/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      security: [{key: []}]
      responses:
        '204': {description: nothing}
        '201':
          description: one thing or many, never null
          content:
            application/json:
              schema:
                oneOf:
                  - {$ref: '#/components/schemas/Thing'}
                  - {type: array, items: {$ref: '#/components/schemas/Thing'}}
        '401':
          description: who are you
          content:
            application/json:
              schema: {type: object, required: [detail], properties: {detail: {type: string}}}
        '422':
          description: invalid
          content:
            application/json:
              schema: {type: object, required: [detail], properties: {detail: {type: array}}}
            application/xml:
              schema: {type: string}
        '500':
          description: broken
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Problem'}
  /empty:
    get:
      responses: {}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
    bearer: {type: http, scheme: bearer}
  schemas:
    Thing:
      type: object
      required: [id, name]
      properties: {id: {type: string}, name: {type: string}}
    Problem:
      type: object
      required: [message]
      properties: {message: {type: string}}
"""
FIXTURES = {
    "alpha.yaml": "operation: GET /things/{id}\nmatch: {path: {id: a}}\nresponse: {body: {id: a, name: Fixture}}\n",
    "missing.yaml": "operation: GET /things/{id}\nmatch: {path: {id: z}}\n"
    "response: {status: 404, body: {message: z}}\n",
    "denied.yaml": "operation: GET /things/{id}\nwhen: unauthorized\nresponse: {body: {message: nope}}\n",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Spec, dict[str, FixtureIndex]]:
    folder: Path = tmp_path_factory.mktemp("negotiation")
    (folder / "api.yaml").write_text(CONTRACT)
    (folder / "fixtures").mkdir()
    for name, text in FIXTURES.items():
        (folder / "fixtures" / name).write_text(text)
    spec = load_spec(folder / "api.yaml")
    return spec, load_fixtures(str(folder / "fixtures"), spec)


def examples(op: Operation) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        status: {media: dict(obj.examples) for media, obj in response.content.items() if obj.examples}
        for status, response in op.responses.items()
        if any(obj.examples for obj in response.content.values())
    }


@pytest.fixture(scope="module")
def facts(world: tuple[Spec, dict[str, FixtureIndex]]) -> Callable[..., Facts]:
    spec, indexes = world

    def make(path: str, *, fixtures: bool = True, with_examples: bool = True, fixtures_only: bool = False) -> Facts:
        op = spec.find(f"GET {path}")
        assert op is not None
        index = indexes.get(op.key) if fixtures else None
        return Facts.of(op, spec.schemas, index, examples(op) if with_examples else {}, fixtures_only)

    return make


class Slot:
    """The pool slot callable, counting its calls: negotiation must ask for it only when data is generated."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return SLOT


def decide(facts: Facts, accept: str | None = None, id: str = "q", **prefs: Any) -> tuple[Decision, int]:
    slot = Slot()
    headers = {"accept": accept} if accept else {}
    return negotiate(facts, Preferences(**prefs), {"id": id}, {}, headers, slot), slot.calls


def bad_prefer(decision: Decision, *fragments: str) -> None:
    assert (decision.kind, decision.status, decision.source, decision.problem) == (
        PROBLEM, 400, FROM_ERROR, problems.BAD_PREFER
    )  # fmt: skip
    for fragment in fragments:
        assert fragment in (decision.detail or "")


# 3. Prefer: example=NAME -------------------------------------------------------------------------------------------


def test_example_names_a_fixture(facts):
    decision, calls = decide(facts("/things/{id}"), id="other", example="alpha")
    assert (decision.kind, decision.status, decision.source, decision.note) == (FIXTURE, 200, FROM_FIXTURE, "alpha")
    assert decision.fixture is not None and decision.fixture.body == {"id": "a", "name": "Fixture"}
    assert calls == 0


def test_example_names_a_contract_example_of_any_status_and_media(facts):
    things = facts("/things/{id}")
    second, _ = decide(things, example="second")
    assert second == Decision(EXAMPLE, 200, FROM_EXAMPLE, "200", JSON, value={"id": "b", "name": "Beta"}, note="second")
    plain, _ = decide(things, example="plain")
    assert plain == Decision(EXAMPLE, 200, FROM_EXAMPLE, "200", TEXT, value="a thing", note="plain")
    gone, calls = decide(things, example="gone")
    assert gone == Decision(EXAMPLE, 404, FROM_EXAMPLE, "404", JSON, value={"message": "gone"}, note="gone")
    assert calls == 0


def test_example_with_code_must_belong_to_that_status(facts):
    things = facts("/things/{id}")
    assert decide(things, example="gone", code=404)[0].note == "gone"
    bad_prefer(decide(things, example="gone", code=200)[0], "no example or fixture named 'gone'")
    # the fixture `missing` answers 404: asked for with code=200 it is not a match either
    bad_prefer(decide(things, example="missing", code=200)[0], "'missing'")
    assert decide(things, example="missing", code=404)[0].kind == FIXTURE


def test_unknown_example_lists_fixtures_then_examples(facts):
    decision, _ = decide(facts("/things/{id}"), example="nope")
    bad_prefer(decision, "GET /things/{id} has no example or fixture named 'nope'")
    assert dict(decision.extra)["available"] == ["alpha", "denied", "missing", "first", "gone", "plain", "second"]


# 3. Prefer: code=NNN -----------------------------------------------------------------------------------------------


def test_code_documented_exactly_takes_its_fixture_then_its_example(facts):
    things = facts("/things/{id}")
    fixture, _ = decide(things, id="z", code=404)
    assert (fixture.kind, fixture.status, fixture.note) == (FIXTURE, 404, "missing")
    example, _ = decide(things, id="a", code=404)  # `alpha` is a 200: passed over
    assert (example.kind, example.status, example.response, example.note) == (EXAMPLE, 404, "404", "gone")


def test_code_documented_by_a_range_is_generated_from_the_range(facts):
    decision, calls = decide(facts("/things/{id}"), code=418)
    # `response` keeps the status asked for: it names the generated data's pool
    assert decision == Decision(GENERATE, 418, FROM_GENERATED, "418", JSON, slot=SLOT, reuse=PER_SHAPE)
    assert calls == 1


def test_code_undocumented_is_a_bad_prefer_listing_what_is(facts):
    decision, calls = decide(facts("/things/{id}"), code=500)
    bad_prefer(decision, "code=500 is not documented for GET /things/{id}")
    assert dict(decision.extra)["documented"] == ["200", "404", "4XX"]
    assert calls == 0


# 3. Prefer: branch=null|N ------------------------------------------------------------------------------------------


def test_branch_null_where_the_schema_allows_it(facts):
    decision, calls = decide(facts("/things/{id}"), id="a", branch=-1)  # even where a fixture matches
    assert decision == Decision(NULL, 200, FROM_GENERATED, "200", JSON, note="branch=null")
    assert calls == 0  # nothing is generated for null


def test_branch_null_where_the_schema_does_not_allow_it(facts):
    decision, calls = decide(facts("/strict/{id}"), branch=-1)
    bad_prefer(decision, "the 201 schema of GET /strict/{id} does not allow null")
    assert calls == 0


def test_branch_in_range_generates_that_branch(facts):
    decision, calls = decide(facts("/strict/{id}"), branch=1)
    assert decision == Decision(GENERATE, 201, FROM_GENERATED, "201", JSON, slot=SLOT, branch=1, reuse=PER_SHAPE)
    assert calls == 1


def test_branch_out_of_range(facts):
    decision, calls = decide(facts("/strict/{id}"), branch=2)
    bad_prefer(decision, "has 2 anyOf/oneOf branches", "branch=2 is out of range")
    assert calls == 0


def test_branch_of_a_status_without_a_body(facts):
    bad_prefer(decide(facts("/strict/{id}"), branch=0, code=204)[0], "status 204 of GET /strict/{id} has no schema")


# 3. Prefer: dynamic=true|false -------------------------------------------------------------------------------------


def test_dynamic_true_generates_even_where_a_fixture_and_examples_exist(facts):
    decision, calls = decide(facts("/things/{id}"), id="a", dynamic=True)
    assert decision == Decision(GENERATE, 200, FROM_GENERATED, "200", JSON, slot=SLOT, reuse=PER_SHAPE)
    assert calls == 1


def test_dynamic_false_keeps_fixtures_and_examples(facts):
    assert decide(facts("/things/{id}"), id="a", dynamic=False)[0].kind == FIXTURE
    assert decide(facts("/things/{id}"), id="q", dynamic=False)[0].kind == EXAMPLE


def test_dynamic_false_generates_from_slot_0_without_asking_for_the_slot(facts):
    decision, calls = decide(facts("/strict/{id}"), dynamic=False)
    assert decision == Decision(GENERATE, 201, FROM_GENERATED, "201", JSON, slot=0, reuse=PER_SHAPE)
    assert calls == 0


# 4-6. fixture, example, generated ----------------------------------------------------------------------------------


def test_a_matching_fixture_comes_first(facts):
    decision, calls = decide(facts("/things/{id}"), id="a")
    assert (decision.kind, decision.status, decision.source, decision.note) == (FIXTURE, 200, FROM_FIXTURE, "alpha")
    assert calls == 0


def test_then_the_first_example_for_the_media_type_asked_for(facts):
    things = facts("/things/{id}")
    first, calls = decide(things, id="q")
    assert first == Decision(EXAMPLE, 200, FROM_EXAMPLE, "200", JSON, value={"id": "a", "name": "Alpha"}, note="first")
    plain, _ = decide(things, accept="text/plain", id="q")
    assert (plain.media, plain.note, plain.value) == (TEXT, "plain", "a thing")
    assert calls == 0


def test_then_generated_data_from_the_request_slot(facts):
    things = facts("/things/{id}", with_examples=False)
    decision, calls = decide(things, accept="text/plain", id="q")
    assert decision == Decision(GENERATE, 200, FROM_GENERATED, "200", TEXT, slot=SLOT, reuse=PER_SHAPE)
    assert calls == 1


def test_no_responses_at_all_is_an_empty_200(facts):
    decision, calls = decide(facts("/empty"))
    assert decision == Decision(EMPTY, 200, FROM_GENERATED)
    assert calls == 0


def test_fixtures_only_miss_is_null_where_the_schema_allows_it(facts):
    things = facts("/things/{id}", with_examples=False, fixtures_only=True)
    decision, calls = decide(things, id="q")
    assert decision == Decision(NULL, 200, FROM_GENERATED, "200", JSON, note="no fixture")
    assert calls == 0
    assert decide(things, id="a")[0].kind == FIXTURE


def test_fixtures_only_miss_is_no_fixture_where_it_does_not(facts):
    decision, calls = decide(facts("/strict/{id}", fixtures_only=True))
    assert (decision.kind, decision.status, decision.problem) == (PROBLEM, 404, problems.NO_FIXTURE)
    assert calls == 0


def test_fixtures_only_still_honours_an_explicit_code(facts):
    decision, calls = decide(facts("/strict/{id}", fixtures_only=True), code=422)
    assert (decision.kind, decision.status, decision.slot) == (GENERATE, 422, SLOT)
    assert calls == 1


def test_fixtures_only_prefers_a_contract_example_to_null(facts):
    decision, _ = decide(facts("/things/{id}", fixtures_only=True), id="q")
    assert (decision.kind, decision.note) == (EXAMPLE, "first")


# 1. security: unauthorized() ---------------------------------------------------------------------------------------


def test_unauthorized_answers_the_unauthorized_fixture_first(facts):
    decision = unauthorized(facts("/things/{id}"), None)
    assert (decision.kind, decision.status, decision.source) == (FIXTURE, 401, FROM_FIXTURE)
    assert decision.note == "credentials missing or wrong (fixture denied)"  # the journal's reason, and which fixture


def test_unauthorized_fills_a_documented_401(facts):
    decision = unauthorized(facts("/strict/{id}"), "application/json")
    assert decision == Decision(INVALID, 401, FROM_ERROR, "401", JSON, problem=problems.UNAUTHORIZED,
                                detail="Send credentials: header X-Key",
                                note="credentials missing or wrong")  # fmt: skip


def test_unauthorized_fills_a_401_documented_by_a_range_with_its_challenge(facts):
    decision = unauthorized(facts("/things/{id}", fixtures=False), None)
    assert decision == Decision(INVALID, 401, FROM_ERROR, "4XX", JSON, problem=problems.UNAUTHORIZED,
                                detail="Send credentials: header X-Key or Authorization: Bearer …",
                                headers=(("WWW-Authenticate", 'Bearer realm="mockserver"'),),
                                note="credentials missing or wrong")  # fmt: skip


def undocumented(facts: Facts) -> Facts:
    """The same operation and security, with no response documented."""
    op = facts.operation
    return replace(facts, operation=Operation(op.method, op.path, "", [], False, {}, op.security))


def test_unauthorized_otherwise_is_a_problem_naming_the_credentials_with_a_challenge(facts):
    decision = unauthorized(undocumented(facts("/things/{id}", fixtures=False)), None)
    assert (decision.kind, decision.status, decision.source, decision.problem) == (
        PROBLEM, 401, FROM_ERROR, problems.UNAUTHORIZED
    )  # fmt: skip
    assert decision.detail == "Send credentials: header X-Key or Authorization: Bearer …"
    assert decision.headers == (("WWW-Authenticate", 'Bearer realm="mockserver"'),)


def test_unauthorized_without_an_http_scheme_has_no_challenge(facts):
    decision = unauthorized(undocumented(facts("/strict/{id}")), None)
    assert decision.problem == problems.UNAUTHORIZED and decision.headers == ()
    assert decision.detail == "Send credentials: header X-Key"


# 2. validation: invalid() ------------------------------------------------------------------------------------------

DETAIL = [{"loc": ["query", "n"], "msg": "Field required", "type": "missing"}]


def test_invalid_fills_the_documented_422_in_the_media_type_asked_for(facts):
    op = facts("/strict/{id}").operation
    assert invalid(op, DETAIL, None) == Decision(INVALID, 422, FROM_ERROR, "422", JSON, value=DETAIL,
                                                 problem=problems.INVALID_REQUEST, detail="query/n: Field required",
                                                 note="query/n: Field required")  # fmt: skip
    assert invalid(op, DETAIL, "application/xml").media == "application/xml"


def test_invalid_falls_back_to_a_documented_range(facts):
    decision = invalid(facts("/things/{id}").operation, DETAIL, None)
    assert (decision.kind, decision.status, decision.response) == (INVALID, 422, "4XX")  # 422 is in the 4XX range


def test_invalid_without_a_documented_4xx_is_a_problem_carrying_the_errors(facts):
    decision = invalid(facts("/empty").operation, [], None)
    assert (decision.kind, decision.status, decision.problem) == (PROBLEM, 422, problems.INVALID_REQUEST)
    assert decision.extra == (("errors", []),) and decision.note == "invalid request"


# --error-rate: fault() ---------------------------------------------------------------------------------------------


def test_fault_uses_a_documented_5xx(facts):
    decision = fault(facts("/strict/{id}"), 500)
    assert decision == Decision(GENERATE, 500, FROM_ERROR, "500", JSON, reuse=NEVER)


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [("/things/{id}", 500, problems.INJECTED), ("/things/{id}", 503, problems.UNAVAILABLE),
     ("/strict/{id}", 503, problems.UNAVAILABLE)],  # 500 documented there, 503 not
)  # fmt: skip
def test_fault_otherwise_is_a_problem(facts, path, status, kind):
    decision = fault(facts(path), status)
    assert (decision.kind, decision.status, decision.source, decision.problem) == (PROBLEM, status, FROM_ERROR, kind)
    assert decision.reuse == NEVER  # the same request may not meet a fault next time


# Decision.reuse: what every cache reads ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "id", "prefs", "reuse"),
    [("/things/{id}", "q", {"dynamic": True}, PER_SHAPE),  # generated: only the pool slot and the echo differ
     ("/things/{id}", "q", {"code": 418}, PER_SHAPE),
     ("/things/{id}", "z", {}, PER_REQUEST),  # a fixture: this path's own
     ("/things/{id}", "q", {}, PER_REQUEST),  # the contract's example
     ("/things/{id}", "q", {"code": 599}, PER_REQUEST)],  # a refusal
)  # fmt: skip
def test_a_decision_says_how_far_its_answer_may_be_reused(facts, path, id, prefs, reuse):
    decision, _ = decide(facts(path), id=id, **prefs)
    assert decision.reuse == reuse, decision


# choose_media, default_status --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, JSON),  # JSON first when the client takes anything
        ("*/*", JSON),
        ("text/plain", TEXT),
        ("TEXT/Plain; q=0.9", TEXT),
        ("image/png, text/*;q=0.5", TEXT),
        ("application/xml", JSON),  # nothing fits: JSON rather than a 406
    ],
)
def test_choose_media(facts, accept, media):
    response = facts("/things/{id}").operation.responses["200"]
    assert choose_media(response, accept) == media


def test_choose_media_without_content_or_json(facts):
    op = facts("/strict/{id}").operation
    assert choose_media(op.responses["204"], "application/json") is None
    xml_only = type(op.responses["422"])("422", {"application/xml": op.responses["422"].content["application/xml"]}, {})
    assert choose_media(xml_only, None) == "application/xml"


XML = "application/xml"


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/xml;q=0, */*", JSON),  # q=0: not acceptable, whatever else is (RFC 9110 12.4.2)
        ("application/xml; Q=0.000, */*;q=0.1", JSON),
        ("application/xml, application/json;q=0.5", XML),
        ("application/json;q=0.1, application/xml;q=0.2", XML),  # weights, not the header's order
        ("*/*;q=0.5, application/xml", XML),
        ("application/*;q=0.5, application/xml;q=0", JSON),  # the more specific range overrides the broader one
        ("application/xml;q=0", JSON),  # nothing acceptable: the default, not a 406
        ("application/json;q=0", XML),  # nothing acceptable: the default among what was not refused
        ("application/xml;q=bogus", XML),  # an unreadable weight counts as 1
        ("application/json, application/xml", JSON),
    ],
)
def test_choose_media_honours_q_values(facts, accept, media):
    response = facts("/strict/{id}").operation.responses["422"]  # JSON and XML
    assert choose_media(response, accept) == media


@pytest.mark.parametrize(
    ("accept", "media"), [("text/plain;q=0.5, application/json", JSON), ("*/*, text/plain", TEXT), ("*/*", JSON)]
)
def test_a_named_type_beats_anything_at_the_same_weight(facts, accept, media):
    assert choose_media(facts("/things/{id}").operation.responses["200"], accept) == media


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["404", "201", "200"], "200"),  # the lowest 2xx
        (["404", "2XX", "default"], "2XX"),
        (["404", "default"], "default"),
        (["500", "404"], "500"),  # nothing successful: the first documented
        ([], None),
    ],
)
def test_default_status(facts, statuses, expected):
    op = facts("/strict/{id}").operation
    response = op.responses["201"]
    made = Operation(op.method, op.path, "", [], False, {s: response for s in statuses}, [])
    assert default_status(made) == expected
