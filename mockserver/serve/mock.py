"""The framework-free core: a `MockRequest` in, an `Outcome` out. Knows no HTTP server; app.py adapts it.

Rules: everything costly (validators, fixture bytes, example checks) is built in `Mock.__init__`; a request does
dictionary lookups, one hash, at most one cached generation, and a serialization. The pipeline is route ->
fault -> security -> validation -> preferences (header, query controls, override) -> state -> `negotiate` ->
sequence step -> produce; its precedence is in negotiation.py. What changes at run time (overrides, items,
sequence positions) is in the store (state.py); an outcome that depends on it is `volatile`: never remembered.
A generated answer teaches the core a recipe for its request shape (method, query, headers: the adapter says which)
and operation: another path of that shape, routed there, only asks the fixtures, its pool slot and the producer,
while no override is active; whatever else could differ makes it take the whole pipeline (`_Recipe`).
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..config import Config
from ..contract import security
from ..contract.spec import Operation, Spec, builtin, load_spec
from . import negotiation, problems
from .answers import Answer, Producer, from_fixture, problem_answer, without_forbidden
from .fixtures import EDGES, FixtureIndex, fixture_warnings, load_fixtures, raw_key
from .generation import Generator, seed_of, slot_of
from .overrides import Override, Overrides
from .preferences import NONE as NO_PREFERENCES
from .preferences import Preferences, PreferError, chooses, merge, parse_controls, parse_prefer, split_query
from .routing import FULL, METHOD, Router
from .state import MemoryStore, StateError, Store, open_store
from .stateful import Stateful
from .validation import TOO_MANY_QUERY, RequestValidator


@dataclass
class MockRequest:
    method: str
    raw_path: bytes
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    cookies: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    too_many_query: bool = False  # more query parameters than the mock reads
    # Requests of one shape differ only in their path (same method, query and headers, no body); None: unknown.
    # The adapter says so, and the core answers a new path of a known shape with less work (`_Recipe`).
    shape: Hashable | None = None


class Outcome(NamedTuple):
    """An answer and what the journal and log say of it. A named tuple: immutable, and built on every request for
    a fraction of a frozen dataclass's cost."""

    answer: Answer
    operation: str = ""  # "METHOD /path" of the matched operation, "" when none matched
    secrets: tuple[str, ...] = ()  # credential values the request carried, for redaction
    note: str = ""  # the fixture or example used, or why the request was refused
    fixture: str = ""  # the fixture's name when one answered
    override: str = ""  # the override's id when one applied
    volatile: bool = False  # depends on run-time state (override, item, sequence position): never remembered
    # what a forwarded exchange broke of the contract (proxy.py): {"severity", "direction", "pointer", "reason"}
    violations: tuple[dict[str, str], ...] = ()


_NO_CONTROLS: dict[str, str] = {}  # shared, never written: most requests have no query at all


RECIPES = 256  # (request shape, operation) pairs remembered (`_Recipe`): a client sends a few shapes


class _Recipe:
    """How a generated answer was reached for one request shape (method, query, headers) and operation: another
    path of that shape routed to that operation is looked up in the fixtures, given its pool slot and produced,
    skipping what cannot differ (security, validation, preferences, negotiation). A fixture that matches or a bad
    percent-escape goes through the whole pipeline."""

    __slots__ = ("op", "decision", "query", "secrets", "note", "fixtures", "per_request", "validator", "plan")

    def __init__(self, op: Operation, decision: negotiation.Decision, query: dict[str, list[str]],
                 secrets: tuple[str, ...], note: str, fixtures: FixtureIndex | None, per_request: bool,
                 validator: RequestValidator, producer: Producer) -> None:  # fmt: skip
        self.op, self.decision, self.query, self.secrets, self.note = op, decision, query, secrets, note
        self.fixtures = fixtures if fixtures is not None and (fixtures.by_path or fixtures.others) else None
        self.per_request, self.validator = per_request, validator
        self.plan = producer.prepared(op, decision, query)

    def answer(self, mock: Mock, request: MockRequest, params: dict[str, str], bad: list[str]) -> Outcome | None:
        """The outcome for a request of this shape routed to this operation; None: the whole pipeline decides."""
        op = self.op
        if bad:
            return None
        if self.fixtures is not None and self.fixtures.find(params, self.query, request.headers) is not None:
            return None
        coerced = params if self.validator.path_strings else self.validator.coerce_path(params)
        decision, plan = self.decision, self.plan
        slot = mock._slot(request, self.query) if self.per_request else decision.slot
        if plan is not None:  # the producer's work that does not depend on the slot, done once
            answer = plan.answer(decision, slot, coerced)
        else:
            answer = mock.producer.produce(op, negotiation.with_slot(decision, slot), coerced, self.query)
        return Outcome(answer, op.key, self.secrets, self.note)


def fixtures_folder(config: Config) -> str | None:
    if config.fixtures is not None:
        return config.fixtures or None
    return builtin()[1] if config.spec is None else None


def build_mock(config: Config, store: Store | None = None) -> Mock:
    """Loads and checks everything the server needs; raises DocumentError/ConfigError for a user's mistake (an
    unreachable `--state-url` included). Without `store`, opens the one the config names."""
    spec = load_spec(config.spec)
    fixtures = load_fixtures(fixtures_folder(config), spec)
    if store is None:
        try:
            store = open_store(config.state_url, config.journal_size)
        except StateError as exc:
            from ..config import ConfigError

            raise ConfigError(str(exc)) from None
    return Mock(spec, fixtures, config, store)


class Mock:
    def __init__(self, spec: Spec, fixtures: dict[str, FixtureIndex], config: Config,
                 store: Store | None = None) -> None:  # fmt: skip
        self.spec = spec
        self.config = config
        self.store: Store = store if store is not None else MemoryStore(config.journal_size)
        self.router = Router(spec.operations, spec.prefix)
        self.fixtures = fixtures
        self.warnings: list[str] = list(spec.warnings) + fixture_warnings(fixtures)
        self.invalid_examples: list[str] = []  # those of the warnings that are examples not served (counted at start)
        self.format_examples = 0  # examples served although a format does not match (--serve-invalid-format-examples)
        self.edges = fixtures.get(EDGES)  # fixtures for raw paths no operation matches (recorded redirects, 404s)
        self.generator = Generator(spec.schemas, config.seed, config.edge_cases)
        self.producer = Producer(spec.schemas, self.generator)
        self.validators = {op.key: RequestValidator(op, spec.schemas) for op in spec.operations}
        # Decided once per operation instead of once per request (the request path is measured in microseconds).
        self.facts = {
            op.key: negotiation.Facts.of(
                op, spec.schemas, fixtures.get(op.key), self._valid_examples(op), config.fixtures_only
            )
            for op in spec.operations
        }
        self.warnings.extend(spec.schemas.warnings)  # found while building the response views above
        self._random = random.Random(seed_of(config.seed, "faults"))
        self.overrides = Overrides(self.store, config.max_delay_ms)
        self.stateful: Stateful | None = None
        self.recipes: dict[tuple[Hashable, str], _Recipe] = {}
        if config.stateful:
            self.stateful = Stateful(spec, self.generator, self.facts, self.store, config.seed, config.state_size)
            self.stateful.seed()

    def handle(self, request: MockRequest, overrides_read: bool = False) -> Outcome:
        """The answer to a request. `overrides_read`: the caller has just called `self.overrides.refresh()`."""
        if not overrides_read:
            self.overrides.refresh()
        match = self.router.match(request.method, request.raw_path)
        shape = request.shape
        if shape is not None and match.operation is not None and self.recipes and not self.overrides.by_operation:
            recipe = self.recipes.get((shape, match.operation.key))
            if recipe is not None and match.kind == FULL:
                outcome = recipe.answer(self, request, match.params, match.bad_params)
                if outcome is not None:
                    return outcome
        if match.kind != FULL and self.edges is not None:
            where = {"method": request.method, "raw_path": raw_key(request.raw_path)}
            edge = self.edges.find(where, request.query, request.headers)
            if edge is not None:
                return Outcome(from_fixture(edge), note=edge.name, fixture=edge.name)
        if match.kind == METHOD:
            allow = ", ".join(match.allowed)
            owner, decision = negotiation.not_allowed(match.operations, match.allowed, request.method,
                                                      request.headers.get("accept"))  # fmt: skip
            answer = (
                self.producer.produce(owner, decision, {})
                if owner is not None
                else problem_answer(problems.NO_METHOD, headers=(("Allow", allow),), allowed=match.allowed)
            )
            return Outcome(answer, note=f"{request.method} not offered; allowed: {allow}")
        if match.kind != FULL or match.operation is None:
            return Outcome(problem_answer(problems.NO_PATH, paths=self.router.paths[:50]), note="no operation matches")
        op = match.operation
        secrets: tuple[str, ...] = ()
        override: Override | None = None
        query, controls = split_query(request.query) if request.query else (request.query, _NO_CONTROLS)
        prefs = NO_PREFERENCES
        if self.config.error_rate > 0 and self._random.random() < self.config.error_rate:
            decision = negotiation.fault(op, self._random.choice((500, 503)))
        else:
            decision, secrets, override, prefs = self._decide(op, match.params, match.bad_params, request, query,
                                                              controls)  # fmt: skip
        volatile = override is not None
        if decision.fixture is not None and decision.fixture.sequence and decision.kind == negotiation.FIXTURE:
            served = self.store.advance(self._identity(decision.fixture.name, request, query))
            decision = negotiation.sequence_step(decision, served, request.headers.get("accept"))
            volatile = True
        elif self.stateful is not None and self.stateful.role(op) is not None:
            volatile = True  # the next request may find another state
        coerced = self.validators[op.key].coerce_path(match.params) if decision.kind == negotiation.GENERATE else {}
        answer = self.producer.produce(op, decision, coerced, query)
        note = decision.note
        if override is not None:
            answer = answer._replace(source=negotiation.FROM_OVERRIDE)
            note = f"override {override.id} ({override.prefer})" + (f": {note}" if note else "")
        fixture = decision.fixture.name if decision.fixture is not None else ""
        outcome = Outcome(answer, op.key, secrets, note, fixture, override.id if override else "", volatile)
        if shape is not None and decision.kind == negotiation.GENERATE and not volatile and override is None \
                and self.config.error_rate == 0 and not request.body and not match.bad_params:  # fmt: skip
            self._learn(shape, op, decision, prefs, query, secrets, note)
        return outcome

    def _learn(self, shape: Hashable, op: Operation, decision: negotiation.Decision, prefs: Preferences,
               query: dict[str, list[str]], secrets: tuple[str, ...], note: str) -> None:  # fmt: skip
        """Keep how a generated answer was reached, for requests of the same shape: what decided it depends on
        their path only through the route, path parameters (when all are plain strings: validation cannot tell
        them apart), the fixtures they might match, the pool slot and the echo."""
        if not self.validators[op.key].path_any_string or (self.stateful is not None and self.stateful.role(op)):
            return
        looks_up = prefs.branch is None and prefs.dynamic is not True  # negotiate() asked the fixtures
        per_request = prefs.branch is not None or prefs.dynamic is not False  # ... and the slot
        if len(self.recipes) >= RECIPES:
            del self.recipes[next(iter(self.recipes))]
        fixtures = self.facts[op.key].fixtures if looks_up else None
        self.recipes[(shape, op.key)] = _Recipe(op, decision, query, secrets, note, fixtures, per_request,
                                                self.validators[op.key], self.producer)  # fmt: skip

    def _decide(self, op: Operation, params: dict[str, str], bad: list[str], request: MockRequest,
                query: dict[str, list[str]], controls: dict[str, str],
                ) -> tuple[negotiation.Decision, tuple[str, ...], Override | None, Preferences]:  # fmt: skip
        ok, seen = security.satisfied(op.security, request.headers, request.query, request.cookies, self.config.api_key)
        secrets = tuple(seen)
        facts = self.facts[op.key]
        accept = request.headers.get("accept")
        if not ok:
            return negotiation.unauthorized(facts, accept), secrets, None, NO_PREFERENCES
        validator = self.validators[op.key]
        content_type = request.headers.get("content-type", "")
        violations = validator.validate(params, query, request.headers, request.cookies, request.body, content_type,
                                        bad)  # fmt: skip
        if request.too_many_query:
            violations.insert(0, TOO_MANY_QUERY)
        if violations:
            detail = [{"loc": list(v.loc), "msg": v.msg, "type": v.type} for v in violations]
            return negotiation.invalid(op, detail, accept), secrets, None, NO_PREFERENCES
        try:
            prefs = parse_prefer(request.headers.get("prefer"), self.config.max_delay_ms)
            if controls:
                prefs = merge(prefs, parse_controls(controls, self.config.max_delay_ms))
        except PreferError as exc:
            return negotiation.problem(problems.BAD_PREFER, str(exc)), secrets, None, NO_PREFERENCES
        override = self.overrides.find(op.key, params, query) if self.overrides.by_operation else None
        if override is not None:
            prefs = merge(prefs, override.prefs)
            if prefs.code is not None and op.response_for(prefs.code) is None:
                decision = negotiation.forced(op, prefs.code)
                return decision._replace(delay_ms=prefs.delay_ms), secrets, override, prefs
        if self.stateful is not None and not chooses(prefs) and self.stateful.role(op) is not None:
            decision = self.stateful.handle(op, params, query, request.headers, request.body)
        else:
            decision = negotiation.negotiate(facts, prefs, params, query, request.headers,
                                             lambda: self._slot(request, query))  # fmt: skip
        if prefs.delay_ms is not None:
            decision = decision._replace(delay_ms=prefs.delay_ms)
        return decision, secrets, override, prefs

    def _slot(self, request: MockRequest, query: dict[str, list[str]]) -> int:
        pairs = sorted((k, v) for k, vs in query.items() for v in vs) if query else []
        return slot_of(self.config.seed, request.method, request.raw_path, pairs)

    def _identity(self, fixture: str, request: MockRequest, query: dict[str, list[str]]) -> str:
        """Who a sequence counts for: the fixture and the request's method, path and query (controls left out)."""
        pairs = sorted((k, v) for k, vs in query.items() for v in vs) if query else []
        return "\x1f".join((fixture, request.method, request.raw_path.decode("latin-1"), repr(pairs)))

    def reset(self) -> None:
        """Forgets items, overrides, sequence positions and the journal; the collections start again from their
        fixtures."""
        self.store.reset()
        if self.stateful is not None:
            self.stateful.seed()

    def _valid_examples(self, op: Operation) -> dict[str, dict[str, dict[str, Any]]]:
        """status -> media -> name -> example, keeping only examples valid against their schema's response view (and,
        with --serve-invalid-format-examples, those that fail only a `format`). Building the views here is also
        what says, at start-up, which required properties are writeOnly."""
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for status, response in op.responses.items():
            for media, obj in response.content.items():
                schema = self.producer.body_schema(op, status, media)
                for name, value in obj.examples.items():
                    if schema is not None:
                        validator = self.generator.validator(f"{op.key}|{status}|{media}", schema)
                        if not validator.is_valid(value):  # showing a writeOnly property? served without it
                            stripped = without_forbidden(value, validator)
                            value = stripped if validator.is_valid(stripped) else value
                        if not validator.is_valid(value):
                            if not (
                                self.config.serve_invalid_format_examples
                                and _valid_but_format(schema, value, self.spec)
                            ):
                                self.invalid_examples.append(
                                    f"{op.key}: example {name!r} of {status} {media} does not match its schema; "
                                    "not served"
                                )  # fmt: skip
                                self.warnings.append(self.invalid_examples[-1])
                                continue
                            self.format_examples += 1
                    found.setdefault(status, {}).setdefault(media, {})[name] = value
        return found


def _valid_but_format(schema: Any, value: Any, spec: Spec) -> bool:
    """Whether a value fails its schema only in a `format` (what Prism still serves)."""
    return bool(spec.schemas.validator(schema, formats=False).is_valid(value))
