"""Checking converted schemas against the JSON Schema meta-schema (a mistake dropped with a warning, or refused
with `strict`) and compiling their validators, one per distinct schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs

from .documents import DocumentError, escape
from .schema_helpers import _SCHEMA_LISTS, _SCHEMA_MAPS, _SCHEMA_VALUES, Schema, _identity
from .schema_views import SchemaViews


class SchemaChecks(SchemaViews):
    """The meta-schema check and the validators of a `SchemaSet`."""

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
        defs = schema.get("$defs") if isinstance(schema, dict) else None
        fresh = [k for k in defs if k not in self._scanned] if isinstance(defs, dict) else []
        own = {k: v for k, v in schema.items() if k != "$defs"} if isinstance(schema, dict) else schema
        found_in = [_patterns(own, [])] + [_patterns(defs[k], ["$defs", k]) for k in fresh]  # type: ignore[index]
        for path, pattern in (pair for pairs in found_in for pair in pairs):
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
        self._scanned.update(fresh)  # a definition with a bad pattern raised above: read again once repaired

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
