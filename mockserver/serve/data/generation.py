"""Deterministic data from JSON Schemas, generated once per pool slot and cached; never Hypothesis per request.

Rules: a body is a function of (seed, schema key, slot) only, so every process and restart agrees. Each schema has
a pool of `POOL` slots; a request picks its slot by hashing its method, path and parameters. Generation walks the
schema with a seeded RNG: readable mode (words by whole-word name, 1-5 list items, coherent counts and timestamps,
recent dates, every enum value reachable) or, with --edge-cases, boundary mode (empty, huge, then lengths, numbers
and list sizes at their bounds, non-ASCII, markup, nulls). A `oneOf` gets a value only its chosen branch accepts
(one other branches accept too is changed until they refuse it, oneof.py; other branches are tried when one cannot).
`pattern` strings are drawn from the regex alone. Every value is checked against the schema before it is cached; when
the walk fails, the fallbacks come in order (docs/leniency.md): the contract's examples, a minimal walk (optional
properties left out), hypothesis-jsonschema bounded in time (its strings made readable where that stays valid), and,
for a schema no value satisfies, the closest value found (the fewest errors), said once in `notes`. A generated
value never fails silently and never makes a 500. Header values are readable, visible ASCII and short in every mode.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
import time
from collections.abc import Callable
from typing import Any

import jsonschema_rs

from ...contract.schemas import Schema, SchemaSet
from . import realism
from .encoding import serializable
from .walker import GenerationError, Walker, python_regex

POOL = 32
PATTERN_POOL = 8  # strings drawn once per pattern, picked from per value
HYPOTHESIS_BUDGET = 0.25  # seconds of last-resort hypothesis draws per pool slot; an answer never waits longer
HYPOTHESIS_MAX_SCHEMA = 20_000  # characters of JSON: a larger schema is not given to hypothesis-jsonschema at all
_LAST_BYTE = POOL & (POOL - 1) == 0 and POOL <= 256  # a power of two: the digest's last byte is enough
_blake2b = hashlib.blake2b
_ASCII = "".join(c for c in string.printable if c not in "\t\n\r\x0b\x0c")


def slot_of(seed: int, method: str, raw_path: bytes, pairs: list[tuple[str, str]]) -> int:
    """A request's pool slot: `seed_of(seed, method, raw_path, pairs) % POOL`, the same number for less work."""
    return path_slots(seed, method, pairs)(raw_path)


def path_slots(seed: int, method: str, pairs: list[tuple[str, str]]) -> Callable[[bytes], int]:
    """`slot_of(seed, method, raw_path, pairs)` as a function of the path alone: what does not change between the
    requests of one shape is formatted once (a new id on every request pays only its own part)."""
    head = f"{seed}\x1f{method}\x1f".encode("utf-8", "surrogatepass")
    tail = f"\x1f{pairs!s}".encode("utf-8", "surrogatepass") if pairs else b"\x1f[]"

    def slot(raw_path: bytes) -> int:  # a bytes repr is ASCII: encoded as is
        digest = _blake2b(head + repr(raw_path).encode("ascii") + tail, digest_size=8).digest()
        return digest[-1] % POOL if _LAST_BYTE else int.from_bytes(digest, "big") % POOL

    return slot


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
        self.pairs: dict[tuple[int, int], tuple[Any, Any, list[Any]]] = {}  # alternatives of two allOf parts (walker)
        self._patterns: dict[tuple[str, str], list[str]] = {}  # (pattern, alphabet) -> strings drawn from it
        self.examples: dict[str, list[Any]] = {}  # schema key -> the contract's valid examples for it (fallbacks)
        self.notes: list[str] = []  # what the fallbacks did, said once per schema (the core shows them as warnings)
        self.on_note: Callable[[str], None] | None = None  # told of each note as it is made (the core logs it)
        self._noted: set[str] = set()
        self.current = ""  # the key of the schema being generated (named in notes)
        self._hopeless: set[str] = set()  # keys of schemas no value was found for

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

    def _walker(self, rng: random.Random, mode: str) -> Walker:
        return Walker(self, rng, mode)

    def _make(self, key: str, schema: Schema, slot: int) -> Any:
        validator = self.validator(key, schema)
        self.current = key
        if key in self._hopeless:  # nothing satisfied it in an earlier slot: straight to the closest value
            return self._closest(key, schema, slot, validator, [])
        if self.edge_cases:
            first = "empty" if slot == 0 else "huge" if slot == 1 else "edge"
            modes = [first, "edge", "edge", "readable", "readable"]
        else:
            modes = ["readable"] * 4
        tried: list[Any] = []
        for attempt, mode in enumerate(modes):
            rng = random.Random(seed_of(self.seed, key, slot, attempt))
            try:
                value = self._walker(rng, mode).walk(schema, "", 0)
            except (GenerationError, RecursionError):
                continue
            if validator.is_valid(value) and serializable(value):
                return value
            tried.append(value)
        return self._fallback(key, schema, slot, validator, tried)

    def _fallback(self, key: str, schema: Schema, slot: int, validator: jsonschema_rs.Validator,
                  tried: list[Any]) -> Any:  # fmt: skip
        """When the walk gives no valid value: the contract's examples, a minimal walk (optional properties left
        out), hypothesis-jsonschema, then the closest value tried (a schema nothing satisfies), said once."""
        candidates = [*self.examples.get(key, ()), *_examples_of(self.schemas.resolve(schema))]
        start = slot % len(candidates) if candidates else 0
        for candidate in candidates[start:] + candidates[:start]:
            if validator.is_valid(candidate) and serializable(candidate):
                return candidate
        return self._minimal(key, schema, slot, validator, tried)

    def _minimal(self, key: str, schema: Schema, slot: int, validator: jsonschema_rs.Validator,
                 tried: list[Any]) -> Any:  # fmt: skip
        for attempt in range(3):
            rng = random.Random(seed_of(self.seed, key, slot, "minimal", attempt))
            try:
                value = self._walker(rng, "empty").walk(schema, "", 0)
            except (GenerationError, RecursionError):
                continue
            if validator.is_valid(value) and serializable(value):
                return value
            tried.append(value)
        try:
            return self._last_resort(key, schema, slot, validator)
        except GenerationError as exc:
            reason = str(exc)
        self._hopeless.add(key)
        return self._closest(key, schema, slot, validator, tried, reason)

    def _closest(self, key: str, schema: Schema, slot: int, validator: jsonschema_rs.Validator, tried: list[Any],
                 reason: str = "") -> Any:  # fmt: skip
        """For a schema no value was found for: the value tried with the fewest errors (a lenient walk's, when
        nothing was made at all: one branch of a `oneOf`, a string that misses its pattern), said once."""
        for attempt in range(3 if not tried else 0):
            rng = random.Random(seed_of(self.seed, key, slot, "lenient", attempt))
            try:
                tried.append(Walker(self, rng, "readable", lenient=True).walk(schema, "", 0))
            except (GenerationError, RecursionError):
                continue
        closest = min((t for t in tried if serializable(t)), key=lambda t: _errors(validator, t), default=_MISSING)
        if closest is _MISSING:
            raise GenerationError(f"could not generate a value valid against schema {key}: {reason}")
        first = next(iter(validator.iter_errors(closest)), None)
        why = f"{first.message} at /{'/'.join(map(str, first.instance_path))}" if first is not None else reason
        self._note(key, f"no value satisfies the schema of {key} ({why[:200]}); serving the closest value found")
        return closest

    def left_out(self, name: str, reason: str) -> None:
        """Said by the walk when an optional property no value satisfies is left out."""
        self._note(f"{self.current}|{name}", f"{self.current}: no value made for optional property {name!r} "
                                             f"({reason}); left out there")  # fmt: skip

    def _note(self, key: str, text: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.notes.append(text)
            if self.on_note is not None:
                self.on_note(text)

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
            inlined = inline(schema, self.schemas.defs)
            if len(json.dumps(inlined, default=str)) > HYPOTHESIS_MAX_SCHEMA:
                # its set-up (canonicalising every combination) is unbounded: 16-45 s on a 70 kB schema
                raise GenerationError(f"schema {key} is too large for hypothesis-jsonschema's set-up")
            strategy = self._strategies[key] = _strategy(inlined)
        return _draw(strategy, rng)

    def pattern(self, pattern: str, rng: random.Random, alphabet: str = _ASCII) -> str:
        """A string of `alphabet` (printable ASCII) matching a regular expression (ECMA 262, as JSON Schema says,
        read by Python's `re` where they differ: `\\p{L}` and the like become ASCII classes), drawn from the
        expression alone, `PATTERN_POOL` strings per pattern once (a draw costs milliseconds; a large contract has
        the same id pattern in hundreds of places), one of them picked by `rng`. The caller checks the result."""
        pool = self._patterns.get((pattern, alphabet))
        if pool is None:
            pool = self._patterns[(pattern, alphabet)] = self._pool(pattern, alphabet)
        if not pool:
            raise GenerationError(f"cannot draw from pattern {pattern!r}")
        return pool[rng.randrange(len(pool))]

    def _pool(self, pattern: str, alphabet: str) -> list[str]:
        try:
            from hypothesis import strategies as st

            python = python_regex(pattern)
            re.compile(python)
            strategy = st.from_regex(python, fullmatch=True, alphabet=st.sampled_from(alphabet))
        except (re.error, ValueError, TypeError):
            return []
        pool: list[str] = []
        for attempt in range(PATTERN_POOL):
            try:
                value = _draw(strategy, random.Random(seed_of(self.seed, pattern, alphabet, attempt)))
            except GenerationError:
                break
            if isinstance(value, str):
                pool.append(value)
        return pool


def _examples_of(schema: Any) -> list[Any]:
    """The values a schema itself offers: `examples`, `default`, `const`."""
    if not isinstance(schema, dict):
        return []
    found = list(schema["examples"]) if isinstance(schema.get("examples"), list) else []
    return found + [schema[k] for k in ("default", "const") if k in schema]


def _errors(validator: jsonschema_rs.Validator, value: Any) -> int:
    return sum(1 for _ in validator.iter_errors(value))


_MISSING = object()


def _draw(strategy: Any, rng: random.Random) -> Any:
    # Hypothesis internals: each is listed in data/ledger.py, whose canary is tests/serve/test_hypothesis_ledger.py
    from hypothesis.control import BuildContext
    from hypothesis.errors import HypothesisException, StopTest
    from hypothesis.internal.conjecture.data import ConjectureData

    data = ConjectureData(random=rng, max_choices=5000)
    try:
        with BuildContext(data, is_final=False, wrapped_test=lambda: None):
            return data.draw(strategy)
    except (StopTest, HypothesisException, RecursionError) as exc:
        raise GenerationError(str(exc)) from None
    except Exception as exc:  # hypothesis-jsonschema raises its own kinds while drawing (jsonschema's SchemaError ...)
        raise GenerationError(f"{type(exc).__name__}: {exc}") from None


def _strategy(schema: Schema) -> Any:
    try:
        from hypothesis_jsonschema import from_schema

        return from_schema(schema)
    except Exception as exc:  # hypothesis-jsonschema raises many kinds for schemas it cannot handle
        raise GenerationError(f"hypothesis-jsonschema cannot handle this schema: {exc}") from None


def inline(schema: Schema, defs: dict[str, Schema], depth: int = 3) -> Schema:
    """The schema with `#/$defs/` references replaced by their targets; recursion past `depth` becomes `false`."""

    def walk(node: Any, seen: tuple[str, ...], names: bool = False) -> Any:
        if isinstance(node, list):
            return [walk(n, seen) for n in node]
        if not isinstance(node, dict):
            return node
        if names:  # a map of property names to schemas: a property named `default` is a schema
            return {k: walk(v, seen) for k, v in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            key = ref[len("#/$defs/") :]
            if seen.count(key) >= depth:
                return False
            target = walk(defs.get(key, {}), (*seen, key))
            rest = {k: walk(v, seen) for k, v in node.items() if k != "$ref"}
            return {"allOf": [target, rest]} if rest else target
        out = {}
        for k, v in node.items():
            if k == "$defs":
                continue
            if k in ("enum", "const", "default", "examples", "example"):
                out[k] = v
            elif k == "pattern" and isinstance(v, str):
                out[k] = python_regex(v)  # hypothesis-jsonschema reads patterns with Python's `re`
            else:
                out[k] = walk(v, seen, k in ("properties", "patternProperties", "dependentSchemas"))
        return out

    return walk(schema, ())
