"""The schema walk behind `Generator`: one deterministic draw per (schema, slot, attempt), in readable or boundary
mode. Rules: a value depends only on the RNG it is given; what the walk cannot do raises `GenerationError` and the
generator tries again or falls back to hypothesis-jsonschema (generation.py). Imports nothing of generation.py at run
time."""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

from ...contract.schemas import Schema
from . import oneof, realism
from .strings import GenerationError, Strings, python_regex

if TYPE_CHECKING:
    from .generation import Generator

__all__ = ["MAX_DEPTH", "GenerationError", "Walker", "python_regex"]

MAX_DEPTH = 5
_PAIRS = 16  # pairs of two `allOf` parts' alternatives walked as one list
_EDGE_INTEGERS = (0, -1, 1, 2**31 - 1, -(2**31), 2**53 - 1)
_EDGE_NUMBERS = (0.0, -1.5, 1e-9, 123456789.125, 0.1 + 0.2)

_LOWER_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
_UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_NOTHING = object()


class Walker(Strings):
    """One deterministic draw. `mode`: readable (for a UI), empty (minimal, nulls), huge (long, non-ASCII, extreme),
    edge (lengths, numbers and sizes at their bounds, awkward text)."""

    def __init__(self, generator: Generator, rng: random.Random, mode: str, lenient: bool = False) -> None:
        self.generator = generator
        self.schemas = generator.schemas
        self.rng = rng
        self.mode = mode
        self.lenient = lenient  # the last resort: a `oneOf` no value satisfies alone gives a value of one branch
        self.spent = 0  # changes tried by oneof.apart in this draw

    def walk(self, schema: Schema, name: str, depth: int, context: str = "") -> Any:
        """A value for `schema`, the property `name` of an object described by `context` (its words guide the
        readable strings); an object's own context is its definition name or title, else its property name."""
        if depth > 40:
            raise GenerationError("schema nests too deeply")
        own = ""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and len(schema) == 1:
            own = schema["$ref"].rsplit("/", 1)[-1].split(".")[0]
        schema = self.schemas.resolve(schema)
        if schema is True or schema == {}:
            return self.string({}, name, context)
        if schema is False:
            raise GenerationError("false schema")
        if "$ref" in schema:
            schema = self.merge([{k: v for k, v in schema.items() if k != "$ref"}, {"$ref": schema["$ref"]}])
        if "allOf" in schema:
            schema = self.merge([{k: v for k, v in schema.items() if k != "allOf"}, *schema["allOf"]])
        if isinstance(schema.get("title"), str) and not own:
            own = schema["title"]
        if "const" in schema:
            return schema["const"]
        if "enum" in schema and schema["enum"]:
            options = schema["enum"]
            if self.mode == "empty" and None in options:
                return None
            real = [o for o in options if o is not None] or options
            if self.mode == "edge":
                return self.rng.choice([real[0], real[-1]])
            return self.rng.choice(real)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            return self.alternative(schema, alternatives, name, depth, context)
        kind = schema.get("type")
        if kind == []:
            raise GenerationError("the parts of an allOf allow no type in common")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            null = "null" in kind and (self.mode == "empty" or (self.mode == "edge" and self.rng.random() < 0.3))
            kind = "null" if null or not real else self.rng.choice(real)
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if kind == "null":
            return None
        if kind == "object":
            return self.object(schema, depth, own or name or context)
        if kind == "array":
            return self.array(schema, name, depth, context)
        if kind == "integer":
            return self.integer(schema, name)
        if kind == "number":
            return self.number(schema)
        if kind == "boolean":
            return self.rng.random() < 0.5
        return self.string(schema, name, context)

    def alternative(self, schema: dict[str, Any], alternatives: list[Schema], name: str, depth: int,
                    context: str) -> Any:  # fmt: skip
        """A value of one branch; for `oneOf`, one that no other branch accepts (each branch is tried in turn)."""
        exclusive = "oneOf" in schema and "anyOf" not in schema
        base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        chosen = self.choose(alternatives, depth)
        rest = [a for a in alternatives if a is not chosen]
        self.rng.shuffle(rest)
        first = _NOTHING
        # a branch is the same value, not a level down (depth counts nesting: a branch walked deeper would leave out
        # its optional properties and pick null, values several branches accept); each branch gets two draws
        for branch in [chosen, *rest, chosen, *rest] if exclusive else [chosen, *rest]:
            try:
                value = self.walk(self.merge([base, branch]) if base else branch, name, depth, context)
            except GenerationError:  # an `anyOf` branch no value satisfies (types of `allOf` parts that differ)
                self.spent += 0 if exclusive else 1
                if self.spent > oneof.DRAW_BUDGET:
                    raise
                continue
            if not exclusive:
                return value
            apart = oneof.apart(self, value, base, branch, alternatives, (name, depth, context))
            if apart is not oneof.NOTHING:
                return apart
            first = value if first is _NOTHING else first
        if self.lenient and first is not _NOTHING:
            return first
        raise GenerationError("no branch of the oneOf gives a value only it accepts" if exclusive else
                              "no branch of the anyOf gives a value")  # fmt: skip

    def choose(self, alternatives: list[Schema], depth: int) -> Schema:
        nullable = [a for a in alternatives if self.schemas.resolve(a) in ({"type": "null"},)]
        if self.mode == "empty" and nullable and depth > 0:  # the top-level null is one `Prefer: branch=null` away
            return nullable[0]
        if self.mode == "edge" and nullable and depth > 0 and self.rng.random() < 0.3:
            return nullable[0]
        real = [a for a in alternatives if a not in nullable] or alternatives
        if depth >= MAX_DEPTH and nullable:
            return nullable[0]
        return self.rng.choice(real)

    def merge(self, parts: list[Schema]) -> dict[str, Any]:
        """The parts of an `allOf` as one schema: a property declared by several parts must satisfy each (an
        `allOf` of its declarations, not the last one alone), enums intersect, bounds tighten, `required` adds up;
        any other keyword, the first part's."""
        merged: dict[str, Any] = {}
        for part in parts:
            part = self.schemas.resolve(part)
            if isinstance(part, dict) and "allOf" in part:
                part = self.merge([{k: v for k, v in part.items() if k != "allOf"}, *part["allOf"]])
            if not isinstance(part, dict):
                continue
            for key, value in part.items():
                if key == "properties" and isinstance(value, dict):
                    own = dict(merged.get("properties", {}))
                    for name, sub in value.items():
                        before = own.get(name)
                        if before is False or sub is False:  # forbidden by one part: forbidden
                            own[name] = False
                        else:
                            own[name] = sub if before is None or before == sub else {"allOf": [before, sub]}
                    merged["properties"] = own
                elif key == "required" and isinstance(value, list):
                    merged["required"] = sorted({*merged.get("required", []), *value}, key=str)
                elif key in ("anyOf", "oneOf") and isinstance(value, list) and {"anyOf", "oneOf"} & merged.keys():
                    self._both(merged, key, value)
                elif key == "type" and "type" in merged and not self.lenient:  # lenient: the first part's
                    merged["type"] = _both_types(merged["type"], value)
                elif key not in merged:
                    merged[key] = value
                elif key == "enum" and isinstance(value, list) and isinstance(merged[key], list):
                    both = [v for v in merged[key] if v in value]
                    merged[key] = both or merged[key]
                elif key in _LOWER_BOUNDS and _number(value) and _number(merged[key]):
                    merged[key] = max(merged[key], value)
                elif key in _UPPER_BOUNDS and _number(value) and _number(merged[key]):
                    merged[key] = min(merged[key], value)
        return merged

    def _both(self, merged: dict[str, Any], key: str, value: list[Schema]) -> None:
        """Two parts' alternatives as one list of their pairs (each an `allOf`): `oneOf` when either is one (a value
        one pair alone accepts is one each list alone accepts), else `anyOf`; kept once per pair of lists, so their
        validators are too. Past `_PAIRS` pairs, the first part's alone (as any other keyword)."""
        held = "anyOf" if "anyOf" in merged else "oneOf"
        if len(merged[held]) * len(value) > _PAIRS:
            return
        memo = self.generator.pairs
        found = memo.get((id(merged[held]), id(value)))
        if found is None:
            pairs = [{"allOf": [a, b]} for a in merged[held] for b in value]
            found = memo[(id(merged[held]), id(value))] = (merged[held], value, pairs)
        del merged[held]
        merged["anyOf" if key == held == "anyOf" else "oneOf"] = found[2]

    def object(self, schema: dict[str, Any], depth: int, context: str) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        every_optional = self.rng.random() < 0.5  # edge mode: all optional properties, or none
        for prop, sub in properties.items():
            if sub is False:
                continue  # forbidden here (a writeOnly property in a response)
            if prop not in required:
                if self.mode == "empty" or depth >= MAX_DEPTH or (self.mode == "edge" and not every_optional):
                    continue
                resolved = self.schemas.resolve(sub)
                if isinstance(resolved, dict) and (resolved.get("writeOnly") or resolved.get("deprecated")):
                    continue
                if self.mode == "readable" and self.rng.random() < 0.1:
                    continue
            if prop in required:
                out[prop] = self.walk(sub, prop, depth + 1, context)
                continue
            try:
                out[prop] = self.walk(sub, prop, depth + 1, context)
            except GenerationError as exc:
                self.generator.left_out(prop, str(exc))  # an optional property no value satisfies is left out
                continue
        for prop in required - out.keys():
            extra = schema.get("additionalProperties")
            out[prop] = (
                self.walk(extra, prop, depth + 1, context)
                if isinstance(extra, dict)
                else self.string({}, prop, context)
            )
        if not properties and self.mode in ("readable", "edge") and depth < MAX_DEPTH:
            self.free_form(schema, out, depth, context)
        if self.mode == "readable":
            realism.coherent_counts(out, lambda name, n: _fits_integer(self.schemas.resolve(properties.get(name)), n))
            realism.ordered_times(out)
        return out

    def free_form(self, schema: dict[str, Any], out: dict[str, Any], depth: int, context: str) -> None:
        """A few entries for an object that names no properties (`dict[str, X]`, free-form metadata)."""
        extra = schema.get("additionalProperties", True)
        if extra is False or {"patternProperties", "propertyNames", "unevaluatedProperties"} & schema.keys():
            return
        low, high = int(schema.get("minProperties", 0)), schema.get("maxProperties")
        if self.mode == "readable" and not isinstance(extra, dict) and low == 0:
            return  # a free-form object says nothing of its keys: random ones would only mislead a client ({})
        count = self.rng.randint(max(low, 1), max(low, 3))
        if high is not None:
            count = min(count, int(high))
        value_schema = extra if isinstance(extra, dict) else {"type": "string"}
        while len(out) < count:
            key = self.rng.choice(realism.WORDS)
            if key not in out:
                out[key] = self.walk(value_schema, key, depth + 1, context)

    def array(self, schema: dict[str, Any], name: str, depth: int, context: str) -> list[Any]:
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        high = int(high) if high is not None else None
        if self.mode == "empty" or depth >= MAX_DEPTH:
            count = low
        elif self.mode == "readable":
            start = max(low, 1)
            count = self.rng.randint(start, start + 4)
        elif self.mode == "edge":
            count = self.rng.choice([low, low + 10 if high is None else min(high, low + 10)])
        else:
            count = low + 6
        if high is not None:
            count = min(count, high)
        prefix = schema.get("prefixItems", [])
        items = schema.get("items", {})
        item_name = name[:-1] if name.endswith("s") and not name.endswith("ss") and len(name) > 3 else name
        out = [self.walk(prefix[i] if i < len(prefix) else items, item_name, depth + 1, context) for i in range(count)]
        if schema.get("uniqueItems"):
            unique: list[Any] = []
            for item in out:
                if item not in unique:
                    unique.append(item)
            out = unique
        return out

    def integer(self, schema: dict[str, Any], name: str) -> int:
        low, high = _bounds(schema, integer=True)
        if self.mode == "huge":
            value = high if high is not None else 2**53 - 1
        elif self.mode == "empty":
            value = low if low is not None else 0
        elif self.mode == "edge":
            options = [b for b in (low, high) if b is not None] + list(_EDGE_INTEGERS)
            value = self.rng.choice(options)
            value = max(value, low) if low is not None else value
            value = min(value, high) if high is not None else value
        else:
            lo, hi = realism.int_range(name, str(schema.get("description") or ""))
            lo = max(lo, low) if low is not None else lo
            hi = min(hi, high) if high is not None else hi
            if lo > hi:
                lo, hi = (low if low is not None else hi), (high if high is not None else lo)
            value = self.rng.randint(int(lo), int(hi))
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            value -= value % step
            if low is not None and value < low:
                value += step
        return int(value)

    def number(self, schema: dict[str, Any]) -> float:
        low, high = _bounds(schema, integer=False)
        lo = low if low is not None else 0.0
        hi = high if high is not None else lo + 1000.0
        if self.mode == "huge":
            return float(hi if high is not None else 1.7976931348623157e308)
        if self.mode == "empty":
            return float(lo)
        if self.mode == "edge":
            value = self.rng.choice([lo, hi, *_EDGE_NUMBERS])
            return float(min(max(value, lo), hi))
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
            steps = self.rng.randint(math.ceil(lo / step), max(math.ceil(lo / step), math.floor(hi / step)))
            return float(steps * step)
        value = round(self.rng.uniform(lo, hi), 2)
        return min(max(value, lo), hi)


def _both_types(one: Any, two: Any) -> Any:
    """The JSON types two `type` keywords both allow (an integer is a number): one name, a list, or [] for none."""
    if one == two or not isinstance(two, (str, list)):
        return one
    first, second = ({t} if isinstance(t, str) else set(t) for t in (one, two))
    for a, b in ((first, second), (second, first)):
        if "number" in a and "integer" in b:
            a.add("integer")
    both = sorted(first & second)
    return both[0] if len(both) == 1 else both


def _fits_integer(schema: Any, n: int) -> bool:
    """Whether an integer schema (or a nullable union holding one) takes `n`, judged from its plain keywords."""
    if not isinstance(schema, dict):
        return False
    for keyword in ("anyOf", "oneOf"):
        if isinstance(schema.get(keyword), list):
            return any(_fits_integer(b, n) for b in schema[keyword] if isinstance(b, dict) and b.get("type") != "null")
    kind = schema.get("type")
    if not ({"integer", "number"} & set(kind if isinstance(kind, list) else [kind])):
        return False
    if "enum" in schema or "const" in schema or "not" in schema:
        return n in schema.get("enum", [schema.get("const")])
    low, high = _bounds(schema, integer=True)
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0 and n % step:
        return False
    return (low is None or n >= low) and (high is None or n <= high)


def _bounds(schema: dict[str, Any], integer: bool) -> tuple[Any, Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(schema.get("exclusiveMinimum"), (int, float)) and not isinstance(schema["exclusiveMinimum"], bool):
        low = schema["exclusiveMinimum"] + (1 if integer else 1e-6)
    if isinstance(schema.get("exclusiveMaximum"), (int, float)) and not isinstance(schema["exclusiveMaximum"], bool):
        high = schema["exclusiveMaximum"] - (1 if integer else 1e-6)
    if integer:
        low = math.ceil(low) if low is not None else None
        high = math.floor(high) if high is not None else None
    return low, high
