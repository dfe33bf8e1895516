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

from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema_rs
import orjson

from .documents import DocumentError, escape

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


class SchemaSet:
    """Converts the schemas of one bundled document, sharing a single `$defs` table."""

    def __init__(self, document: dict[str, Any], file: str, *, openapi30: bool, strict: bool = False) -> None:
        self.document = document
        self.file = file
        self.openapi30 = openapi30
        # (pointer prefix, openapi30) for documents merged into this one (contract/mount.py): their own dialect
        self.dialects: list[tuple[str, bool]] = []
        self.strict = strict  # refuse every mistake instead of warning and working around it
        self.defs: dict[str, Schema] = {}
        self._keys: dict[str, str] = {}  # JSON pointer -> $defs key
        self._pointers: dict[str, str] = {}  # $defs key -> JSON pointer
        self._deps: dict[str, set[str]] = {}  # $defs key -> the keys it refers to directly
        self._views: dict[tuple[str, str], str] = {}  # ($defs key, side) -> key of its view
        self._differs: dict[tuple[str, str], bool] = {}  # ($defs key, side) -> whether its view differs
        self._direct: dict[tuple[str, str], bool] = {}  # ($defs key, side) -> a marker in its own tree
        self._warned: set[tuple[str, str]] = set()
        self._said: set[str] = set()  # warnings given already (a definition is converted once, a view many times)
        self.warnings: list[str] = []  # problems of the contract found while building views (said at start-up)
        self.mistakes: list[str] = []  # contract mistakes worked around (counted at start-up, listed with --verbose)
        self._compiled: dict[bytes, jsonschema_rs.Validator] = {}  # a schema's JSON -> its validator
        self._checked: set[bytes] = set()  # schemas found valid, by their JSON
        self._regexes: dict[str, str] = {}  # pattern -> "" when it compiles, else why not

    def convert(self, schema: Any, pointer: str) -> Schema:
        """The converted schema found at `pointer`, checked against the JSON Schema meta-schema."""
        converted = self._walk(schema, pointer)
        return self._check(converted, pointer)

    def _is30(self, pointer: str) -> bool:
        """Whether the schema at `pointer` is read as OpenAPI 3.0 (its merged document's version, else this one's)."""
        for prefix, openapi30 in self.dialects:
            if pointer == prefix or pointer.startswith(prefix + "/"):
                return openapi30
        return self.openapi30

    def standalone(self, schema: Schema) -> Schema:
        """A schema with the definitions it reaches attached, ready for a validator or a generator. Only the
        reachable ones: a validator compiled with every definition of a 500-operation contract costs milliseconds."""
        if isinstance(schema, bool):
            return schema
        reached = self._reach(_refs(schema))
        return {**schema, "$defs": {k: self.defs[k] for k in sorted(reached)}} if reached else schema

    def _reach(self, keys: Iterable[str]) -> set[str]:
        """The definitions these keys name and every definition those reach (each one's references read once)."""
        reached: set[str] = set()
        pending = list(keys)
        while pending:
            key = pending.pop()
            if key in reached or key not in self.defs:
                continue
            reached.add(key)
            if key not in self._deps:
                self._deps[key] = _refs(self.defs[key])
            pending.extend(self._deps[key])
        return reached

    def view(self, schema: Schema, side: str, where: str = "") -> Schema:
        """The schema as `side` (REQUEST or RESPONSE) sees it; the schema itself when nothing differs. `where` names
        an inline schema in warnings (a definition is named by its own pointer)."""
        if not self._node_differs(schema, side):
            return schema
        return self._view(schema, side, where)

    def properties(self, schema: Schema) -> dict[str, Schema]:
        """The properties of an object schema with those of its `allOf` branches, the first declaration of a name
        kept (what a form's fields are, what a list wrapper holds)."""
        found: dict[str, Schema] = {}
        pending, seen = [schema], 0
        while pending and seen < 50:
            seen += 1
            node = self.resolve(pending.pop())
            if not isinstance(node, dict):
                continue
            properties = node.get("properties")
            for name, sub in properties.items() if isinstance(properties, dict) else ():
                found.setdefault(name, sub)
            pending.extend(node.get("allOf") or [])
        return found

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

    def _mistake(self, pointer: str, reason: str, instead: str) -> None:
        """A contract mistake the schema can do without: refused with `strict`, else a warning saying what is done."""
        if self.strict:
            raise DocumentError(self.file, pointer, reason)
        self._warn(pointer, f"{reason}; {instead}")

    def _warn(self, pointer: str, text: str) -> None:
        line = f"{self.file}#{pointer}: {text}" if pointer.startswith("/") else f"{self.file}: {text}"
        if line not in self._said:
            self._said.add(line)
            self.mistakes.append(line)

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

    # --- views ------------------------------------------------------------------------------------------------------

    def _node_differs(self, node: Any, side: str) -> bool:
        """Whether the view of a converted schema differs from it: a marker in its tree or a definition it reaches."""
        if _has_marker(node, self._marker_keys(side)):
            return True
        return any(self._key_differs(key, side) for key in _refs(node))

    def _marker_keys(self, side: str) -> tuple[str, ...]:
        return _MARKERS[side] + (("nullable",) if side == REQUEST and not self.openapi30 else ())

    def _key_differs(self, key: str, side: str) -> bool:
        found = self._differs.get((key, side))
        if found is not None:
            return found
        # its view differs when a definition it reaches holds a marker
        differs = any(self._direct_marker(k, side) for k in self._reach([key]))
        self._differs[(key, side)] = differs
        return differs

    def _direct_marker(self, key: str, side: str) -> bool:
        found = self._direct.get((key, side))
        if found is None:
            found = self._direct[(key, side)] = _has_marker(self.defs[key], self._marker_keys(side))
        return found

    def _view_key(self, key: str, side: str) -> str:
        """The `$defs` key of a definition's view, built on first use (a placeholder first: views recurse too)."""
        found = self._views.get((key, side))
        if found is not None:
            return found
        name, n = f"{key}.{side}", 1
        while name in self.defs:
            n += 1
            name = f"{key}.{side}{n}"
        self._views[(key, side)] = name
        pointer = self._pointers.get(key, "")
        self._pointers[name] = pointer
        self.defs[name] = True
        self.defs[name] = self._view(self.defs[key], side, pointer)
        return name

    def _view(self, node: Any, side: str, where: str) -> Schema:
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = f"{where}/{escape(key)}"
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                target = value[len("#/$defs/") :]
                out[key] = "#/$defs/" + self._view_key(target, side) if self._key_differs(target, side) else value
            elif key in _DATA_KEYWORDS or key.startswith("x-"):
                out[key] = value
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: self._view(sub, side, f"{child}/{escape(name)}") for name, sub in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self._view(sub, side, f"{child}/{i}") for i, sub in enumerate(value)]
            elif key in _SCHEMA_VALUES:
                out[key] = self._view(value, side, child)
            else:
                out[key] = value
        marked = self._marked_properties(node, side) if "properties" in node or "required" in node else set()
        if marked:
            if side in (RESPONSE, ANSWER):  # never sent: forbidden, so nothing can add it back
                own = out.get("properties")
                if isinstance(own, dict):
                    # a nullable one (FastAPI's `SecretStr | None`) may still be answered null: that is no leak
                    out["properties"] = {
                        k: (({"type": "null"} if side == RESPONSE and accepts_null(node["properties"][k], self)
                             else False) if k in marked else v)
                        for k, v in own.items()
                    }  # fmt: skip
            required = out.get("required")
            if isinstance(required, list):
                dropped = [name for name in required if name in marked]
                if side in (RESPONSE, ANSWER):
                    for name in dropped:
                        self._warn_required_write_only(where, name)
                kept = [name for name in required if name not in marked]
                if kept:
                    out["required"] = kept
                else:
                    out.pop("required")
        if side == REQUEST and out.get(_PIN) is True:
            out.pop("required", None)
        if side == REQUEST and not self.openapi30 and out.get("nullable") is True:
            # A 3.1 document that still says `nullable: true` (a converted 3.0 one) means it; requests take null
            rest = {k: v for k, v in out.items() if k != "nullable"}
            return {"anyOf": [rest, {"type": "null"}]}
        return out

    def _marked_properties(self, node: dict[str, Any], side: str) -> set[str]:
        """Names of the properties declared here or in `allOf` branches (through `$ref`s) that `side` treats
        specially: writeOnly for responses, readOnly for requests."""
        keys = _MARKERS[side]
        found: set[str] = set()
        pending: list[Any] = [node]
        seen: set[int] = set()
        while pending:
            current = self.resolve(pending.pop())
            if not isinstance(current, dict) or id(current) in seen:
                continue
            seen.add(id(current))
            properties = current.get("properties")
            if isinstance(properties, dict):
                found.update(name for name, sub in properties.items() if self._annotated(sub, keys))
            branches = current.get("allOf")
            if isinstance(branches, list):
                pending.extend(branches)
        return found

    def write_only(self, schema: Any) -> bool:
        """Whether a property schema is writeOnly (never in a response), as the response view reads it."""
        return self._annotated(schema, _MARKERS[RESPONSE])

    def _annotated(self, schema: Any, keys: tuple[str, ...]) -> bool:
        """Whether readOnly/writeOnly applies to a property schema: on it, behind its `$ref`, in an `allOf` branch,
        or on the one non-null side of a nullable union (FastAPI's `SecretStr | None`). As the checker reads it."""
        pending: list[Any] = [schema]
        seen: set[int] = set()
        while pending:
            node = pending.pop()
            if not isinstance(node, dict) or id(node) in seen:
                continue
            seen.add(id(node))
            if any(node.get(k) is True for k in keys):
                return True
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                pending.append(self.defs.get(ref[len("#/$defs/") :]))
            if isinstance(node.get("allOf"), list):
                pending.extend(node["allOf"])
            for keyword in ("anyOf", "oneOf"):
                variants = node.get(keyword)
                if isinstance(variants, list):
                    real = [v for v in variants if self.resolve(v) != {"type": "null"}]
                    if len(real) == 1:
                        pending.append(real[0])
        return False

    def _warn_required_write_only(self, where: str, name: str) -> None:
        if (where, name) in self._warned:
            return
        self._warned.add((where, name))
        place = f"{self.file}#{where}" if where.startswith("/") else where or self.file
        self.warnings.append(
            f"{place}: property {name!r} is required but writeOnly; responses leave it out (the contract cannot "
            "have both)"
        )

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

    def validator(self, schema: Schema, formats: bool = True) -> jsonschema_rs.Validator:
        """A compiled validator of a converted schema (`format` checked unless `formats` is False), one per distinct
        schema: a contract repeats the same few (`{"$ref": "#/$defs/Error"}` in every operation, `{"type":
        "string"}` in every path), and each compiled copy costs time and memory."""
        key = _identity(schema)
        if key is not None and not formats:
            key = b"formats off:" + key
        found = self._compiled.get(key) if key is not None else None
        if found is None:
            found = jsonschema_rs.validator_for(self.standalone(schema), validate_formats=formats)
            if key is not None:
                self._compiled[key] = found
        return found

    def _check(self, schema: Schema, pointer: str) -> Schema:
        """The schema, checked against the meta-schema. A keyword with an invalid value is refused with `strict`,
        else ignored with a warning (and the check repeated); a schema past repair accepts anything."""
        for _ in range(_REPAIRS):
            key = _identity(schema)
            if key is not None and key in self._checked:  # the same schema checked already (4,200 -> 213 in bench/)
                return schema
            try:
                self._valid(self.standalone(schema))
            except (jsonschema_rs.ValidationError, _PatternError) as exc:
                path, where = self._located(list(exc.instance_path), pointer)
                reason = "not a valid JSON Schema: " + exc.message
                if self.strict:
                    raise DocumentError(self.file, where, reason) from None
                dropped = self._drop(schema, path)
                if dropped is None:
                    self._warn(where, f"{reason}; any value accepted")
                    return True
                self._warn(where, f"{reason}; {dropped} ignored")
                continue
            # jsonschema-rs 0.58 (the release Python 3.10 installs) stubs this without its Exception base
            except (ValueError, jsonschema_rs.ReferencingError) as exc:  # type: ignore[misc]
                if self.strict:
                    raise DocumentError(self.file, pointer, f"not a valid JSON Schema: {exc}") from None
                self._warn(pointer, f"not a valid JSON Schema: {exc}; any value accepted")
                return True
            if key is not None:
                self._checked.add(key)
            return schema
        self._warn(pointer, "not a valid JSON Schema (too many mistakes); any value accepted")
        return True

    def _valid(self, schema: Schema) -> None:
        """Raises what makes a standalone schema unusable: the meta-schema's verdict, then each `pattern` compiled
        on its own, once per distinct pattern. Not the whole schema compiled: a published contract's bounded
        Unicode classes (`^[^\\u0000\\r\\n]{1,4096}$`) cost ~100 ms each to compile, and a whole-schema compile
        per operation repeats them all (the validators requests need are compiled when they need them)."""
        meta = getattr(jsonschema_rs, "meta", None)
        if meta is None:  # an old jsonschema-rs: compile it whole
            jsonschema_rs.validator_for(schema, validate_formats=True)
            return
        meta.validate(schema)
        for path, pattern in _patterns(schema, []):
            found = self._regexes.get(pattern)
            if found is None:
                try:
                    jsonschema_rs.validator_for({"pattern": pattern})
                    found = ""
                except (jsonschema_rs.ValidationError, ValueError) as exc:
                    found = str(getattr(exc, "message", exc)).splitlines()[0]
                self._regexes[pattern] = found
            if found:
                raise _PatternError(path, found)

    def _located(self, path: list[Any], pointer: str) -> tuple[list[Any], str]:
        """A meta-schema error's path and the contract pointer it names (a definition's own, when it is in one)."""
        where, rest = pointer, path
        if len(path) >= 2 and path[0] == "$defs" and path[1] in self._pointers:  # the error is in a definition
            where, rest = self._pointers[path[1]], path[2:]
        return path, where + "".join("/" + escape(str(p)) for p in rest)

    def _drop(self, schema: Schema, path: list[Any]) -> str | None:
        """Removes what a meta-schema error's path points at: the keyword of the innermost schema on the path
        (a schema on the path that is not an object becomes `true`). What was dropped, or None."""
        node: Any = schema
        parent: Any = None
        slot: Any = None
        i = 0
        if len(path) >= 2 and path[0] == "$defs" and path[1] in self.defs:
            parent, slot, node, i = self.defs, path[1], self.defs[path[1]], 2
        while i < len(path) and isinstance(node, dict):
            token = path[i]
            value = node.get(token)
            if i + 1 < len(path) and token in _SCHEMA_MAPS and isinstance(value, dict) and path[i + 1] in value:
                parent, slot, node, i = value, path[i + 1], value[path[i + 1]], i + 2
            elif i + 1 < len(path) and token in _SCHEMA_LISTS and isinstance(value, list):
                index = int(path[i + 1])
                parent, slot, node, i = value, index, value[index], i + 2
            elif i + 1 < len(path) and token in _SCHEMA_VALUES and isinstance(value, dict):
                parent, slot, node, i = node, token, value, i + 1
            elif token in node:
                del node[token]
                return f"'{token}'"
            else:
                break
        if parent is not None and i == len(path):
            parent[slot] = True
            return "the schema"
        return None


_REPAIRS = 100  # keywords dropped from one schema before it is given up as accepting anything


class _PatternError(Exception):
    """A `pattern` the validator cannot compile, where it is: a meta-schema error's shape."""

    def __init__(self, instance_path: list[Any], message: str) -> None:
        super().__init__(message)
        self.instance_path, self.message = instance_path, message


def _patterns(node: Any, path: list[Any]) -> Iterator[tuple[list[Any], str]]:
    """Each `pattern` (and `patternProperties` as a whole, when one of its keys is a pattern) with its path."""
    if not isinstance(node, dict):
        return
    if isinstance(node.get("pattern"), str):
        yield [*path, "pattern"], node["pattern"]
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            if key == "patternProperties":
                yield from (([*path, key], name) for name in value if isinstance(name, str))
            for name, sub in value.items():
                yield from _patterns(sub, [*path, key, name])
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from _patterns(sub, [*path, key, i])
        elif key in _SCHEMA_VALUES:
            yield from _patterns(value, [*path, key])


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
