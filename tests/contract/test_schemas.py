"""OpenAPI schema objects to JSON Schema 2020-12 in one place: 3.0's dialect, `$ref` to `$defs`, int32/int64,
standalone schemas with only what they reach, and the structural questions negotiation asks (null, branches)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from mockserver.contract.documents import DocumentError
from mockserver.contract.schemas import SchemaSet, accepts_null, branches, lookup


def converted(schema: Any, components: dict[str, Any] | None = None, *, openapi30: bool = False) -> Any:
    document = {"components": {"schemas": components or {}}}
    return SchemaSet(document, "api.yaml", openapi30=openapi30).convert(schema, "/x")


def valid(schemas: SchemaSet, schema: Any, value: Any) -> bool:
    return bool(jsonschema_rs.validator_for(schemas.standalone(schema)).is_valid(value))


def test_openapi30_nullable_becomes_an_anyof_with_null():
    assert converted({"type": "string", "nullable": True}, openapi30=True) == {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }
    assert converted({"type": "string", "nullable": True}) == {"type": "string", "nullable": True}  # 3.1: an annotation


def test_openapi30_boolean_exclusive_bounds_become_numbers():
    assert converted({"type": "integer", "minimum": 1, "exclusiveMinimum": True, "maximum": 9,
                      "exclusiveMaximum": False}, openapi30=True) == {
        "type": "integer", "exclusiveMinimum": 1, "maximum": 9
    }  # fmt: skip


def test_openapi30_drops_its_own_keywords_and_ref_siblings_except_nullable():
    components = {"Pet": {"type": "object"}}
    schema = {"$ref": "#/components/schemas/Pet", "description": "ignored in 3.0", "nullable": True}
    assert converted(schema, components, openapi30=True) == {"anyOf": [{"$ref": "#/$defs/Pet"}, {"type": "null"}]}
    assert converted({"type": "string", "example": "x", "xml": {}, "discriminator": {}}, openapi30=True) == {
        "type": "string"
    }


def test_openapi31_ref_siblings_apply_as_an_allof():
    components = {"Pet": {"type": "object"}}
    schema = {"$ref": "#/components/schemas/Pet", "required": ["name"]}
    assert converted(schema, components) == {"required": ["name"], "allOf": [{"$ref": "#/$defs/Pet"}]}


def test_int32_and_int64_are_ranges():
    assert converted({"type": "integer", "format": "int32"}) == {
        "type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1
    }  # fmt: skip
    assert converted({"type": "integer", "format": "int64", "minimum": 1})["minimum"] == 1  # tighter bounds stay
    assert converted({"type": "string", "format": "int32"}) == {"type": "string", "format": "int32"}


def test_a_tuple_items_list_becomes_prefix_items():
    assert converted({"type": "array", "items": [{"type": "string"}]}) == {
        "type": "array", "prefixItems": [{"type": "string"}]
    }  # fmt: skip


def test_data_keywords_are_not_walked_for_refs():
    schema = {"enum": [{"$ref": "not a reference"}], "default": {"$ref": "nor this"}, "x-note": {"$ref": "x"}}
    assert converted(schema) == schema


def test_recursive_schemas_stay_finite_and_validate_nested_values():
    children = {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
    components = {"Node": {"type": "object", "properties": {"children": children}}}
    document = {"components": {"schemas": components}}
    schemas = SchemaSet(document, "api.yaml", openapi30=False)
    node = schemas.convert({"$ref": "#/components/schemas/Node"}, "/x")
    assert node == {"$ref": "#/$defs/Node"}
    assert valid(schemas, node, {"children": [{"children": [{}]}]})
    assert not valid(schemas, node, {"children": [{"children": [1]}]})


def test_standalone_carries_only_the_definitions_a_schema_reaches():
    components = {"A": {"$ref": "#/components/schemas/B"}, "B": {"type": "string"}, "C": {"type": "integer"}}
    schemas = SchemaSet({"components": {"schemas": components}}, "api.yaml", openapi30=False)
    a = schemas.convert({"$ref": "#/components/schemas/A"}, "/a")
    schemas.convert({"$ref": "#/components/schemas/C"}, "/c")
    assert set(schemas.defs) == {"A", "B", "C"}
    assert set(schemas.standalone(a)["$defs"]) == {"A", "B"}
    assert schemas.standalone({"type": "string"}) == {"type": "string"} and schemas.standalone(True) is True
    assert schemas.resolve(a) == {"type": "string"}  # followed hop by hop to content


@pytest.mark.parametrize(
    ("schema", "components", "pointer", "reason"),
    [
        ({"type": "strin"}, {}, "/x/type", "not a valid JSON Schema"),
        ({"$ref": "#/components/schemas/Nope"}, {}, "/x/$ref", "points nowhere"),
        ({"$ref": "other.yaml#/X"}, {}, "/x/$ref", "was not bundled"),
        ({"$ref": 5}, {}, "/x/$ref", "$ref must be a string"),
        ({"properties": []}, {}, "/x/properties", "'properties' must be an object, got an array"),
        ({"anyOf": {}}, {}, "/x/anyOf", "'anyOf' must be an array, got an object"),
        ("string", {}, "/x", "schema must be an object or a boolean, got a string"),
        ({"$ref": "#/components/schemas/A"}, {"A": {"$ref": "#/components/schemas/B"},
                                               "B": {"$ref": "#/components/schemas/A"}}, "", "circular $ref"),
        ({"$ref": "#/components/schemas/Bad"}, {"Bad": {"type": "integer", "minimum": "lots"}},
         "/components/schemas/Bad/minimum", "not a valid JSON Schema"),  # the error is where the definition is
    ],
)  # fmt: skip
def test_mistakes_name_the_pointer(schema, components, pointer, reason):
    with pytest.raises(DocumentError) as caught:
        converted(schema, components)
    assert caught.value.file == "api.yaml" and reason in caught.value.reason
    assert caught.value.pointer.startswith(pointer)


def test_null_and_branches_are_answered_structurally():
    components = {"Pet": {"type": "object"}, "MaybePet": {"anyOf": [{"$ref": "#/components/schemas/Pet"},
                                                                     {"type": "null"}]}}  # fmt: skip
    schemas = SchemaSet({"components": {"schemas": components}}, "api.yaml", openapi30=False)
    maybe = schemas.convert({"$ref": "#/components/schemas/MaybePet"}, "/m")
    assert accepts_null(maybe, schemas) and len(branches(maybe, schemas)) == 2
    pet = schemas.convert({"$ref": "#/components/schemas/Pet"}, "/p")
    assert not accepts_null(pet, schemas) and branches(pet, schemas) == []
    assert accepts_null({"type": ["string", "null"]}, schemas) and accepts_null(True, schemas)
    assert not accepts_null(False, schemas)
    assert len(branches({"oneOf": [{"type": "string"}, {"type": "integer"}]}, schemas)) == 2


def test_lookup_follows_a_json_pointer():
    document = {"a": {"b/c": [10, {"~d": 1}]}}
    assert lookup(document, "/a/b~1c/1/~0d") == 1
    assert lookup(document, "/a/b~1c/5") is None and lookup(document, "/nothing") is None
    assert lookup(document, "") == document
