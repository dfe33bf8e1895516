"""The plain helpers of contract/schemas.py: the keyword tables and the functions that read a converted schema
(its references, markers, literal values, `null`), with no state of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from .documents import at_pointer

if TYPE_CHECKING:
    from .schema_views import SchemaViews

Schema = Any  # dict or bool
# Keywords whose values are data, not schemas: never walked for $ref.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "example", "examples", "x-examples"})
_INT_FORMATS = {"int32": 32, "int64": 64}
_DROPPED_30 = frozenset({"nullable", "example", "discriminator", "externalDocs"})
REQUEST, RESPONSE = "request", "response"
# The mock's own answers: as RESPONSE, but a writeOnly property is never sent at all (not even a nullable one as
# null, which RESPONSE accepts from a real server: FastAPI's `SecretStr | None`), so that no checker flags it.
ANSWER = "answer"
# What makes a side's view differ from the schema as written
# A discriminator's pin on a branch: required in answers, only checked when sent in requests (a client may leave the
# tag out where the branches tell themselves apart, as plain JSON Schema reads a oneOf; the checker does)
_PIN = "x-discriminator-pin"
_MARKERS = {RESPONSE: ("writeOnly", "x-writeOnly"), ANSWER: ("writeOnly", "x-writeOnly"), REQUEST: ("readOnly", _PIN)}
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = (
    "items", "additionalProperties", "not", "if", "then", "else", "contains",
    "propertyNames", "unevaluatedItems", "unevaluatedProperties", "additionalItems",
)  # fmt: skip


def _identity(schema: Schema) -> bytes | None:
    """A converted schema as canonical JSON: equal schemas, equal keys. None for a value JSON cannot hold (a YAML
    `!!binary` example, say): such a schema is compiled on its own."""
    try:
        return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return None


def _subschemas(node: dict[str, Any]) -> Iterator[Any]:
    """The schemas directly inside a converted schema, by keyword position: a property named `default` or `enum`
    is a schema, the value of the keyword `default` is data."""
    for key, value in node.items():
        if key in _SCHEMA_MAPS:
            if isinstance(value, dict) and key != "$defs":
                yield from value.values()
        elif key in _SCHEMA_LISTS:
            if isinstance(value, list):
                yield from value
        elif key in _SCHEMA_VALUES:
            yield value


def _refs(node: Any) -> set[str]:
    """The `$defs` keys a converted schema refers to directly (not through other definitions)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                found.add(ref[len("#/$defs/") :])
            stack.extend(_subschemas(item))
    return found


def _has_marker(node: Any, keys: tuple[str, ...]) -> bool:
    """Whether one of `keys` is true anywhere in a converted schema's own tree (not through `$ref`s)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if any(item.get(k) is True for k in keys):
                return True
            stack.extend(_subschemas(item))
    return False


def _literals(schema: Any) -> set[str] | None:
    """The string values a schema pins (`const`, `enum`, or either inside a nullable union), or None."""
    if not isinstance(schema, dict):
        return None
    if isinstance(schema.get("const"), str):
        return {schema["const"]}
    if isinstance(schema.get("enum"), list):
        return {v for v in schema["enum"] if isinstance(v, str)} or None
    for keyword in ("anyOf", "oneOf"):
        variants = schema.get(keyword)
        if isinstance(variants, list):
            found: set[str] = set()
            for variant in variants:
                if isinstance(variant, dict) and variant.get("type") == "null":
                    continue
                values = _literals(variant)
                if values is None:
                    return None
                found |= values
            return found or None
    return None


def _from_openapi30(schema: dict[str, Any]) -> dict[str, Any]:
    nullable = schema.get("nullable") is True
    out = {k: v for k, v in schema.items() if k not in _DROPPED_30}
    if "example" in schema and "examples" not in out:  # 2020-12 spells the annotation as a list (realism reads it)
        out["examples"] = [schema["example"]]
    for bound in ("Minimum", "Maximum"):
        flag = out.get("exclusive" + bound)
        if isinstance(flag, bool):
            del out["exclusive" + bound]
            if flag and bound.lower() in out:
                out["exclusive" + bound] = out.pop(bound.lower())
    if nullable:  # as the checker reads it: the schema, or null (a `type` list would still fail an allOf)
        out = {"anyOf": [out, {"type": "null"}]}
    return out


_MISSING = object()
_ANNOTATIONS = frozenset(
    {"title", "description", "$comment", "deprecated", "readOnly", "writeOnly", "default", "examples"}
)


def _only_ref(schema: Any) -> str | None:
    """The $defs key a schema is nothing but a reference to ({$ref} or {allOf: [{$ref}]} plus annotations)."""
    if not isinstance(schema, dict):
        return None
    if set(schema) - _ANNOTATIONS == {"allOf"} and isinstance(schema["allOf"], list) and len(schema["allOf"]) == 1:
        schema = schema["allOf"][0]
    if isinstance(schema, dict) and set(schema) == {"$ref"} and isinstance(schema["$ref"], str):
        return schema["$ref"].removeprefix("#/$defs/")
    return None


def _lookup(document: Any, pointer: str) -> Any:
    return at_pointer(document, pointer, _MISSING)


def lookup(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None when nothing is there."""
    return at_pointer(document, pointer)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def accepts_null(schema: Schema, schemas: SchemaViews) -> bool:
    """Whether `null` is valid for the schema, looked up structurally (no validator needed)."""
    schema = schemas.resolve(schema)
    if schema is True:
        return True
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "null" or (isinstance(schema.get("type"), list) and "null" in schema["type"]):
        return True
    return any(accepts_null(branch, schemas) for branch in schema.get("anyOf", []) + schema.get("oneOf", []))


def branches(schema: Schema, schemas: SchemaViews) -> list[Schema]:
    """The top-level `anyOf`/`oneOf` alternatives of a schema (empty when it has none)."""
    schema = schemas.resolve(schema)
    if not isinstance(schema, dict):
        return []
    return list(schema.get("anyOf") or schema.get("oneOf") or [])
