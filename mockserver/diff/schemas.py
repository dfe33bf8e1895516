"""What changed between two schemas, judged by the side that reads the value.

Rules: a request schema is read by the server, so a change may only let more through (a narrowed type, a new
required property, a lowered maxLength break clients); a response schema is read by clients, so a change may only
let less through (a widened type, a new oneOf variant, a property no longer required break them). A readOnly property
is no part of a request and a writeOnly one no part of a response. A pair of schemas is compared once (by where each
is written, its side and place): a component used by 200 operations costs one comparison, and a recursive schema
stops where it meets itself.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from .model import MISSING, Contract, Node
from .rules import BODY, HEADER, PROPERTY, Change, schema_rule

REQUEST, RESPONSE = "request", "response"
_ANNOTATIONS = frozenset({"title", "description", "example", "examples", "externalDocs", "$comment", "xml"})
_WIDER_FORMATS = {("int32", "int64"), ("float", "double")}
# (keyword, rule stem, an upper bound?)
_BOUNDS = (("maxLength", "max-length", True), ("minLength", "min-length", False), ("maximum", "max", True),
           ("exclusiveMaximum", "exclusive-max", True), ("minimum", "min", False),
           ("exclusiveMinimum", "exclusive-min", False), ("maxItems", "max-items", True),
           ("minItems", "min-items", False))  # fmt: skip


class Schemas:
    def __init__(self, old: Contract, new: Contract) -> None:
        self.old, self.new = old, new
        self._memo: dict[tuple[str, str, str, str], list[Change]] = {}

    def compare(self, old: Any, old_pointer: str, new: Any, new_pointer: str, side: str, where: str) -> list[Change]:
        o, n = self.old.node(old, old_pointer), self.new.node(new, new_pointer)
        key = (o.key, n.key, side, where)
        found = self._memo.get(key)
        if found is None:
            self._memo[key] = []  # met again inside itself: a recursive schema, compared once
            found = self._memo[key] = _Pair(self, o, n, side, where).changes()
        return found


def _types(node: Node) -> frozenset[str] | None:
    if node.types is None and (node.properties or node.required):
        return frozenset({"object"})
    if node.types is None and node.items is not None:
        return frozenset({"array"})
    return node.types


def _union(contract: Contract, node: Node) -> frozenset[str] | None:
    """The types a schema allows, its variants' when it says none itself (`oneOf: [object, array]`)."""
    found = _types(node)
    if found is not None or not node.variants:
        return found
    kinds: set[str] = set()
    for branches in node.variants.values():
        for raw, pointer in branches:
            branch = _types(contract.node(raw, pointer))
            if branch is None:
                return None
            kinds |= branch
    return frozenset(kinds)


def _covers(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> bool:
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _show(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types)) or "nothing"


def value_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _values(values: list[Any]) -> str:
    shown = ", ".join(json.dumps(v, default=str) for v in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


class _Pair:
    def __init__(self, schemas: Schemas, o: Node, n: Node, side: str, where: str) -> None:
        self.schemas, self.o, self.n, self.side, self.where = schemas, o, n, side, where
        self.request = side == REQUEST
        self.out: list[Change] = []

    def emit(self, suffix: str, message: str, old: str | None = None, new: str | None = None) -> None:
        rule = schema_rule(self.side, self.where, suffix)
        if rule is not None:
            self.out.append(Change("", rule, message, old or self.o.pointer, new or self.n.pointer))

    def fixed(self, rule: str, message: str, old: str, new: str, name: str, removed: bool = False) -> None:
        self.out.append(Change("", rule, message, old, new, removed, name))

    def changes(self) -> list[Change]:
        if self.o.nothing or self.n.nothing:
            return self.out
        self._types()
        self._nullable()
        self._enum()
        self._pattern()
        self._bounds()
        self._default()
        self._properties()
        self._items()
        self._variants()
        self._discriminator()
        return self.out

    def _types(self) -> None:
        ot, nt = _union(self.schemas.old, self.o), _union(self.schemas.new, self.n)
        if ot == nt:
            self._format()
            return
        wider, narrower = _covers(nt, ot), _covers(ot, nt)
        many = ot is None or nt is None or len(ot) > 1 or len(nt) > 1
        message = f"type changed from {_show(ot)} to {_show(nt)}"
        if wider and not narrower:
            self.emit("list-of-types-widened" if many else "type-generalized", message)
        elif narrower and not wider:
            if many:
                self.emit("list-of-types-narrowed", message)
            else:
                self.emit("type-changed" if self.request else "type-specialized", message)
        else:
            self.emit("type-changed", message)

    def _format(self) -> None:
        a, b = self.o.format, self.n.format
        if a == b:
            return
        message = f"format changed from {a or 'none'} to {b or 'none'}"
        wider = (a, b) in _WIDER_FORMATS or (a is not None and b is None)
        narrower = (b, a) in _WIDER_FORMATS or (a is None and b is not None)
        if wider:
            self.emit("type-generalized", message)
        elif narrower and not self.request:
            self.emit("type-specialized", message)
        else:
            self.emit("type-changed", message)

    def _nullable(self) -> None:
        if self.o.nullable and not self.n.nullable:
            self.emit("became-not-nullable", "no longer accepts null" if self.request else "is no longer null")
        elif self.n.nullable and not self.o.nullable:
            self.emit("became-nullable", "now accepts null" if self.request else "may now be null")

    def _enum(self) -> None:
        a, b = self.o.enum, self.n.enum
        if a is None and b is None:
            return
        if a is None:
            if self.request:
                self.emit("became-enum", f"now only {_values(b or [])}")
            return
        if b is None:
            self.emit("enum-value-added", "no longer limited to " + _values(a))
            return
        keys_a, keys_b = {value_key(v) for v in a}, {value_key(v) for v in b}
        added = [v for v in b if value_key(v) not in keys_a]
        removed = [v for v in a if value_key(v) not in keys_b]
        if added:
            self.emit("enum-value-added", f"new enum value(s) {_values(added)}")
        if removed:
            self.emit("enum-value-removed", f"enum value(s) {_values(removed)} removed")

    def _pattern(self) -> None:
        a, b = self.o.pattern, self.n.pattern
        if a == b:
            return
        if a is None:
            self.emit("pattern-added", f"pattern {b!r} added")
        elif b is None:
            self.emit("pattern-removed", f"pattern {a!r} removed")
        else:
            self.emit("pattern-changed", f"pattern changed from {a!r} to {b!r}")

    def _bounds(self) -> None:
        for keyword, stem, upper in _BOUNDS:
            a, b = self.o.bounds.get(keyword), self.n.bounds.get(keyword)
            if a == b:
                continue
            message = f"{keyword} changed from {_num(a)} to {_num(b)}"
            if upper:
                tighter = b is not None and (a is None or b < a)
            else:
                tighter = b is not None and (a is None or b > a)
            if self.request:
                if tighter and a is None and schema_rule(self.side, self.where, f"{stem}-set"):
                    self.emit(f"{stem}-set", message)
                else:
                    self.emit(f"{stem}-{'decreased' if tighter == upper else 'increased'}", message)
            elif not tighter:
                if b is None and schema_rule(self.side, self.where, f"{stem}-unset"):
                    self.emit(f"{stem}-unset", message)
                else:
                    self.emit(f"{stem}-{'increased' if upper else 'decreased'}", message)

    def _default(self) -> None:
        a, b = self.o.default, self.n.default
        if a is MISSING and b is MISSING:
            return
        if a is MISSING:
            self.emit("default-value-added", f"default {json.dumps(b, default=str)} added")
        elif b is MISSING:
            self.emit("default-value-removed", f"default {json.dumps(a, default=str)} removed")
        elif value_key(a) != value_key(b):
            self.emit("default-value-changed", f"default changed from {json.dumps(a, default=str)} to "
                      f"{json.dumps(b, default=str)}")  # fmt: skip

    def _hidden(self, contract: Contract, raw: Any, pointer: str) -> bool:
        node = contract.node(raw, pointer)
        return node.read_only if self.request else node.write_only

    def _properties(self) -> None:
        o, n, request = self.o, self.n, self.request
        if not o.properties and not n.properties:
            return
        side = "request" if request else "response"
        marker = "read-only" if request else "write-only"
        for name in {**o.properties, **n.properties}:
            old, new = o.properties.get(name), n.properties.get(name)
            old_required, new_required = name in o.required, name in n.required
            kind = "required" if new_required else "optional"
            if old is None and new is not None:
                if self._hidden(self.schemas.new, *new):
                    continue
                if request:
                    rule = "new-required-request-property" if new_required else "new-optional-request-property"
                else:
                    rule = f"response-{kind}-property-added"
                self.fixed(rule, f"new {kind} property", o.pointer, new[1], name)
                continue
            if new is None and old is not None:
                if self._hidden(self.schemas.old, *old):
                    continue
                if request:
                    rule = "request-property-removed"
                else:
                    rule = f"response-{'required' if old_required else 'optional'}-property-removed"
                required = " (it was required)" if old_required else ""
                self.fixed(rule, f"property removed{required}", old[1], n.pointer, name, removed=True)
                continue
            assert old is not None and new is not None
            was_hidden, hidden = self._hidden(self.schemas.old, *old), self._hidden(self.schemas.new, *new)
            if was_hidden != hidden:
                not_ = "" if hidden else "not-"
                state = f"{kind}-property-became-{not_}{marker}"
                self.fixed(f"{side}-{state}", f"became {'' if hidden else 'not '}{marker}", old[1], new[1], name)
                continue
            if hidden:
                continue
            if old_required != new_required:
                if request:
                    rule = f"request-property-became-{'required' if new_required else 'optional'}"
                else:
                    rule = f"response-property-became-{'required' if new_required else 'optional'}"
                self.fixed(rule, f"became {kind}", old[1], new[1], name)
            for change in self.schemas.compare(*old, *new, self.side, PROPERTY if self.where != HEADER else HEADER):
                self.out.append(_under(change, name))

    def _items(self) -> None:
        if self.o.items is None or self.n.items is None:
            return
        where = PROPERTY if self.where in (BODY, PROPERTY) else self.where
        for change in self.schemas.compare(*self.o.items, *self.n.items, self.side, where):
            self.out.append(_under(change, "[]"))

    def _variants(self) -> None:
        for keyword, stem in (("oneOf", "one-of"), ("anyOf", "any-of")):
            old, new = self.o.variants.get(keyword, []), self.n.variants.get(keyword, [])
            if not old and not new:
                continue
            pairs, removed, added = self._match(old, new)
            for raw, pointer in removed:
                self.emit(f"{stem}-removed", f"{keyword} variant {_name(raw, pointer)} removed", old=pointer)
            for raw, pointer in added:
                self.emit(f"{stem}-added", f"{keyword} variant {_name(raw, pointer)} added", new=pointer)
            for (a, a_at), (b, b_at) in pairs:
                self.out.extend(self.schemas.compare(a, a_at, b, b_at, self.side, self.where))

    def _match(self, old: list[tuple[Any, str]], new: list[tuple[Any, str]]) -> tuple[list[Any], list[Any], list[Any]]:
        """Variants paired by the schema they name (`$ref`), then by what they say (an inlined `$ref` is its
        target), then the rest in order."""
        old_contract, new_contract = self.schemas.old, self.schemas.new
        pairs: list[tuple[Any, Any]] = []
        left_old, left_new = list(old), list(new)
        for key_old, key_new in ((_named, _named), (_said, _said)):
            by_key: dict[str, tuple[Any, str]] = {}
            for branch in left_new:
                key = key_new(new_contract, branch)
                if key is not None:
                    by_key.setdefault(key, branch)
            for branch in list(left_old):
                match = by_key.pop(key_old(old_contract, branch) or "", None)
                if match is not None:
                    pairs.append((branch, match))
                    left_old.remove(branch)
                    left_new.remove(match)
        count = min(len(left_old), len(left_new))
        pairs += list(zip(left_old[:count], left_new[:count], strict=True))
        return pairs, left_old[count:], left_new[count:]

    def _discriminator(self) -> None:
        a, b = self.o.discriminator, self.n.discriminator
        if a is None and b is None:
            return
        if a is None or b is None:
            self.emit(f"discriminator-{'added' if a is None else 'removed'}", "discriminator " + ("added" if a is None
                      else "removed"))  # fmt: skip
            return
        if a.get("propertyName") != b.get("propertyName"):
            self.emit("discriminator-property-name-changed", f"discriminator property changed from "
                      f"{a.get('propertyName')!r} to {b.get('propertyName')!r}")  # fmt: skip
        ma, mb = a.get("mapping") or {}, b.get("mapping") or {}
        if not isinstance(ma, dict) or not isinstance(mb, dict):
            return
        for value in sorted(set(mb) - set(ma), key=str):
            self.emit("discriminator-mapping-added", f"discriminator value {value!r} added")
        for value in sorted(set(ma) - set(mb), key=str):
            self.emit("discriminator-mapping-deleted", f"discriminator value {value!r} removed")
        for value in sorted(set(ma) & set(mb), key=str):
            if _component(ma[value]) != _component(mb[value]):
                self.emit("discriminator-mapping-changed", f"discriminator value {value!r} now names {mb[value]!r}")


def _named(contract: Contract, branch: tuple[Any, str]) -> str | None:
    raw, pointer = branch
    return contract.resolve(raw, pointer)[1] if isinstance(raw, dict) and "$ref" in raw else None


def _said(contract: Contract, branch: tuple[Any, str]) -> str:
    """A schema with its `$ref`s replaced by what they name (to a depth) and its annotations left out, as text."""

    def walk(node: Any, pointer: str, depth: int) -> Any:
        if isinstance(node, dict) and "$ref" in node and len(node) == 1:
            if depth > 6:
                return {"$ref": node["$ref"]}
            node, pointer = contract.resolve(node, pointer)
            depth += 1
        if isinstance(node, dict):
            return {k: walk(v, pointer, depth) for k, v in node.items() if k not in _ANNOTATIONS}
        if isinstance(node, list):
            return [walk(v, pointer, depth) for v in node]
        return node

    return value_key(walk(*branch, 0))


def _under(change: Change, name: str) -> Change:
    """A change found in a property (or items, `[]`) as seen from the schema holding it."""
    if name == "[]":
        path = "[]" + (change.path if change.path.startswith("[") else "." + change.path if change.path else "")
    else:
        path = name + (change.path if change.path.startswith("[") else "." + change.path if change.path else "")
    return replace(change, path=path)


def _component(ref: Any) -> str:
    return str(ref).rsplit("/", 1)[-1]


def _name(raw: Any, pointer: str) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
        return _component(raw["$ref"])
    return pointer.rsplit("/", 2)[-2] + "/" + pointer.rsplit("/", 1)[-1]


def _num(value: float | None) -> str:
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
