"""The table of converted schemas (`$defs`, resolution, warnings) and each side's view of a schema (REQUEST,
RESPONSE, ANSWER): readOnly and writeOnly properties, discriminator pins and a 3.1 `nullable`; contract/schemas.py
builds on it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jsonschema_rs

from .documents import DocumentError, escape
from .schema_helpers import (
    _DATA_KEYWORDS,
    _MARKERS,
    _PIN,
    _SCHEMA_LISTS,
    _SCHEMA_MAPS,
    _SCHEMA_VALUES,
    ANSWER,
    REQUEST,
    RESPONSE,
    Schema,
    _has_marker,
    _refs,
    accepts_null,
)


class SchemaViews:
    """The `$defs` table of one bundled document and the views of its schemas (`SchemaSet` converts into it)."""

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
        self._scanned: set[str] = set()  # definitions whose patterns all compile (not read again for each schema)

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
        """The properties of an object schema with those of its `allOf` branches (and of the object a nullable one
        is), the first declaration of a name kept (what a form's fields are, what a list wrapper holds)."""
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
            either = node.get("anyOf")  # a nullable object (3.0's `nullable` is `anyOf: [object, null]`)
            if isinstance(either, list) and len(either) == 2 and {"type": "null"} in either:
                pending.extend(b for b in either if b != {"type": "null"})
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
