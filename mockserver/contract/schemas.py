"""OpenAPI schema objects to JSON Schema 2020-12, in one place.

Rules: the only module that knows OpenAPI's schema dialect (3.0's `nullable`, boolean `exclusiveMinimum`, ignored
`$ref` siblings; `discriminator`, `readOnly`, `writeOnly`). Every `$ref` to a schema becomes `#/$defs/<key>`, and
each referenced schema is converted once, so recursive schemas stay finite. A discriminator becomes a pin of its
property on each `oneOf`/`anyOf` branch, so the branch is picked by the value. Each side of an exchange has its
view: `view(schema, RESPONSE)` forbids writeOnly properties (warning once for a required one), `view(schema,
REQUEST)` makes readOnly properties optional (and, in a 3.1 document, honours a leftover `nullable: true`). A view
is built lazily, per definition, and only where it differs: other definitions are shared, not copied.
Leniency (docs/leniency.md): a mistake that leaves the schema usable is a warning (file, pointer, reason, what is
done instead): duplicate `required` entries are dropped, a 3.0-style boolean `exclusiveMinimum` in a 3.1 document is
read as 3.0 reads it, a keyword with an invalid value (a `pattern` that is not a regex, `$recursiveAnchor: true`)
is ignored, a `$ref` that leads nowhere accepts anything. With `strict`, each raises `DocumentError` with its pointer.
Keywords are read by position: a property named `default` or `enum` is a property.
"""

from __future__ import annotations

from typing import Any

from .documents import DocumentError, escape
from .schema_checks import SchemaChecks
from .schema_helpers import (
    _DATA_KEYWORDS,
    _INT_FORMATS,
    _MISSING,
    _PIN,
    ANSWER,
    REQUEST,
    RESPONSE,
    Schema,
    _from_openapi30,
    _identity,
    _kind,
    _literals,
    _lookup,
    _only_ref,
    accepts_null,
    branches,
    lookup,
)

__all__ = ["ANSWER", "REQUEST", "RESPONSE", "Schema", "SchemaSet", "accepts_null", "branches", "lookup"]


class SchemaSet(SchemaChecks):
    """Converts the schemas of one bundled document, sharing a single `$defs` table."""

    def convert(self, schema: Any, pointer: str) -> Schema:
        """The converted schema found at `pointer`, checked against the JSON Schema meta-schema."""
        converted = self._walk(schema, pointer)
        return self._check(converted, pointer)

    def _walk(self, node: Any, pointer: str) -> Schema:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            self._mistake(pointer, f"schema must be an object or a boolean, got {_kind(node)}", "any value accepted")
            return True
        if "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str):
                self._mistake(pointer + "/$ref", "$ref must be a string", "$ref ignored")
                return self._walk({k: v for k, v in node.items() if k != "$ref"}, pointer)
            try:
                target: Schema = {"$ref": "#/$defs/" + self._key(ref, pointer + "/$ref")}
            except DocumentError as exc:
                if self.strict:
                    raise
                self._warn(exc.pointer, f"{exc.reason}; any value accepted there")
                target = True
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if self._is30(pointer):
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
                    self._mistake(child, f"'{key}' must be an object, got {_kind(value)}", f"'{key}' ignored")
                    continue
                out[key] = {name: self._walk(sub, f"{child}/{escape(name)}") for name, sub in value.items()}
            elif key in ("allOf", "anyOf", "oneOf", "prefixItems") or (key == "items" and isinstance(value, list)):
                if not isinstance(value, list):
                    self._mistake(child, f"'{key}' must be an array, got {_kind(value)}", f"'{key}' ignored")
                    continue
                out[key] = [self._walk(sub, f"{child}/{i}") for i, sub in enumerate(value)]
            elif key in (
                "items", "additionalProperties", "not", "if", "then", "else", "contains",
                "propertyNames", "unevaluatedItems", "unevaluatedProperties", "additionalItems",
            ):  # fmt: skip
                out[key] = self._walk(value, child) if isinstance(value, (dict, bool)) else value
            else:
                out[key] = value
        if not self.strict:
            self._tidy(out, pointer)
        if "discriminator" in out:
            self._discriminate(node, out)
        if self._is30(pointer):
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

    def _tidy(self, out: dict[str, Any], pointer: str) -> None:
        """The contract mistakes whose meaning is plain, read as meant (each said once): duplicate `required`
        entries, and 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` left in a 3.1 document."""
        required = out.get("required")
        if isinstance(required, list) and len(required) != len({_identity(r) for r in required}):
            unique = [r for i, r in enumerate(required) if r not in required[:i]]
            out["required"] = unique
            self._warn(f"{pointer}/required", "duplicate entries in 'required'; each is required once")
        if not self._is30(pointer):
            for bound in ("Minimum", "Maximum"):
                flag = out.get("exclusive" + bound)
                if isinstance(flag, bool):
                    self._warn(
                        f"{pointer}/exclusive{bound}",
                        f"'exclusive{bound}: {str(flag).lower()}' is OpenAPI 3.0's form in a 3.1 document; read as 3.0 "
                        "reads it",
                    )
                    del out["exclusive" + bound]
                    if flag and bound.lower() in out:
                        out["exclusive" + bound] = out.pop(bound.lower())

    def _discriminate(self, raw: dict[str, Any], out: dict[str, Any]) -> None:
        """Pins the discriminator's property on each `oneOf`/`anyOf` branch that is a `$ref`: to the `mapping` keys
        naming it, else to its schema name. A branch that spells out its own tag values keeps them (a pin outside
        them would leave the branch impossible), and a branch that is itself polymorphic is left alone."""
        discriminator = out.pop("discriminator")
        name = discriminator.get("propertyName") if isinstance(discriminator, dict) else None
        if not isinstance(name, str) or not name:
            return
        mapping = discriminator.get("mapping")
        explicit: dict[str, list[str]] = {}
        for value, target in mapping.items() if isinstance(mapping, dict) else ():
            if isinstance(target, str):
                ref = target if target.startswith("#") or "/" in target else f"#/components/schemas/{target}"
                explicit.setdefault(ref, []).append(str(value))
        for keyword in ("oneOf", "anyOf"):
            raw_branches, converted = raw.get(keyword), out.get(keyword)
            if not isinstance(raw_branches, list) or not isinstance(converted, list):
                continue
            pinned = []
            for raw_branch, branch in zip(raw_branches, converted, strict=False):
                found = raw_branch.get("$ref") if isinstance(raw_branch, dict) else None
                ref = found if isinstance(found, str) else ""
                target = _lookup(self.document, ref[1:]) if ref.startswith("#") else _MISSING
                if not ref or not isinstance(target, dict) or {"oneOf", "anyOf"} & target.keys():
                    pinned.append(branch)
                    continue
                own = self._tag_values(target, name, set())
                values = explicit.get(ref)
                if values is None and own is not None:
                    pinned.append(branch)  # the branch discriminates itself
                    continue
                values = values or [ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")]
                if own is not None:
                    values = [v for v in values if v in own]
                if not values:
                    pinned.append(branch)
                    continue
                tag = {"properties": {name: {"enum": values}}, "required": [name], _PIN: True}
                pinned.append({"allOf": [branch, tag]})
            out[keyword] = pinned

    def _tag_values(self, raw: Any, name: str, seen: set[int]) -> set[str] | None:
        """The literal values a raw branch allows for the discriminator property (through `allOf` and `$ref`), or
        None when it does not constrain them."""
        if not isinstance(raw, dict) or id(raw) in seen:
            return None
        seen.add(id(raw))
        ref = raw.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            return self._tag_values(_lookup(self.document, ref[1:]), name, seen)
        properties = raw.get("properties")
        values = _literals(properties.get(name)) if isinstance(properties, dict) else None
        for branch in raw.get("allOf") or []:
            found = self._tag_values(branch, name, seen)
            if found is not None:
                values = found if values is None else values & found
        return values

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
                self._mistake(pointer, f"circular $ref that never reaches a schema: {path}", "any value accepted")
                self.defs[key] = True
                return
            chain.append(following)
