"""OpenAPI schema objects to JSON Schema 2020-12, in one place.

Rules: the only module that knows OpenAPI 3.0's schema dialect (`nullable`, boolean `exclusiveMinimum`, ignored
`$ref` siblings). Every `$ref` to a schema becomes `#/$defs/<key>`, and each referenced schema is converted once, so
recursive schemas stay finite. A schema that is not valid JSON Schema raises `DocumentError` with its pointer.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from .documents import DocumentError, escape

Schema = Any  # dict or bool
# Keywords whose values are data, not schemas: never walked for $ref.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "example", "examples", "x-examples"})
_INT_FORMATS = {"int32": 32, "int64": 64}
_DROPPED_30 = frozenset({"nullable", "example", "discriminator", "xml", "externalDocs"})


class SchemaSet:
    """Converts the schemas of one bundled document, sharing a single `$defs` table."""

    def __init__(self, document: dict[str, Any], file: str, *, openapi30: bool) -> None:
        self.document = document
        self.file = file
        self.openapi30 = openapi30
        self.defs: dict[str, Schema] = {}
        self._keys: dict[str, str] = {}  # JSON pointer -> $defs key
        self._pointers: dict[str, str] = {}  # $defs key -> JSON pointer
        self._deps: dict[str, set[str]] = {}  # $defs key -> the keys it refers to directly

    def convert(self, schema: Any, pointer: str) -> Schema:
        """The converted schema found at `pointer`, checked against the JSON Schema meta-schema."""
        converted = self._walk(schema, pointer)
        self._check(converted, pointer)
        return converted

    def standalone(self, schema: Schema) -> Schema:
        """A schema with the definitions it reaches attached, ready for a validator or a generator. Only the
        reachable ones: a validator compiled with every definition of a 500-operation contract costs milliseconds."""
        if isinstance(schema, bool):
            return schema
        reached: set[str] = set()
        pending = list(_refs(schema))
        while pending:
            key = pending.pop()
            if key in reached or key not in self.defs:
                continue
            reached.add(key)
            if key not in self._deps:
                self._deps[key] = _refs(self.defs[key])
            pending.extend(self._deps[key])
        return {**schema, "$defs": {k: self.defs[k] for k in sorted(reached)}} if reached else schema

    def resolve(self, schema: Schema) -> Schema:
        """Follows a top-level `#/$defs/` reference (one hop at a time, until a schema with content)."""
        seen = set()
        while isinstance(schema, dict) and "$ref" in schema and len(schema) == 1:
            key = schema["$ref"].removeprefix("#/$defs/")
            if key in seen:
                break
            seen.add(key)
            schema = self.defs.get(key, schema)
        return schema

    def _walk(self, node: Any, pointer: str) -> Schema:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise DocumentError(self.file, pointer, f"schema must be an object or a boolean, got {_kind(node)}")
        if "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                raise DocumentError(self.file, pointer + "/$ref", "$ref must be a string")
            target = {"$ref": "#/$defs/" + self._key(ref, pointer + "/$ref")}
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if self.openapi30:
                # 3.0 ignores $ref siblings; `nullable` beside a $ref is common enough to honour.
                return {"anyOf": [target, {"type": "null"}]} if siblings.get("nullable") is True else target
            if not siblings:
                return target
            rest = self._walk(siblings, pointer)
            return {**rest, "allOf": [*rest.get("allOf", []), target]} if isinstance(rest, dict) else target
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = f"{pointer}/{escape(key)}"
            if key in _DATA_KEYWORDS or key.startswith("x-"):
                out[key] = value
            elif key in ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas"):
                if not isinstance(value, dict):
                    raise DocumentError(self.file, child, f"'{key}' must be an object, got {_kind(value)}")
                out[key] = {name: self._walk(sub, f"{child}/{escape(name)}") for name, sub in value.items()}
            elif key in ("allOf", "anyOf", "oneOf", "prefixItems") or (key == "items" and isinstance(value, list)):
                if not isinstance(value, list):
                    raise DocumentError(self.file, child, f"'{key}' must be an array, got {_kind(value)}")
                out[key] = [self._walk(sub, f"{child}/{i}") for i, sub in enumerate(value)]
            elif key in (
                "items", "additionalProperties", "not", "if", "then", "else", "contains",
                "propertyNames", "unevaluatedItems", "unevaluatedProperties", "additionalItems",
            ):  # fmt: skip
                out[key] = self._walk(value, child) if isinstance(value, (dict, bool)) else value
            else:
                out[key] = value
        if self.openapi30:
            out = _from_openapi30(out)
        if isinstance(out.get("items"), list):  # draft-4 style tuple; 2020-12 spells it prefixItems
            out["prefixItems"] = out.pop("items")
        bits = _INT_FORMATS.get(str(out.get("format")))  # OpenAPI's int32/int64 are ranges JSON Schema does not know
        if bits and out.get("type") in ("integer", ["integer"], ["integer", "null"]):
            low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
            if not isinstance(out.get("minimum"), (int, float)) or out["minimum"] < low:
                out["minimum"] = low
            if not isinstance(out.get("maximum"), (int, float)) or out["maximum"] > high:
                out["maximum"] = high
        return out

    def _key(self, ref: str, pointer: str) -> str:
        if not ref.startswith("#"):
            raise DocumentError(self.file, pointer, f"$ref {ref!r} was not bundled (unsupported reference)")
        target_pointer = ref[1:]
        if target_pointer in self._keys:
            return self._keys[target_pointer]
        target = _lookup(self.document, target_pointer)
        if target is _MISSING:
            raise DocumentError(self.file, pointer, f"$ref {ref!r} points nowhere")
        key = target_pointer.rsplit("/", 1)[-1].replace("~1", "_").replace("~0", "_") or "root"
        base, n = key, 1
        while key in self.defs:
            n += 1
            key = f"{base}_{n}"
        self._keys[target_pointer] = key
        self._pointers[key] = target_pointer
        self.defs[key] = True  # placeholder: a recursive schema refers to its own key while being converted
        self.defs[key] = self._walk(target, target_pointer)
        self._check_cycle(key, target_pointer)
        return key

    def _check_cycle(self, key: str, pointer: str) -> None:
        """Rejects `$ref`s that only lead back to themselves (A -> B -> A): no schema is ever reached."""
        chain = [key]
        for _ in range(len(self.defs)):
            following = _only_ref(self.defs.get(chain[-1]))
            if following is None or following in chain[1:]:
                return
            if following == key:
                pointers = {k: p for p, k in self._keys.items()}
                path = " -> ".join(pointers.get(k, k) for k in [*chain, key])
                raise DocumentError(self.file, pointer, f"circular $ref that never reaches a schema: {path}")
            chain.append(following)

    def _check(self, schema: Schema, pointer: str) -> None:
        try:
            jsonschema_rs.validator_for(self.standalone(schema), validate_formats=True)
        except jsonschema_rs.ValidationError as exc:
            path = list(exc.instance_path)
            if len(path) >= 2 and path[0] == "$defs" and path[1] in self._pointers:  # the error is in a definition
                pointer, path = self._pointers[path[1]], path[2:]
            where = pointer + "".join("/" + escape(str(p)) for p in path)
            raise DocumentError(self.file, where, "not a valid JSON Schema: " + exc.message) from None
        except (ValueError, jsonschema_rs.ReferencingError) as exc:
            raise DocumentError(self.file, pointer, f"not a valid JSON Schema: {exc}") from None


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
            stack.extend(v for k, v in item.items() if k not in _DATA_KEYWORDS and k != "$defs")
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _from_openapi30(schema: dict[str, Any]) -> dict[str, Any]:
    nullable = schema.get("nullable") is True
    out = {k: v for k, v in schema.items() if k not in _DROPPED_30}
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
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


def lookup(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None when nothing is there."""
    found = _lookup(document, pointer)
    return None if found is _MISSING else found


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def accepts_null(schema: Schema, schemas: SchemaSet) -> bool:
    """Whether `null` is valid for the schema, looked up structurally (no validator needed)."""
    schema = schemas.resolve(schema)
    if schema is True:
        return True
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "null" or (isinstance(schema.get("type"), list) and "null" in schema["type"]):
        return True
    return any(accepts_null(branch, schemas) for branch in schema.get("anyOf", []) + schema.get("oneOf", []))


def branches(schema: Schema, schemas: SchemaSet) -> list[Schema]:
    """The top-level `anyOf`/`oneOf` alternatives of a schema (empty when it has none)."""
    schema = schemas.resolve(schema)
    if not isinstance(schema, dict):
        return []
    return list(schema.get("anyOf") or schema.get("oneOf") or [])
