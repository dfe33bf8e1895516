"""What is not a change: `$ref`s extracted or inlined, keys reordered, JSON re-saved as YAML (and back),
descriptions and examples edited. Checked on hand-made contracts, the OpenHands one, and at random."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.contract import documents

from .builders import changes, doc, obj, ok, post

ROOT = Path(__file__).resolve().parents[2]
OPENHANDS = json.loads((ROOT / "contracts" / "openhands" / "openapi.json").read_text())
S = {"type": "string"}

PETS_30: dict[str, Any] = doc(
    {
        "/pets": {
            "get": {
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20, "maximum": 100}}
                ],  # fmt: skip
                **ok({"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}),
            },
            "post": post({"$ref": "#/components/schemas/NewPet"}),
        },
        "/pets/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": S}],
            "get": {
                "responses": {
                    200: {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    },
                    "404": {"description": "no", "headers": {"X-Trace": {"required": True, "schema": S}}},
                }
            },  # fmt: skip
        },
    },
    {
        "NewPet": obj(
            ("name",),
            name={"type": "string", "maxLength": 50, "description": "a name", "example": "Rex"},
            tag={"type": "string", "nullable": True},
        ),  # fmt: skip
        "Pet": {
            "allOf": [
                {"$ref": "#/components/schemas/NewPet"},
                obj(
                    ("id",),
                    id={"type": "integer", "format": "int64", "readOnly": True},
                    owner={"$ref": "#/components/schemas/Owner"},
                ),
            ]
        },  # fmt: skip
        "Owner": {
            "oneOf": [{"$ref": "#/components/schemas/Person"}, {"$ref": "#/components/schemas/Company"}],
            "discriminator": {"propertyName": "kind"},
        },
        "Person": obj(
            ("kind",),
            kind={"type": "string", "enum": ["person"]},
            friends={"type": "array", "items": {"$ref": "#/components/schemas/Person"}},
        ),  # fmt: skip
        "Company": obj(
            ("kind",), kind={"type": "string", "enum": ["company"]}, vat={"type": "string", "pattern": "^[A-Z]{2}"}
        ),
    },
    version="3.0.3",
    security=[{"key": []}],
    components_extra=None,
)
PETS_30.pop("components_extra")
PETS_30["components"]["securitySchemes"] = {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}

PETS_31 = copy.deepcopy(PETS_30)
PETS_31["openapi"] = "3.1.0"
PETS_31["components"]["schemas"]["NewPet"]["properties"]["tag"] = {"type": ["string", "null"]}

BASES = {"pets 3.0": PETS_30, "pets 3.1": PETS_31, "openhands 0.53.0": OPENHANDS}


def test_the_bases_equal_themselves_and_differ_from_a_change():
    for base in BASES.values():
        assert changes(base, base) == []
    edited = copy.deepcopy(PETS_30)
    edited["components"]["schemas"]["NewPet"]["properties"]["name"]["maxLength"] = 10
    assert {c.rule for c in changes(PETS_30, edited)} == {"request-property-max-length-decreased",
                                                         "response-property-max-length-decreased"} - {
        "response-property-max-length-decreased"}  # fmt: skip


def test_a_ref_inlined_or_extracted_is_no_change():
    inline = doc({"/pets": {"get": ok(obj(("name",), name=S))}})
    extracted = doc({"/pets": {"get": ok({"$ref": "#/components/schemas/Pet"})}}, {"Pet": obj(("name",), name=S)})
    chained = doc({"/pets": {"get": ok({"$ref": "#/components/schemas/Alias"})}},
                  {"Alias": {"$ref": "#/components/schemas/Pet"}, "Pet": obj(("name",), name=S)})  # fmt: skip
    assert changes(inline, extracted) == changes(extracted, chained) == changes(chained, inline) == []


def test_an_all_of_split_is_no_change():
    whole = doc({"/pets": {"get": ok(obj(("a", "b"), a=S, b=S))}})
    split = doc({"/pets": {"get": ok({"allOf": [{"$ref": "#/components/schemas/A"}, obj(("b",), b=S)]})}},
                {"A": obj(("a",), a=S)})  # fmt: skip
    assert changes(whole, split) == []


def test_a_3_1_ref_with_a_description_beside_it_is_the_ref():
    plain = doc({"/pets": {"get": ok(obj(a={"$ref": "#/components/schemas/A"}))}}, {"A": S})
    annotated = doc({"/pets": {"get": ok(obj(a={"$ref": "#/components/schemas/A", "description": "x"}))}}, {"A": S})
    assert changes(plain, annotated) == []


# --- at random ------------------------------------------------------------------------------------------------------

_SCHEMA_MAPS = ("properties",)
_SCHEMA_VALUES = ("items", "additionalProperties", "not")
_SCHEMA_LISTS = ("allOf", "oneOf", "anyOf")


def _schemas_of_operations(document: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(container, key) of every inline schema reachable from the operations (not through a $ref)."""
    found: list[tuple[Any, Any]] = []

    def schema(container: Any, key: Any) -> None:
        node = container[key]
        if not isinstance(node, dict) or "$ref" in node:
            return
        found.append((container, key))
        for name in _SCHEMA_VALUES:
            if isinstance(node.get(name), dict):
                schema(node, name)
        for name in _SCHEMA_MAPS:
            for prop in node.get(name) or {}:
                schema(node[name], prop)
        for name in _SCHEMA_LISTS:
            for i in range(len(node.get(name) or [])):
                schema(node[name], i)

    def content(owner: Any) -> None:
        for entry in (owner.get("content") or {}).values():
            if "schema" in entry:
                schema(entry, "schema")

    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for param in operation.get("parameters") or []:
                if "schema" in param:
                    schema(param, "schema")
            if isinstance(operation.get("requestBody"), dict):
                content(operation["requestBody"])
            for response in (operation.get("responses") or {}).values():
                content(response)
    return found


def reshape(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same contract written differently: some inline schemas extracted into components, some references to
    components inlined (one level), descriptions and examples rewritten, every mapping's keys and every `required`
    and `enum` list shuffled."""
    out = json.loads(json.dumps(document))  # a copy (and every key a string, as after any re-save)
    schemas = out.setdefault("components", {}).setdefault("schemas", {})
    for n, (container, key) in enumerate(_schemas_of_operations(out)):
        if rng.random() < 0.3:
            schemas[f"Extracted{n}"] = container[key]
            container[key] = {"$ref": f"#/components/schemas/Extracted{n}"}
    originals = copy.deepcopy(schemas)

    def walk(node: Any, in_schema_map: bool = False) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/") and len(node) == 1 and rng.random() < 0.3:
            return copy.deepcopy(originals[ref.rsplit("/", 1)[1]])  # one level: the copy keeps its own refs
        items = []
        for key, value in node.items():
            if not in_schema_map and key in ("description", "summary") and isinstance(value, str):
                value = value[::-1] + " (edited)"
            elif not in_schema_map and key == "example":
                value = rng.choice(["other", 0, None, {"x": 1}])
            elif not in_schema_map and key in ("required", "enum") and isinstance(value, list):
                value = rng.sample(value, len(value))
            else:
                value = walk(value, key in ("properties", "schemas", "paths", "responses", "content", "headers"))
            items.append((key, value))
        rng.shuffle(items)
        return dict(items)

    reshaped: dict[str, Any] = walk(out)
    if rng.random() < 0.5:  # and re-saved in the other format
        text = yaml.dump(reshaped, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(reshaped)
    return documents.parse(text, "reshaped")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(["pets 3.0", "pets 3.1"]), rng=st.randoms(use_true_random=False))
def test_a_contract_written_differently_is_no_change(base, rng):
    document = BASES[base]
    assert changes(document, reshape(document, rng)) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_openhands_contract_written_differently_is_no_change(seed):
    """A few fixed reshapings of the real 47-operation contract (a random one costs too much for the inner loop)."""
    assert changes(OPENHANDS, reshape(OPENHANDS, random.Random(seed))) == []


@settings(max_examples=15, deadline=None)
@given(rng=st.randoms(use_true_random=False))
def test_a_reshaped_contract_still_shows_a_real_change(rng):
    """The reshaping keeps meaning, and keeps a real change visible: a tightened maxLength is still found."""
    edited = copy.deepcopy(PETS_30)
    edited["components"]["schemas"]["NewPet"]["properties"]["name"]["maxLength"] = 10
    rules = {c.rule for c in changes(PETS_30, reshape(edited, rng))}
    assert rules == {"request-property-max-length-decreased"}
