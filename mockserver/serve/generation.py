"""Deterministic data from JSON Schemas, generated once per pool slot and cached; never Hypothesis per request.

Rules: a body is a function of (seed, schema key, slot) only, so every process and restart agrees. Each schema has
a pool of `POOL` slots; a request picks its slot by hashing its method, path and parameters. Readable mode walks the
schema with a seeded RNG (words, plausible numbers, recent dates, every enum value reachable); edge-case mode mixes
boundary values with raw hypothesis-jsonschema draws. Every value is checked against the schema before it is
cached; a value that fails is replaced by a hypothesis-jsonschema draw, so what is served is always valid.
"""

from __future__ import annotations

import hashlib
import random
import string
from datetime import datetime, timedelta, timezone
from typing import Any

import jsonschema_rs

from ..contract.schemas import Schema, SchemaSet
from .encoding import serializable

POOL = 32
MAX_DEPTH = 5
_WORDS = (
    "alpha amber apple atlas beacon birch bright canyon cedar cobalt comet coral crisp delta ember falcon fern "
    "forest garnet glade harbor hazel indigo iris jade juniper lantern lemon lilac maple meadow mint nebula north "
    "oak ocean olive onyx orbit pearl pine plum quartz rapid raven ridge river sage scarlet shadow silver solar "
    "spruce stone summit swift tango thunder tulip umber valley velvet violet willow winter zephyr"
).split()
_FIRST = "Ada Grace Linus Alan Barbara Ken Margaret Dennis Radia Guido Katherine Tim Frances Donald Edsger".split()
_LAST = (
    "Lovelace Hopper Torvalds Turing Liskov Thompson Hamilton Ritchie Perlman Rossum Johnson Berners-Lee Allen".split()
)
_EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


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

    def validator(self, key: str, schema: Schema) -> jsonschema_rs.Validator:
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = jsonschema_rs.validator_for(
                self.schemas.standalone(schema), validate_formats=True
            )
        return found

    def value(self, key: str, schema: Schema, slot: int) -> Any:
        """The value for pool slot `slot` of the schema known as `key` (stable across processes)."""
        cached = self._cache.get((key, slot), _MISSING)
        if cached is not _MISSING:
            return cached
        value = self._make(key, schema, slot)
        self._cache[(key, slot)] = value
        return value

    def _make(self, key: str, schema: Schema, slot: int) -> Any:
        validator = self.validator(key, schema)
        if self.edge_cases:
            first = "empty" if slot == 0 else "huge" if slot == 1 else "hypothesis"
            modes = [first, "hypothesis", "hypothesis", "readable", "readable"]
        else:
            modes = ["readable"] * 4
        for attempt, mode in enumerate(modes):
            rng = random.Random(seed_of(self.seed, key, slot, attempt))
            try:
                if mode == "hypothesis":
                    value = self._hypothesis(key, schema, rng)
                else:
                    value = _Walker(self.schemas, rng, mode).walk(schema, "", 0)
            except (GenerationError, RecursionError):
                continue
            if validator.is_valid(value) and serializable(value):
                return value
        for attempt in range(20):  # last resort: whatever hypothesis-jsonschema finds valid
            try:
                value = self._hypothesis(key, schema, random.Random(seed_of(self.seed, key, slot, "h", attempt)))
            except GenerationError:
                break
            if validator.is_valid(value) and serializable(value):
                return value
        raise GenerationError(f"could not generate a value valid against schema {key}")

    def _hypothesis(self, key: str, schema: Schema, rng: random.Random) -> Any:
        strategy = self._strategies.get(key)
        if strategy is None:
            strategy = self._strategies[key] = _strategy(inline(schema, self.schemas.defs))
        from hypothesis.control import BuildContext
        from hypothesis.errors import HypothesisException, StopTest
        from hypothesis.internal.conjecture.data import ConjectureData

        data = ConjectureData(random=rng, max_choices=5000)
        try:
            with BuildContext(data, is_final=False, wrapped_test=lambda: None):
                return data.draw(strategy)
        except (StopTest, HypothesisException, RecursionError) as exc:
            raise GenerationError(str(exc)) from None


_MISSING = object()


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
    """One deterministic draw. `mode`: readable (for a UI), empty (minimal, nulls), huge (long, non-ASCII, extreme)."""

    def __init__(self, schemas: SchemaSet, rng: random.Random, mode: str) -> None:
        self.schemas = schemas
        self.rng = rng
        self.mode = mode

    def walk(self, schema: Schema, name: str, depth: int) -> Any:
        if depth > 40:
            raise GenerationError("schema nests too deeply")
        schema = self.schemas.resolve(schema)
        if schema is True or schema == {}:
            return self.string({}, name)
        if schema is False:
            raise GenerationError("false schema")
        if "$ref" in schema:
            schema = self.merge([{k: v for k, v in schema.items() if k != "$ref"}, {"$ref": schema["$ref"]}])
        if "allOf" in schema:
            schema = self.merge([{k: v for k, v in schema.items() if k != "allOf"}, *schema["allOf"]])
        if "const" in schema:
            return schema["const"]
        if "enum" in schema and schema["enum"]:
            options = schema["enum"]
            if self.mode == "empty" and None in options:
                return None
            return self.rng.choice([o for o in options if o is not None] or options)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            chosen = self.choose(alternatives, depth)
            base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return self.walk(self.merge([base, chosen]) if len(base) > 0 else chosen, name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            kind = "null" if (self.mode == "empty" and "null" in kind) or not real else self.rng.choice(real)
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if kind == "null":
            return None
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind == "integer":
            return self.integer(schema, name)
        if kind == "number":
            return self.number(schema)
        if kind == "boolean":
            return self.rng.random() < 0.5
        return self.string(schema, name)

    def choose(self, alternatives: list[Schema], depth: int) -> Schema:
        nullable = [a for a in alternatives if self.schemas.resolve(a) in ({"type": "null"},)]
        if self.mode == "empty" and nullable and depth > 0:  # the top-level null is one `Prefer: branch=null` away
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

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        for prop, sub in properties.items():
            if prop not in required:
                if self.mode == "empty" or depth >= MAX_DEPTH:
                    continue
                resolved = self.schemas.resolve(sub)
                if isinstance(resolved, dict) and (resolved.get("writeOnly") or resolved.get("deprecated")):
                    continue
                if self.mode == "readable" and self.rng.random() < 0.1:
                    continue
            out[prop] = self.walk(sub, prop, depth + 1)
        for prop in required - out.keys():
            out[prop] = self.string({}, prop)
        return out

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", low + (6 if self.mode == "huge" else 3)))
        if self.mode == "empty" or depth >= MAX_DEPTH:
            count = low
        else:
            count = self.rng.randint(low, max(low, min(high, low + 3 if self.mode == "readable" else high)))
        prefix = schema.get("prefixItems", [])
        items = schema.get("items", {})
        out = [self.walk(prefix[i] if i < len(prefix) else items, name, depth + 1) for i in range(count)]
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
        else:
            lo, hi = _plausible_range(name)
            lo = max(lo, low) if low is not None else lo
            hi = min(hi, high) if high is not None else hi
            if lo > hi:
                lo, hi = (low if low is not None else hi), (high if high is not None else lo)
            value = self.rng.randint(int(lo), int(hi))
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            value -= value % step
        return int(value)

    def number(self, schema: dict[str, Any]) -> float:
        low, high = _bounds(schema, integer=False)
        lo = low if low is not None else 0.0
        hi = high if high is not None else lo + 1000.0
        if self.mode == "huge":
            return float(hi if high is not None else 1.7976931348623157e308)
        if self.mode == "empty":
            return float(lo)
        value = round(self.rng.uniform(lo, hi), 2)
        return min(max(value, lo), hi)

    def string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        if "pattern" in schema:
            raise GenerationError("pattern: left to hypothesis-jsonschema")
        text = _formatted(fmt, self.rng) if fmt else None
        if text is None:
            if self.mode == "huge":
                text = "Ωmega ✓ 日本語 ☃ " * 300
            elif self.mode == "empty":
                text = ""
            else:
                text = _named(name.lower(), self.rng)
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        while len(text) < low:
            text += " " + self.rng.choice(_WORDS) if text else self.rng.choice(_WORDS)
        if high is not None and len(text) > int(high):
            text = text[: int(high)].rstrip() or text[: int(high)]
        return text


def _bounds(schema: dict[str, Any], integer: bool) -> tuple[Any, Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(schema.get("exclusiveMinimum"), (int, float)) and not isinstance(schema["exclusiveMinimum"], bool):
        low = schema["exclusiveMinimum"] + (1 if integer else 1e-6)
    if isinstance(schema.get("exclusiveMaximum"), (int, float)) and not isinstance(schema["exclusiveMaximum"], bool):
        high = schema["exclusiveMaximum"] - (1 if integer else 1e-6)
    if integer:
        import math

        low = math.ceil(low) if low is not None else None
        high = math.floor(high) if high is not None else None
    return low, high


def _plausible_range(name: str) -> tuple[int, int]:
    name = name.lower()
    if any(w in name for w in ("count", "num", "total", "size", "length", "connections", "quantity")):
        return 0, 12
    if "year" in name:
        return 2019, 2026
    if "age" in name:
        return 18, 80
    if "port" in name:
        return 1024, 65535
    if name == "id" or name.endswith("_id") or name.endswith("number"):
        return 1, 9999
    return 0, 100


def _formatted(fmt: str, rng: random.Random) -> str | None:
    moment = _EPOCH + timedelta(seconds=rng.randint(0, 700 * 86400))
    word = rng.choice(_WORDS)
    if fmt == "date-time":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "date":
        return moment.strftime("%Y-%m-%d")
    if fmt == "time":
        return moment.strftime("%H:%M:%SZ")
    if fmt in ("email", "idn-email"):
        return f"{rng.choice(_FIRST).lower()}.{word}@example.com"
    if fmt in ("uri", "url", "iri", "uri-reference", "iri-reference"):
        return f"https://example.com/{word}/{rng.randint(1, 999)}"
    if fmt == "uuid":
        return str(_uuid(rng))
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


def _uuid(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _named(name: str, rng: random.Random) -> str:
    words = lambda n: " ".join(rng.choice(_WORDS) for _ in range(n))  # noqa: E731
    if "email" in name:
        return f"{rng.choice(_FIRST).lower()}@example.com"
    if any(w in name for w in ("url", "uri", "link", "href", "website")):
        return f"https://example.com/{rng.choice(_WORDS)}"
    if name in ("id", "uuid", "guid") or name.endswith(("_id", "id")):
        return "".join(rng.choice("0123456789abcdef") for _ in range(12))
    if "repo" in name:
        return f"{rng.choice(_WORDS)}-labs/{rng.choice(_WORDS)}-{rng.choice(_WORDS)}"
    if "branch" in name:
        return rng.choice(["main", "develop", f"feature/{rng.choice(_WORDS)}-{rng.choice(_WORDS)}"])
    if name in ("first_name", "firstname", "given_name"):
        return rng.choice(_FIRST)
    if name in ("last_name", "lastname", "family_name", "surname"):
        return rng.choice(_LAST)
    if "name" in name or name in ("author", "owner", "user", "username"):
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    if any(w in name for w in ("title", "summary", "subject", "label", "headline")):
        return words(rng.randint(2, 5)).capitalize()
    if any(w in name for w in ("description", "message", "msg", "text", "body", "content", "comment", "detail")):
        return words(rng.randint(6, 14)).capitalize() + "."
    if "path" in name or "file" in name:
        return f"src/{rng.choice(_WORDS)}/{rng.choice(_WORDS)}.py"
    if "version" in name:
        return f"{rng.randint(0, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
    if any(w in name for w in ("key", "token", "secret", "password")):
        return "".join(rng.choice("0123456789abcdef") for _ in range(24))
    if "color" in name or "colour" in name:
        return f"#{rng.randint(0, 0xFFFFFF):06x}"
    if name.endswith("_at") or "date" in name or "time" in name:
        return (_EPOCH + timedelta(seconds=rng.randint(0, 700 * 86400))).strftime("%Y-%m-%dT%H:%M:%SZ")
    return words(rng.randint(1, 3))
