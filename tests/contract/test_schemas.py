"""OpenAPI schema objects to JSON Schema 2020-12 in one place: 3.0's dialect, `$ref` to `$defs`, int32/int64,
standalone schemas with only what they reach, the structural questions negotiation asks (null, branches), the request
and response views (readOnly, writeOnly, 3.1 `nullable`) and discriminators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from mockserver.contract.documents import DocumentError
from mockserver.contract.schemas import REQUEST, RESPONSE, SchemaSet, accepts_null, branches, lookup
from mockserver.contract.spec import Spec, load_spec


def converted(schema: Any, components: dict[str, Any] | None = None, *, openapi30: bool = False,
              strict: bool = False) -> Any:  # fmt: skip
    document = {"components": {"schemas": components or {}}}
    return SchemaSet(document, "api.yaml", openapi30=openapi30, strict=strict).convert(schema, "/x")


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
    # `xml` stays, an annotation that names the elements of an XML answer; a discriminator becomes pins (see below);
    # `example` becomes 2020-12's `examples` annotation (realism answers with it)
    assert converted({"type": "string", "example": "x", "xml": {}, "discriminator": {}}, openapi30=True) == {
        "type": "string", "xml": {}, "examples": ["x"]
    }  # fmt: skip


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
    with pytest.raises(DocumentError) as caught:  # --strict: refused
        converted(schema, components, strict=True)
    assert caught.value.file == "api.yaml" and reason in caught.value.reason
    assert caught.value.pointer.startswith(pointer)
    # by default the same mistake is a warning with the same file, pointer and reason, and the schema still works
    schemas = SchemaSet({"components": {"schemas": components}}, "api.yaml", openapi30=False)
    schema = schemas.convert(schema, "/x")
    jsonschema_rs.validator_for(schemas.standalone(schema))
    assert any(w.startswith("api.yaml#" + pointer) and reason in w for w in schemas.mistakes), schemas.mistakes


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


# --- views and discriminators, on whole contracts --------------------------------------------------------------------


def _spec(tmp_path: Path, schemas: dict[str, Any], version: str = "3.1.0") -> Spec:
    document = {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": {
            f"/{name.lower()}": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                        }
                    }
                }
            }
            for name in schemas
        },  # fmt: skip
        "components": {"schemas": schemas},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_spec(path)


def _accepts(spec: Spec, schema: Any, value: Any) -> bool:
    return bool(jsonschema_rs.validator_for(spec.schemas.standalone(schema)).is_valid(value))


USER = {
    "type": "object",
    "required": ["id", "name", "password"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string"},
        "password": {"type": "string", "writeOnly": True},
        "token": {"anyOf": [{"type": "string", "writeOnly": True}, {"type": "null"}]},
    },
}
PLAIN = {"type": "object", "properties": {"n": {"type": "integer"}}}


def test_a_schema_without_read_or_write_only_is_its_own_view_and_nothing_is_copied(tmp_path):
    spec = _spec(tmp_path, {"Plain": PLAIN, "User": USER})
    before = dict(spec.schemas.defs)
    ref = {"$ref": "#/$defs/Plain"}
    assert spec.schemas.view(ref, RESPONSE) is ref and spec.schemas.view(ref, REQUEST) is ref
    assert spec.schemas.defs == before  # views are built on demand, and only where they differ


def test_the_response_view_forbids_write_only_properties_and_warns_once_for_a_required_one(tmp_path):
    spec = _spec(tmp_path, {"User": USER})
    view = spec.schemas.view({"$ref": "#/$defs/User"}, RESPONSE)
    assert view == {"$ref": "#/$defs/User.response"}
    assert spec.schemas.view({"$ref": "#/$defs/User"}, RESPONSE) == view  # built once
    assert _accepts(spec, view, {"id": 1, "name": "ann"})
    assert not _accepts(spec, view, {"id": 1, "name": "ann", "password": "pw"})
    assert not _accepts(spec, view, {"id": 1, "name": "ann", "token": "t"})
    assert _accepts(spec, {"$ref": "#/$defs/User"}, {"id": 1, "name": "ann", "password": "pw"})  # the original stays
    assert len(spec.schemas.warnings) == 1 and "'password'" in spec.schemas.warnings[0]


def test_the_request_view_makes_read_only_properties_optional(tmp_path):
    spec = _spec(tmp_path, {"User": USER})
    view = spec.schemas.view({"$ref": "#/$defs/User"}, REQUEST)
    assert _accepts(spec, view, {"name": "ann", "password": "pw"})
    assert _accepts(spec, view, {"id": 3, "name": "ann", "password": "pw"})
    assert not _accepts(spec, view, {"name": "ann"})


def test_views_reach_through_all_of_references_and_recursion(tmp_path):
    spec = _spec(tmp_path, {
        "Base": {"type": "object", "required": ["secret", "id"],
                 "properties": {"secret": {"type": "string", "writeOnly": True}, "id": {"type": "integer"}}},
        "Tree": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}]},
    })  # fmt: skip
    view = spec.schemas.view({"$ref": "#/$defs/Tree"}, RESPONSE)
    assert _accepts(spec, view, {"id": 1, "children": [{"id": 2, "children": []}]})
    assert not _accepts(spec, view, {"id": 1, "children": [{"id": 2, "secret": "s"}]})


def test_nullable_true_in_a_31_document_takes_null_in_requests_only(tmp_path):
    spec = _spec(tmp_path, {"Input": {"type": "object", "properties": {"label": {"type": "string", "nullable": True}}}})
    ref = {"$ref": "#/$defs/Input"}
    assert _accepts(spec, spec.schemas.view(ref, REQUEST), {"label": None})
    assert not _accepts(spec, spec.schemas.view(ref, RESPONSE), {"label": None})


PET = {"$ref": "#/components/schemas/Pet"}
PETS = {
    "Pet": {"type": "object", "required": ["pet_type"], "properties": {"pet_type": {"type": "string"}}},
    "Cat": {"allOf": [PET, {"type": "object", "properties": {"hunts": {"type": "boolean"}}}]},
    "Dog": {"allOf": [PET, {"type": "object", "properties": {"bark": {"type": "boolean"}}}]},
}


def _union(tmp_path: Path, discriminator: dict[str, Any], version: str = "3.1.0", **extra: Any) -> tuple[Spec, Any]:
    union = {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
             "discriminator": discriminator}  # fmt: skip
    spec = _spec(tmp_path, {**PETS, **extra, "Union": union}, version)
    return spec, {"$ref": "#/$defs/Union"}


def test_a_discriminator_without_mapping_picks_the_branch_by_schema_name(tmp_path):
    for version in ("3.0.3", "3.1.0"):
        spec, union = _union(tmp_path, {"propertyName": "pet_type"}, version)
        assert _accepts(spec, union, {"pet_type": "Dog", "bark": True})
        assert not _accepts(spec, union, {"pet_type": "Dog", "bark": "loud"})  # a Dog, though a Cat would take it
        assert not _accepts(spec, union, {"pet_type": "Fish"})


def test_a_discriminator_mapping_names_the_values(tmp_path):
    spec, union = _union(tmp_path, {"propertyName": "pet_type",
                                    "mapping": {"dog": "#/components/schemas/Dog", "cat": "Cat"}})  # fmt: skip
    assert _accepts(spec, union, {"pet_type": "dog"}) and _accepts(spec, union, {"pet_type": "cat", "hunts": True})
    assert not _accepts(spec, union, {"pet_type": "Dog"})


def test_a_branch_that_pins_its_own_tag_keeps_it(tmp_path):
    tagged = {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["circle"]}}}
    document = {"Circle": tagged, "Square": {**tagged, "properties": {"kind": {"enum": ["square"]}}}}
    union = {"oneOf": [{"$ref": "#/components/schemas/Circle"}, {"$ref": "#/components/schemas/Square"}],
             "discriminator": {"propertyName": "kind"}}  # fmt: skip
    spec = _spec(tmp_path, {**document, "Shape": union})
    shape = {"$ref": "#/$defs/Shape"}
    assert _accepts(spec, shape, {"kind": "circle"}) and _accepts(spec, shape, {"kind": "square"})
    assert not _accepts(spec, shape, {"kind": "Circle"})
