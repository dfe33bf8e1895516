"""readOnly/writeOnly on each side, and nullability in its 3.0 and 3.1 spellings."""

from __future__ import annotations

import pytest

from .builders import changes, doc, found, obj, ok, post, request_doc, response_doc

S = {"type": "string"}
RO = {"type": "string", "readOnly": True}
WO = {"type": "string", "writeOnly": True}


def shared(schema):
    """POST /pets takes a Pet and GET /pets/{id} answers one: the same schema read from both sides."""
    return doc({"/pets": {"post": post({"$ref": "#/components/schemas/Pet"})},
                "/pets/{id}": {"get": ok({"$ref": "#/components/schemas/Pet"})}}, {"Pet": schema})  # fmt: skip


def by_operation(old, new):
    return {(c.operation, c.rule, c.level) for c in changes(old, new)}


def test_a_new_required_read_only_property_is_no_part_of_the_request():
    old, new = shared(obj(("name",), name=S)), shared(obj(("name", "id"), name=S, id=RO))
    assert by_operation(old, new) == {("GET /pets/{id}", "response-required-property-added", "INFO")}


def test_a_removed_write_only_property_is_no_part_of_the_response():
    old, new = shared(obj(("name", "password"), name=S, password=WO)), shared(obj(("name",), name=S))
    assert by_operation(old, new) == {("POST /pets", "request-property-removed", "WARN")}


def test_a_read_only_property_changes_only_the_response():
    old, new = shared(obj(id=RO)), shared(obj(id={"type": "integer", "readOnly": True}))
    assert by_operation(old, new) == {("GET /pets/{id}", "response-property-type-changed", "ERR")}


def test_a_property_becoming_read_only_or_write_only():
    old, new = shared(obj(("id",), id=S)), shared(obj(("id",), id=RO))
    assert by_operation(old, new) == {("POST /pets", "request-required-property-became-read-only", "INFO")}
    old, new = shared(obj(("secret",), secret=WO)), shared(obj(("secret",), secret=S))
    assert by_operation(old, new) == {("GET /pets/{id}", "response-required-property-became-not-write-only", "WARN")}


def test_read_only_through_a_ref_and_a_nullable_union():
    # FastAPI's `Optional[X]` with X readOnly: anyOf [X, null]
    schemas = {"Stamp": {"type": "string", "readOnly": True}}
    ro = {"anyOf": [{"$ref": "#/components/schemas/Stamp"}, {"type": "null"}]}
    old = request_doc(obj(name=S), schemas=schemas)
    new = request_doc(obj(("stamp",), name=S, stamp=ro), schemas=schemas)
    assert changes(old, new) == []


NULLABLE_FORMS = {
    "3.0 nullable": ("3.0.3", {"type": "string", "nullable": True}),
    "3.1 type list": ("3.1.0", {"type": ["string", "null"]}),
    "3.1 anyOf null": ("3.1.0", {"anyOf": [{"type": "string"}, {"type": "null"}]}),
    "3.1 oneOf null ref": ("3.1.0", {"oneOf": [{"$ref": "#/components/schemas/Name"}, {"type": "null"}]}),
    "3.0 allOf ref nullable": ("3.0.3", {"allOf": [{"$ref": "#/components/schemas/Name"}], "nullable": True}),
}
NAME = {"Name": {"type": "string"}}


@pytest.mark.parametrize("form", sorted(NULLABLE_FORMS))
def test_becoming_nullable_breaks_a_response_in_each_form(form):
    version, nullable = NULLABLE_FORMS[form]
    old, new = response_doc(obj(a=S), version, NAME), response_doc(obj(a=nullable), version, NAME)
    assert found(old, new) == {"response-property-became-nullable": "ERR"}
    assert found(new, old) == {"response-property-became-not-nullable": "INFO"}


@pytest.mark.parametrize("form", sorted(NULLABLE_FORMS))
def test_no_longer_nullable_breaks_a_request_in_each_form(form):
    version, nullable = NULLABLE_FORMS[form]
    old, new = request_doc(obj(a=nullable), version, NAME), request_doc(obj(a=S), version, NAME)
    assert found(old, new) == {"request-property-became-not-nullable": "ERR"}
    assert found(new, old) == {"request-property-became-nullable": "INFO"}


@pytest.mark.parametrize("one", sorted(NULLABLE_FORMS))
@pytest.mark.parametrize("other", sorted(NULLABLE_FORMS))
def test_the_nullable_forms_are_the_same_thing(one, other):
    (v1, s1), (v2, s2) = NULLABLE_FORMS[one], NULLABLE_FORMS[other]
    assert changes(response_doc(obj(a=s1), v1, NAME), response_doc(obj(a=s2), v2, NAME)) == []
    assert changes(request_doc(obj(a=s1), v1, NAME), request_doc(obj(a=s2), v2, NAME)) == []


def test_a_nullable_body_and_exclusive_bounds_across_versions():
    old = response_doc({"type": "integer", "nullable": True, "maximum": 5, "exclusiveMaximum": True}, "3.0.3")
    new = response_doc({"type": ["integer", "null"], "exclusiveMaximum": 5}, "3.1.0")
    assert changes(old, new) == []
    wider = response_doc({"type": ["integer", "null"], "exclusiveMaximum": 6}, "3.1.0")
    assert found(old, wider) == {"response-body-exclusive-max-increased": "ERR"}


def test_a_3_0_nullable_beside_a_ref_is_honoured():
    old = response_doc(obj(a={"$ref": "#/components/schemas/Name"}), "3.0.3", NAME)
    new = response_doc(obj(a={"$ref": "#/components/schemas/Name", "nullable": True}), "3.0.3", NAME)
    assert found(old, new) == {"response-property-became-nullable": "ERR"}
