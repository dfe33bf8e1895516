"""Response side: clients read what the server answers, so a schema may only let less through."""

from __future__ import annotations

import pytest

from .builders import changes, doc, found, obj, ok, response_doc

S = {"type": "string"}


@pytest.mark.parametrize(
    ("old", "new", "rule", "level"),
    [
        (obj(("a",), a=S), obj(), "response-required-property-removed", "ERR"),
        (obj(a=S, b=S), obj(a=S), "response-optional-property-removed", "WARN"),
        (obj(("a",), a=S), obj(a=S), "response-property-became-optional", "ERR"),
        (obj(a=S), obj(("a",), a=S), "response-property-became-required", "INFO"),
        (obj(a=S), obj(a=S, b=S), "response-optional-property-added", "INFO"),
        (obj(a={"type": "integer"}), obj(a={"type": "number"}), "response-property-type-generalized", "ERR"),
        (obj(a={"type": "number"}), obj(a={"type": "integer"}), "response-property-type-specialized", "INFO"),
        (obj(a=S), obj(a={"type": "integer"}), "response-property-type-changed", "ERR"),
        (obj(a=S), obj(a={"type": ["string", "integer"]}), "response-property-list-of-types-widened", "ERR"),
        (
            obj(a={"type": "integer", "format": "int32"}),
            obj(a={"type": "integer", "format": "int64"}),
            "response-property-type-generalized",
            "ERR",
        ),
        (obj(a={"enum": ["x"]}), obj(a={"enum": ["x", "y"]}), "response-property-enum-value-added", "WARN"),
        (obj(a={"enum": ["x", "y"]}), obj(a={"enum": ["x"]}), "response-property-enum-value-removed", "INFO"),
        (
            obj(a={"type": "string", "maxLength": 5}),
            obj(a={"type": "string", "maxLength": 9}),
            "response-property-max-length-increased",
            "ERR",
        ),
        (obj(a={"type": "string", "maxLength": 5}), obj(a=S), "response-property-max-length-unset", "ERR"),
        (
            obj(a={"type": "string", "minLength": 5}),
            obj(a={"type": "string", "minLength": 1}),
            "response-property-min-length-decreased",
            "ERR",
        ),
        (
            obj(a={"type": "integer", "maximum": 5}),
            obj(a={"type": "integer", "maximum": 6}),
            "response-property-max-increased",
            "ERR",
        ),
        (
            obj(a={"type": "integer", "minimum": 5}),
            obj(a={"type": "integer"}),
            "response-property-min-decreased",
            "ERR",
        ),
        (
            obj(a={"type": "array", "items": S, "minItems": 1}),
            obj(a={"type": "array", "items": S}),
            "response-property-min-items-unset",
            "ERR",
        ),
        (
            obj(a={"oneOf": [S, {"type": "integer"}]}),
            obj(a={"oneOf": [S, {"type": "integer"}, {"type": "boolean"}]}),
            "response-property-one-of-added",
            "ERR",
        ),
        (
            obj(a={"anyOf": [S, {"type": "integer"}]}),
            obj(a={"anyOf": [S, {"type": "integer"}, {"type": "boolean"}]}),
            "response-property-any-of-added",
            "INFO",
        ),
        (obj(a={"type": "string", "pattern": "^a"}), obj(a=S), "response-property-pattern-removed", "INFO"),
        ({"type": "integer"}, {"type": "number"}, "response-body-type-generalized", "ERR"),
    ],
)
def test_a_response_schema_change_is_classified(old, new, rule, level):
    assert found(response_doc(old), response_doc(new)).get(rule) == level


def test_tightening_a_response_is_never_breaking():
    old = obj(a={"type": "string", "maxLength": 30}, b={"enum": [1, 2, 3]}, c={"type": "number"})
    new = obj(("a",), a={"type": "string", "maxLength": 3}, b={"enum": [1, 2]}, c={"type": "integer"}, d=S)
    levels = {c.level for c in changes(response_doc(old), response_doc(new))}
    assert levels == {"INFO"}


def test_a_removed_success_status_breaks_and_a_removed_error_status_does_not():
    old = doc({"/pets": {"get": {"responses": {"200": {"description": "ok"}, "404": {"description": "no"}}}}})
    gone = doc({"/pets": {"get": {"responses": {"201": {"description": "ok"}}}}})
    assert found(old, gone) == {"response-success-status-removed": "ERR", "response-non-success-status-removed":
                                "INFO", "response-success-status-added": "INFO"}  # fmt: skip


def _headers(**headers):
    return doc({"/pets": {"get": ok(S, headers=headers)}})


def test_response_headers_removed_or_made_optional():
    required = {"X-Rate": {"required": True, "schema": {"type": "integer"}}}
    optional = {"X-Rate": {"schema": {"type": "integer"}}}
    assert found(_headers(**required), _headers()) == {"required-response-header-removed": "ERR"}
    assert found(_headers(**optional), _headers()) == {"optional-response-header-removed": "WARN"}
    assert found(_headers(**required), _headers(**optional)) == {"response-header-became-optional": "ERR"}
    assert found(_headers(), _headers(**optional)) == {"response-header-added": "INFO"}
    lower = {"x-rate": {"required": True, "schema": {"type": "integer"}}}
    assert changes(_headers(**required), _headers(**lower)) == []  # header names have no case
    nullable = {"X-Rate": {"required": True, "schema": {"type": ["integer", "null"]}}}
    assert found(_headers(**required), _headers(**nullable)) == {"response-header-became-nullable": "ERR"}


def test_response_media_types():
    json_only = doc({"/pets": {"get": ok(S)}})
    both = doc({"/pets": {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": S}, "text/plain": {"schema": S}}}}}}})  # fmt: skip
    assert found(both, json_only) == {"response-media-type-removed": "ERR"}
    assert found(json_only, both) == {"response-media-type-added": "INFO"}
