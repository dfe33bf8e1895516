"""Request side: the server reads what clients send, so a schema may only let more through."""

from __future__ import annotations

import pytest

from .builders import changes, found, obj, request_doc

S = {"type": "string"}


@pytest.mark.parametrize(
    ("old", "new", "rule", "level"),
    [
        (obj(a=S), obj(("b",), a=S, b=S), "new-required-request-property", "ERR"),
        (obj(a=S), obj(a=S, b=S), "new-optional-request-property", "INFO"),
        (obj(a=S, b=S), obj(("b",), a=S, b=S), "request-property-became-required", "ERR"),
        (obj(("b",), a=S, b=S), obj(a=S, b=S), "request-property-became-optional", "INFO"),
        (obj(a=S, b=S), obj(a=S), "request-property-removed", "WARN"),
        (obj(a=S), obj(a={"type": "integer"}), "request-property-type-changed", "ERR"),
        (obj(a={"type": "integer"}), obj(a={"type": "number"}), "request-property-type-generalized", "INFO"),
        (obj(a={"type": "number"}), obj(a={"type": "integer"}), "request-property-type-changed", "ERR"),
        (obj(a={"type": ["string", "integer"]}), obj(a=S), "request-property-list-of-types-narrowed", "ERR"),
        (obj(a=S), obj(a={"type": ["string", "integer"]}), "request-property-list-of-types-widened", "INFO"),
        (
            obj(a={"type": "string", "format": "int64"}),
            obj(a={"type": "string", "format": "int32"}),
            "request-property-type-changed",
            "ERR",
        ),
        (
            obj(a={"type": "integer", "format": "int32"}),
            obj(a={"type": "integer", "format": "int64"}),
            "request-property-type-generalized",
            "INFO",
        ),
        (obj(a=S), obj(a={"type": "string", "format": "date-time"}), "request-property-type-changed", "ERR"),
        (obj(a={"enum": ["x", "y"]}), obj(a={"enum": ["x"]}), "request-property-enum-value-removed", "ERR"),
        (obj(a={"enum": ["x"]}), obj(a={"enum": ["x", "y"]}), "request-property-enum-value-added", "INFO"),
        (obj(a=S), obj(a={"type": "string", "enum": ["x"]}), "request-property-became-enum", "ERR"),
        (obj(a=S), obj(a={"type": "string", "pattern": "^a"}), "request-property-pattern-added", "ERR"),
        (
            obj(a={"type": "string", "pattern": "^a"}),
            obj(a={"type": "string", "pattern": "^b"}),
            "request-property-pattern-changed",
            "WARN",
        ),
        (obj(a={"type": "string", "pattern": "^a"}), obj(a=S), "request-property-pattern-removed", "INFO"),
        (
            obj(a={"type": "string", "maxLength": 10}),
            obj(a={"type": "string", "maxLength": 5}),
            "request-property-max-length-decreased",
            "ERR",
        ),
        (obj(a=S), obj(a={"type": "string", "maxLength": 5}), "request-property-max-length-set", "WARN"),
        (
            obj(a={"type": "string", "maxLength": 5}),
            obj(a={"type": "string", "maxLength": 10}),
            "request-property-max-length-increased",
            "INFO",
        ),
        (
            obj(a={"type": "string", "minLength": 1}),
            obj(a={"type": "string", "minLength": 3}),
            "request-property-min-length-increased",
            "ERR",
        ),
        (
            obj(a={"type": "integer", "maximum": 10}),
            obj(a={"type": "integer", "maximum": 9}),
            "request-property-max-decreased",
            "ERR",
        ),
        (
            obj(a={"type": "integer", "minimum": 0}),
            obj(a={"type": "integer", "minimum": 1}),
            "request-property-min-increased",
            "ERR",
        ),
        (obj(a={"type": "integer"}), obj(a={"type": "integer", "minimum": 1}), "request-property-min-set", "WARN"),
        (
            obj(a={"type": "number", "exclusiveMinimum": 0}),
            obj(a={"type": "number", "exclusiveMinimum": 1}),
            "request-property-exclusive-min-increased",
            "ERR",
        ),
        (
            obj(a={"type": "array", "items": S, "minItems": 1}),
            obj(a={"type": "array", "items": S, "minItems": 2}),
            "request-property-min-items-increased",
            "ERR",
        ),
        (
            obj(a={"type": "array", "items": S, "maxItems": 9}),
            obj(a={"type": "array", "items": S, "maxItems": 2}),
            "request-property-max-items-decreased",
            "ERR",
        ),
        (
            obj(a={"type": "array", "items": S}),
            obj(a={"type": "array", "items": {"type": "string", "maxLength": 3}}),
            "request-property-max-length-set",
            "WARN",
        ),
        (obj(a=S), obj(a={"type": "string", "default": "x"}), "request-property-default-value-added", "INFO"),
        (S, {"type": "integer"}, "request-body-type-changed", "ERR"),
        (
            {"type": "string", "maxLength": 9},
            {"type": "string", "maxLength": 3},
            "request-body-max-length-decreased",
            "ERR",
        ),
    ],
)
def test_a_request_schema_change_is_classified(old, new, rule, level):
    assert found(request_doc(old), request_doc(new)).get(rule) == level


def test_a_nested_change_names_its_property_path_and_pointers():
    old = obj(owner=obj(tags={"type": "array", "items": obj(name={"type": "string", "maxLength": 9})}))
    new = obj(owner=obj(tags={"type": "array", "items": obj(name={"type": "string", "maxLength": 3})}))
    (change,) = changes(request_doc(old), request_doc(new))
    assert change.operation == "POST /pets"
    assert change.rule == "request-property-max-length-decreased"
    assert "owner.tags[].name" in change.message and "10" not in change.message
    assert change.old_pointer.endswith("/properties/owner/properties/tags/items/properties/name")
    assert change.new_pointer == change.old_pointer


def test_loosening_a_request_is_never_breaking():
    old = obj(("a", "b"), a={"type": "string", "maxLength": 3, "pattern": "^x"}, b={"enum": [1, 2]})
    new = obj(("a",), a={"type": "string", "maxLength": 30}, b={"enum": [1, 2, 3]}, c=S)
    levels = {c.level for c in changes(request_doc(old), request_doc(new))}
    assert levels == {"INFO"}


def test_a_union_without_a_type_of_its_own_has_its_variants_types():
    array = {"type": "array", "items": S}
    got = found(request_doc(array), request_doc({"oneOf": [array, {"type": "object"}]}))
    assert got == {"request-body-list-of-types-widened": "INFO", "request-body-one-of-added": "INFO"}
