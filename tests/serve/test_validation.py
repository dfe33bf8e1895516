"""Request validation without HTTP: parameters coerced from strings as a framework would, bodies checked as JSON,
violations returned as data (location, message, type), never raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.contract.spec import Spec, load_spec
from mockserver.serve.pipeline.validation import MAX_VIOLATIONS, RequestValidator, Violation

CONTRACT = """
openapi: 3.1.0
info: {title: validation, version: '1'}
paths:
  /items/{id}:
    post:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, minimum: 1}}
        - {name: limit, in: query, schema: {type: integer, maximum: 50}}
        - {name: ratio, in: query, schema: {type: number}}
        - {name: flag, in: query, schema: {type: boolean}}
        - {name: ids, in: query, style: form, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: tag, in: query, schema: {type: array, maxItems: 2, items: {type: string}}}
        - {name: q, in: query, required: true, schema: {type: string}}
        - {name: X-Trace, in: header, required: true, schema: {type: string, pattern: '^t-'}}
        - {name: theme, in: cookie, schema: {type: string, enum: [dark, light]}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string, minLength: 1}
                state:
                  anyOf:
                    - {type: object, required: [status], properties: {status: {enum: [RUNNING, STOPPED]}}}
                    - {type: 'null'}
                many: {type: array, items: {type: integer}}
  /plain/{slug}:
    get:
      parameters: [{name: slug, in: path, required: true, schema: {type: string, title: any string}}]
      responses: {'200': {description: ok}}
"""
GOOD = {"q": ["x"]}
HEADERS = {"x-trace": "t-1"}
BODY = b'{"name": "a"}'


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Spec:
    path: Path = tmp_path_factory.mktemp("validation") / "api.yaml"
    path.write_text(CONTRACT)
    return load_spec(path)


@pytest.fixture(scope="module")
def items(spec: Spec) -> RequestValidator:
    op = spec.find("POST /items/{id}")
    assert op is not None
    return RequestValidator(op, spec.schemas)


def check(validator: RequestValidator, query: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None,
          body: bytes = BODY, content_type: str = "application/json", path: dict[str, str] | None = None,
          cookies: dict[str, str] | None = None, bad: list[str] | None = None) -> list[Violation]:  # fmt: skip
    return validator.validate(
        path or {"id": "3"}, {**GOOD, **(query or {})}, {**HEADERS, **(headers or {})}, cookies or {}, body,
        content_type, bad or [],
    )  # fmt: skip


def locs(violations: list[Violation]) -> list[tuple[str | int, ...]]:
    return [v.loc for v in violations]


def test_a_valid_request_has_no_violations(items):
    query = {"limit": ["50"], "ratio": ["0.5"], "flag": ["true"], "ids": ["1,2,3"], "tag": ["a", "b"]}
    assert check(items, query, cookies={"theme": "dark"}) == []


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"limit": ["abc"]}, ("query", "limit")),  # not a number at all
        ({"limit": ["51"]}, ("query", "limit")),  # coerced to 51, then past the maximum
        ({"ratio": ["nan"]}, ("query", "ratio")),  # NaN is no JSON number
        ({"flag": ["yes"]}, ("query", "flag")),
        ({"ids": ["1,x"]}, ("query", "ids", 1)),  # the item that failed, inside the array
        ({"tag": ["a", "b", "c"]}, ("query", "tag")),  # exploded: one value per repetition
    ],
)
def test_query_strings_are_coerced_to_their_schema_type_before_validation(items, query, loc):
    (violation,) = check(items, query)
    assert (violation.loc, violation.type) == (loc, "value_error")
    assert violation.msg


def test_required_parameters_headers_any_case_and_cookies(items):
    found = check(items, headers={"x-trace": "nope"}, cookies={"theme": "blue"}, query={"q": []})
    assert found == [
        Violation(("query", "q"), "Field required", "missing"),  # a name without values was not sent
        Violation(("header", "X-Trace"), found[1].msg, "value_error"),
        Violation(("cookie", "theme"), found[2].msg, "value_error"),
    ]
    assert check(items, query={"q": [""]}) == []  # `?q=` sends an empty string
    gone = items.validate({"id": "3"}, {}, {}, {}, BODY, "application/json", [])
    assert locs(gone) == [("query", "q"), ("header", "X-Trace")]
    assert {(v.msg, v.type) for v in gone} == {("Field required", "missing")}


def test_path_parameters_are_typed_and_bad_escapes_reported_once(items):
    assert locs(check(items, path={"id": "0"})) == [("path", "id")]
    assert locs(check(items, path={"id": "abc"})) == [("path", "id")]
    bad = check(items, path={"id": "\ufffd"}, bad=["id"])
    assert bad == [Violation(("path", "id"), "Percent-escapes are not valid UTF-8", "value_error.encoding")]
    assert items.coerce_path({"id": "7", "other": "x"}) == {"id": 7, "other": "x"}


def test_the_body_missing_of_the_wrong_type_or_not_json(items):
    assert check(items, body=b"") == [Violation(("body",), "Field required", "missing")]
    (media,) = check(items, content_type="text/plain")
    assert media.loc == ("header", "content-type") and media.type == "value_error.media_type"
    assert "expected application/json" in media.msg
    assert check(items, content_type="application/json; charset=utf-8") == []
    (broken,) = check(items, body=b'{"name": ')
    assert (broken.loc, broken.type) == (("body",), "json_invalid") and broken.msg.startswith("JSON decode error")


def test_body_violations_point_inside_the_body(items):
    found = check(items, body=b'{"name": "", "many": [1, "two"]}')
    assert sorted(map(str, locs(found))) == sorted(map(str, [("body", "name"), ("body", "many", 1)]))


def test_a_failed_anyof_reports_the_branch_that_got_furthest(items):
    (violation,) = check(items, body=b'{"name": "a", "state": {"status": "PAUSED"}}')
    assert violation.loc == ("body", "state", "status")
    assert "is not one of" in violation.msg  # not "is not valid under any of the given schemas"


def test_violations_are_capped(items):
    body = b'{"name": "a", "many": [' + b",".join(b'"x"' for _ in range(3 * MAX_VIOLATIONS)) + b"]}"
    assert len(check(items, body=body)) == MAX_VIOLATIONS


def test_a_bare_string_parameter_takes_any_string(spec):
    op = spec.find("GET /plain/{slug}")
    assert op is not None
    validator = RequestValidator(op, spec.schemas)
    assert validator.checks[0].any_string  # no validator call on the request path
    for value in ("", "x" * 10_000, "\x00", "ünï/%"):
        assert validator.validate({"slug": value}, {}, {}, {}, b"", "", []) == []
