"""Deterministic data from JSON Schemas, generated once per pool slot and cached; never Hypothesis per request.

Rules: a body is a function of (seed, schema key, slot) only, so every process and restart agrees. Each schema has
a pool of `POOL` slots; a request picks its slot by hashing its method, path and parameters. Generation walks the
schema with a seeded RNG: readable mode (words by whole-word name, 1-5 list items, coherent counts and timestamps,
recent dates, every enum value reachable) or, with --edge-cases, boundary mode (empty, huge, then lengths, numbers
and list sizes at their bounds, non-ASCII, markup, nulls). A `oneOf` gets a value only its chosen branch accepts
(other branches are tried when one cannot). `pattern` strings are drawn from the regex alone. Every value is checked
against the schema before it is cached; when the walk fails, hypothesis-jsonschema is the last resort, bounded in
time, its strings made readable where that stays valid. Header values are readable, visible ASCII and short in
every mode.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import string
import time
from typing import Any

import jsonschema_rs

from ..contract.schemas import Schema, SchemaSet
from . import realism
from .encoding import serializable

POOL = 32
MAX_DEPTH = 5
HYPOTHESIS_BUDGET = 0.25  # seconds of last-resort hypothesis draws per pool slot; an answer never waits longer
_EDGE_STRINGS = (
    "", " ", "O'Brien", "Zoë Saldaña-Ñúñez", "日本語のテキスト", "🚀✨ emoji 👩‍💻", '<b>not bold</b> & "quotes"',
    "مرحبا بالعالم", "Ωmega ✓ ☃", "line one\nline two", "null", "0", "  padded  ",
)  # fmt: skip
_HUGE = "Ωmega ✓ 日本語 ☃ " * 300
_EDGE_INTEGERS = (0, -1, 1, 2**31 - 1, -(2**31), 2**53 - 1)
_EDGE_NUMBERS = (0.0, -1.5, 1e-9, 123456789.125, 0.1 + 0.2)
_ASCII = "".join(c for c in string.printable if c not in "\t\n\r\x0b\x0c")


def slot_of(seed: int, method: str, raw_path: bytes, pairs: list[tuple[str, str]]) -> int:
    """A request's pool slot: `seed_of(seed, method, raw_path, pairs) % POOL`, the same number for less work."""
    text = f"{seed}\x1f{method}\x1f{raw_path!r}\x1f{pairs!s}" if pairs else f"{seed}\x1f{method}\x1f{raw_path!r}\x1f[]"
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return digest[-1] % POOL if POOL & (POOL - 1) == 0 and POOL <= 256 else int.from_bytes(digest, "big") % POOL


class GenerationError(Exception):
    pass


def seed_of(*parts: object) -> int:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Generator:
    def __init__(self, schemas: SchemaSet, seed: int = 0, edge_cases: bool = False) -> None:
        self.schemas = schemas
        self.seed = seed
        self.edge_cases = edge_cases
        self._cache: dict[tuple[str, int], Any] = {}
        self._validators: dict[str, jsonschema_rs.Validator] = {}
        self._strategies: dict[str, Any] = {}
        self._branches: dict[
            int, tuple[Any, jsonschema_rs.Validator]
        ] = {}  # id -> (the schema, kept alive; its validator)
        self._patterns: dict[str, Any] = {}

    def validator(self, key: str, schema: Schema) -> jsonschema_rs.Validator:
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = self.schemas.validator(schema)
        return found

    def accepts(self, branch: Schema, value: Any) -> bool:
        """Whether `branch` (a schema object of the converted contract) accepts `value` on its own."""
        found = self._branches.get(id(branch))
        if found is None:
            validator = self.schemas.validator(branch)
            found = self._branches[id(branch)] = (branch, validator)
        return bool(found[1].is_valid(value))

    def value(self, key: str, schema: Schema, slot: int) -> Any:
        """The value for pool slot `slot` of the schema known as `key` (stable across processes)."""
        cached = self._cache.get((key, slot), _MISSING)
        if cached is not _MISSING:
            return cached
        value = self._make(key, schema, slot)
        self._cache[(key, slot)] = value
        return value

    def header(self, key: str, name: str, schema: Schema, slot: int) -> str:
        """A response header's value for pool slot `slot`: valid against its schema, a valid HTTP field value
        (visible ASCII, at most `realism.MAX_HEADER` characters) and conventional for well-known headers."""
        cached = self._cache.get((key, slot), _MISSING)
        if isinstance(cached, str):
            return cached
        validator = self.validator(key, schema)
        rng = random.Random(seed_of(self.seed, key, slot))
        candidates: list[Any] = []
        conventional = realism.header_text(name, rng)
        if conventional is not None:
            candidates.append(conventional)
        for attempt in range(4):
            try:
                candidates.append(self._walker(random.Random(seed_of(self.seed, key, slot, attempt)), "readable")
                                  .walk(schema, name, 0))  # fmt: skip
            except (GenerationError, RecursionError):
                continue
        for candidate in candidates:
            if isinstance(candidate, str):
                candidate = realism.ascii_text(candidate)
            if not validator.is_valid(candidate):
                continue
            text = realism.field_value(candidate)
            if realism.valid_field_value(text):
                self._cache[(key, slot)] = text
                return text
        raise GenerationError(f"no valid header value for {name}")

    def _walker(self, rng: random.Random, mode: str) -> _Walker:
        return _Walker(self, rng, mode)

    def _make(self, key: str, schema: Schema, slot: int) -> Any:
        validator = self.validator(key, schema)
        if self.edge_cases:
            first = "empty" if slot == 0 else "huge" if slot == 1 else "edge"
            modes = [first, "edge", "edge", "readable", "readable"]
        else:
            modes = ["readable"] * 4
        for attempt, mode in enumerate(modes):
            rng = random.Random(seed_of(self.seed, key, slot, attempt))
            try:
                value = self._walker(rng, mode).walk(schema, "", 0)
            except (GenerationError, RecursionError):
                continue
            if validator.is_valid(value) and serializable(value):
                return value
        return self._last_resort(key, schema, slot, validator)

    def _last_resort(self, key: str, schema: Schema, slot: int, validator: jsonschema_rs.Validator) -> Any:
        """hypothesis-jsonschema, for what the walk cannot do; bounded in time so no answer waits seconds, and its
        strings made readable (outside --edge-cases) where that keeps the value valid."""
        deadline = time.perf_counter() + HYPOTHESIS_BUDGET
        fallback = _MISSING
        for attempt in range(20):
            if time.perf_counter() > deadline:
                break
            rng = random.Random(seed_of(self.seed, key, slot, "h", attempt))
            try:
                value = self._hypothesis(key, schema, rng)
            except GenerationError:
                break
            if not (validator.is_valid(value) and serializable(value)):
                continue
            if self.edge_cases:
                return value
            readable = realism.readable_strings(value, rng)
            if validator.is_valid(readable):
                return readable
            if realism.printable(value):
                return value
            if fallback is _MISSING:
                fallback = value
        if fallback is not _MISSING:
            return fallback
        raise GenerationError(f"could not generate a value valid against schema {key}")

    def _hypothesis(self, key: str, schema: Schema, rng: random.Random) -> Any:
        strategy = self._strategies.get(key)
        if strategy is None:
            strategy = self._strategies[key] = _strategy(inline(schema, self.schemas.defs))
        return _draw(strategy, rng)

    def pattern(self, pattern: str, rng: random.Random) -> str:
        """A printable-ASCII string matching a regular expression, drawn from the expression alone (fast)."""
        strategy = self._patterns.get(pattern, _MISSING)
        if strategy is _MISSING:
            try:
                from hypothesis import strategies as st

                re.compile(pattern)
                strategy = st.from_regex(pattern, fullmatch=True, alphabet=st.sampled_from(_ASCII))
            except (re.error, ValueError, TypeError):
                strategy = None
            self._patterns[pattern] = strategy
        if strategy is None:
            raise GenerationError(f"cannot draw from pattern {pattern!r}")
        value = _draw(strategy, rng)
        if not isinstance(value, str):
            raise GenerationError("pattern draw is not a string")
        return value


_MISSING = object()


def _draw(strategy: Any, rng: random.Random) -> Any:
    from hypothesis.control import BuildContext
    from hypothesis.errors import HypothesisException, StopTest
    from hypothesis.internal.conjecture.data import ConjectureData

    data = ConjectureData(random=rng, max_choices=5000)
    try:
        with BuildContext(data, is_final=False, wrapped_test=lambda: None):
            return data.draw(strategy)
    except (StopTest, HypothesisException, RecursionError) as exc:
        raise GenerationError(str(exc)) from None


def _strategy(schema: Schema) -> Any:
    try:
        from hypothesis_jsonschema import from_schema

        return from_schema(schema)
    except Exception as exc:  # hypothesis-jsonschema raises many kinds for schemas it cannot handle
        raise GenerationError(f"hypothesis-jsonschema cannot handle this schema: {exc}") from None


def inline(schema: Schema, defs: dict[str, Schema], depth: int = 3) -> Schema:
    """The schema with `#/$defs/` references replaced by their targets; recursion past `depth` becomes `false`."""

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(n, seen) for n in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            key = ref[len("#/$defs/") :]
            if seen.count(key) >= depth:
                return False
            target = walk(defs.get(key, {}), (*seen, key))
            rest = {k: walk(v, seen) for k, v in node.items() if k != "$ref"}
            return {"allOf": [target, rest]} if rest else target
        return {
            k: (v if k in ("enum", "const", "default", "examples", "example") else walk(v, seen))
            for k, v in node.items()
            if k != "$defs"
        }

    return walk(schema, ())


class _Walker:
    """One deterministic draw. `mode`: readable (for a UI), empty (minimal, nulls), huge (long, non-ASCII, extreme),
    edge (lengths, numbers and sizes at their bounds, awkward text)."""

    def __init__(self, generator: Generator, rng: random.Random, mode: str) -> None:
        self.generator = generator
        self.schemas = generator.schemas
        self.rng = rng
        self.mode = mode

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
        for branch in [chosen, *rest] if exclusive else [chosen]:
            try:
                value = self.walk(self.merge([base, branch]) if base else branch, name, depth + 1, context)
            except GenerationError:
                if not exclusive:
                    raise
                continue
            if not exclusive or sum(self.generator.accepts(a, value) for a in alternatives) == 1:
                return value
        raise GenerationError("no branch of the oneOf gives a value only it accepts")

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
        merged: dict[str, Any] = {}
        for part in parts:
            part = self.schemas.resolve(part)
            if isinstance(part, dict) and "allOf" in part:
                part = self.merge([{k: v for k, v in part.items() if k != "allOf"}, *part["allOf"]])
            if not isinstance(part, dict):
                continue
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = sorted({*merged.get("required", []), *value})
                elif key not in merged:
                    merged[key] = value
        return merged

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
            out[prop] = self.walk(sub, prop, depth + 1, context)
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
            lo, hi = realism.int_range(name)
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

    def string(self, schema: dict[str, Any], name: str, context: str = "") -> str:
        fmt = schema.get("format")
        text = _formatted(fmt, self.rng) if fmt else None
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            return self.patterned(pattern, name, context, low, high, text)
        if text is None:
            if self.mode == "huge":
                text = _HUGE  # one object for every huge string: a large contract has thousands
            elif self.mode == "empty":
                text = ""
            elif self.mode == "edge":
                text = self.rng.choice(_EDGE_STRINGS)
                if high is not None and self.rng.random() < 0.5:
                    text = (text or "x") * (int(high) // max(len(text), 1) + 1)
            else:
                text = realism.text(name, context, self.rng)
        while len(text) < low:
            text += " " + self.rng.choice(realism.WORDS) if text else self.rng.choice(realism.WORDS)
        if high is not None and len(text) > int(high):
            text = text[: int(high)].rstrip() or text[: int(high)]
        return text

    def patterned(self, pattern: str, name: str, context: str, low: int, high: Any, formatted: str | None) -> str:
        """A string for a `pattern`: a readable guess when it matches, else a draw from the regex."""
        try:
            compiled = re.compile(pattern)
        except re.error:
            raise GenerationError(f"pattern {pattern!r} is not a Python regex") from None

        def fits(text: str) -> bool:
            return low <= len(text) <= (int(high) if high is not None else len(text)) and bool(compiled.search(text))

        if self.mode in ("readable", "edge"):
            a, b = self.rng.choice(realism.WORDS), self.rng.choice(realism.WORDS)
            guesses = [formatted, realism.text(name, context, self.rng), f"{a}_{b}", f"{a}-{b}", a + b, a.upper()]
            for guess in guesses:
                if guess is not None and fits(guess):
                    return guess
        for _ in range(5):
            drawn = self.generator.pattern(pattern, self.rng)
            if fits(drawn):
                return drawn
        raise GenerationError(f"no string of length {low}..{high} found for pattern {pattern!r}")


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


def _formatted(fmt: str, rng: random.Random) -> str | None:
    moment = realism.moment(rng)
    word = rng.choice(realism.WORDS)
    if fmt == "date-time":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "date":
        return moment.strftime("%Y-%m-%d")
    if fmt == "time":
        return moment.strftime("%H:%M:%SZ")
    if fmt in ("email", "idn-email"):
        return f"{rng.choice(realism.FIRST).lower()}.{word}@example.com"
    if fmt in ("uri", "url", "iri", "uri-reference", "iri-reference"):
        return f"https://example.com/{word}/{rng.randint(1, 999)}"
    if fmt == "uuid":
        return realism.uuid(rng)
    if fmt in ("hostname", "idn-hostname"):
        return f"{word}.example.com"
    if fmt == "ipv4":
        return f"192.0.2.{rng.randint(1, 254)}"
    if fmt == "ipv6":
        return f"2001:db8::{rng.randint(1, 0xFFFF):x}"
    if fmt == "byte":
        import base64

        return base64.b64encode(word.encode()).decode()
    if fmt == "duration":
        return f"PT{rng.randint(1, 59)}M"
    if fmt == "json-pointer":
        return f"/{word}/{rng.randint(0, 9)}"
    if fmt == "regex":
        return "^[a-z]+$"
    if fmt == "password":
        return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))
    return None
