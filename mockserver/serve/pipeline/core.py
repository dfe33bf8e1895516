"""The framework-free core: a `MockRequest` in, an `Outcome` out. Knows no HTTP server; app.py adapts it.

Rules: everything costly (validators, fixture bytes, example checks) is built in `Mock.__init__`; a request does
dictionary lookups, one hash, at most one cached generation, and a serialization. The pipeline is route ->
fault -> security -> validation -> preferences (header, query controls, override) -> state -> `negotiate` ->
sequence step -> produce; its precedence is in negotiation.py. What changes at run time (overrides, items,
sequence positions) is in the store (store.py). How far an answer may be reused is the decision's (`Decision.reuse`,
copied to `Outcome.reuse`): the adapter remembers what is not NEVER per request; a PER_SHAPE decision teaches the core
a recipe for its request shape (method, query, headers: the adapter says which) and operation: another path of that
shape, routed there, only asks the fixtures, its pool slot and the producer, while no override is active; whatever
else could differ makes it take the whole pipeline (`_Recipe`).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ...contract import security
from ...contract.mount import load_mounted, mounts
from ...contract.routing import FULL, METHOD, Router
from ...contract.spec import Operation, Spec, builtin
from ..config import Config
from ..data.generation import Generator, seed_of, slot_of
from ..events.streams import EventStreams, load_streams
from ..store import MemoryStore, StateError, Store, open_store
from . import forced, negotiation, problems
from .answer import Answer, from_fixture, problem_answer
from .coherence import Coherence
from .fixtures import EDGES, FixtureIndex, fixture_warnings, load_fixtures, raw_key
from .overrides import Override, Overrides
from .preferences import NONE as NO_PREFERENCES
from .preferences import Preferences, PreferError, chooses, merge, parse_controls, parse_prefer, split_query
from .producer import Producer, without_forbidden
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
    reuse: int = negotiation.PER_REQUEST  # the decision's: NEVER when it depends on run-time state (override, item,
    # sequence position, fault) or on the clock (rate limit)
    # what a forwarded exchange broke of the contract (forward/proxy.py): {"severity", "direction", "pointer", "reason"}
    violations: tuple[dict[str, str], ...] = ()


_NO_CONTROLS: dict[str, str] = {}  # shared, never written: most requests have no query at all
_PER_SHAPE = negotiation.PER_SHAPE
_tuple_new = tuple.__new__  # a named tuple without its keyword handling: the recipe's answer is the hot path


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
        return _tuple_new(Outcome, (answer, op.key, self.secrets, self.note, "", "", _PER_SHAPE, ()))


def fixtures_folders(config: Config) -> list[str]:
    if config.fixtures is not None:
        return [folder for folder in config.fixtures if folder]
    return [] if config.spec or config.mount else [builtin()[1]]


def build_mock(config: Config, store: Store | None = None) -> Mock:
    """Loads and checks everything the server needs; raises DocumentError/ConfigError for a user's mistake (an
    unreachable `--state-url` included). Without `store`, opens the one the config names."""
    spec = load_mounted(mounts(config.spec, config.mount), strict=config.strict)
    fixtures = load_fixtures(fixtures_folders(config), spec)
    streams = load_streams(fixtures_folders(config), spec, config.socketio_path)
    if store is None:
        try:
            store = open_store(config.state_url, config.journal_size)
        except StateError as exc:
            from ..config import ConfigError

            raise ConfigError(str(exc)) from None
    mock = Mock(spec, fixtures, config, store)
    mock.streams = streams
    return mock


class Mock:
    def __init__(self, spec: Spec, fixtures: dict[str, FixtureIndex], config: Config,
                 store: Store | None = None) -> None:  # fmt: skip
        self.spec = spec
        self.config = config
        self.store: Store = store if store is not None else MemoryStore(config.journal_size)
        self.router = Router(spec.operations, spec.prefix)
        self.fixtures = fixtures
        self.streams = EventStreams(config.socketio_path)  # the stream fixtures (socket.io); build_mock loads them
        # contract mistakes worked around (docs/leniency.md): counted at start-up, listed with --verbose
        self.mistakes: list[str] = [*spec.warnings, *spec.schemas.mistakes]
        self.warnings: list[str] = [*self.mistakes, *fixture_warnings(fixtures)]
        self.invalid_examples: list[str] = []  # those of the warnings that are examples not served (counted at start)
        self.format_examples = 0  # examples served although a format does not match (--serve-invalid-format-examples)
        self.edges = fixtures.get(EDGES)  # fixtures for raw paths no operation matches (recorded redirects, 404s)
        self.generator = Generator(spec.schemas, config.seed, config.edge_cases)
        self.generator.notes = self.warnings  # what generation had to fall back on, said once each, when first met
        self.generator.on_note = _say
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
        self._broken: dict[str, list[dict[str, Any]]] = {}  # per operation: a broken request's violations (forced.py)
        self.world: Stateful | None = None  # without --stateful: collection lists made of their item fixtures
        self.coherence: Coherence | None = None  # ... and a generated item the same in every answer
        if config.stateful:
            self.stateful = Stateful(spec, self.generator, self.facts, self.store, config.seed, config.state_size)
            self.stateful.seed()
        else:
            world = Stateful(spec, self.generator, self.facts, MemoryStore(0), config.seed, config.state_size)
            if any(world.seeds.values()):
                world.seed()
                self.world = world
            self.coherence = Coherence(spec, self.facts, self.producer, self.validators, config.seed)

    def handle(self, request: MockRequest, overrides_read: bool = False) -> Outcome:
        """The answer to a request. `overrides_read`: the caller has just called `self.overrides.refresh()`."""
        if not overrides_read:
            self.overrides.refresh()
        match = self.router.match(request.method, request.raw_path, request.query, request.headers)
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
        if op.unservable:  # a contract mistake stops this operation alone: the answer names it
            file, pointer, reason = op.unservable
            detail = f"{file}#{pointer}: {reason}"
            answer = problem_answer(problems.UNSERVABLE, detail, pointer=pointer, reason=reason)
            return Outcome(answer, op.key, note=detail)
        secrets: tuple[str, ...] = ()
        override: Override | None = None
        query, controls = split_query(request.query) if request.query else (request.query, _NO_CONTROLS)
        prefs = NO_PREFERENCES
        error_rate = self.config.error_rate
        if error_rate > 0 and self._random.random() < error_rate:
            decision = negotiation.fault(self.facts[op.key], self._random.choice((500, 503)))
        else:
            decision, secrets, override, prefs = self._decide(op, match.params, match.bad_params, request, query,
                                                              controls)  # fmt: skip
            if error_rate > 0:  # the same request may meet a fault next time
                decision = decision._replace(reuse=negotiation.NEVER)
        if decision.fixture is not None and decision.fixture.sequence and decision.kind == negotiation.FIXTURE:
            served = self.store.advance(self._identity(decision.fixture.name, request, query))
            decision = negotiation.sequence_step(self.facts[op.key], decision, served, request.headers.get("accept"))
        elif self.stateful is not None and self.stateful.role(op) is not None:
            decision = decision._replace(reuse=negotiation.NEVER)  # the next request may find another state
        templated = decision.kind == negotiation.FIXTURE and decision.fixture is not None \
            and decision.fixture.steps[decision.step].template is not None  # fmt: skip
        coerced = self.validators[op.key].coerce_path(match.params) \
            if decision.kind == negotiation.GENERATE or templated else {}  # fmt: skip
        answer = self.producer.produce(op, decision, coerced, query)
        if self.coherence is not None and decision.kind == negotiation.GENERATE and self.coherence.applies(op.key):
            answer = self.coherence.apply(op.key, answer, match.params)
            decision = decision._replace(reuse=min(decision.reuse, negotiation.PER_REQUEST))
        note = decision.note
        if override is not None:
            if override.answer is not None:  # `response`: exactly that answer
                answer = override.answer._replace(delay_ms=decision.delay_ms)
            answer = answer._replace(source=negotiation.FROM_OVERRIDE, fault=override.fault)
            note = f"override {override.id} ({override.label})" + (f": {note}" if note else "")
        fixture = decision.fixture.name if decision.fixture is not None else ""
        outcome = Outcome(answer, op.key, secrets, note, fixture, override.id if override else "", decision.reuse)
        if decision.reuse == negotiation.PER_SHAPE and shape is not None and not request.body and not match.bad_params:
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
        if not ok and not self._keyless(facts, params, query, request.headers):
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
            if override.answer is not None:
                decision = negotiation.Decision(negotiation.EMPTY, override.answer.status, negotiation.FROM_OVERRIDE,
                                                delay_ms=prefs.delay_ms, reuse=negotiation.NEVER)  # fmt: skip
                return decision, secrets, override, prefs
            if prefs.code is not None and op.response_for(prefs.code) is None:
                decision = negotiation.forced(op, prefs.code)
                return decision._replace(delay_ms=prefs.delay_ms), secrets, override, prefs  # forced: NEVER
        state = None
        if self.stateful is not None and not chooses(prefs) and self.stateful.role(op) is not None:
            state = self.stateful.handle(op, params, query, request.headers, request.body)
        elif self.world is not None and not chooses(prefs):
            state = self.world.listing(op, params, query, request.headers)
        decision = state if state is not None else negotiation.negotiate(
            facts, prefs, params, query, request.headers, lambda: self._slot(request, query))  # fmt: skip
        if prefs.code is not None and prefs.code >= 400 and decision.kind == negotiation.GENERATE:
            decision = self._forced_error(op, decision)  # an error that looks real, not random data
        if prefs.delay_ms is not None or override is not None:  # an override may be gone by the next request
            reuse = negotiation.NEVER if override is not None else decision.reuse
            decision = decision._replace(delay_ms=prefs.delay_ms, reuse=reuse)
        return decision, secrets, override, prefs

    def _forced_error(self, op: Operation, decision: negotiation.Decision) -> negotiation.Decision:
        errors = self._broken.get(op.key)
        if errors is None:
            errors = self._broken[op.key] = forced.broken_request(op, self.validators[op.key])
        return forced.error_decision(op, decision, errors)

    def _keyless(self, facts: negotiation.Facts, params: dict[str, str], query: dict[str, list[str]],
                 headers: dict[str, str]) -> bool:  # fmt: skip
        """Served without credentials: `--auth off`, or a fixture recorded from an upstream that answered this
        request without any (`auth: none`)."""
        if self.config.auth == "off":
            return True
        if not facts.keyless:
            return False
        fixture = facts.fixtures.find(params, query, headers)
        return fixture is not None and fixture.auth == "none"

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
                    self.generator.examples.setdefault(f"{op.key}|{status}|{media}", []).append(value)
        return found


def _say(warning: str) -> None:
    print(f"mockserver: warning: {warning}", file=sys.stderr, flush=True)


def _valid_but_format(schema: Any, value: Any, spec: Spec) -> bool:
    """Whether a value fails its schema only in a `format` (what Prism still serves)."""
    return bool(spec.schemas.validator(schema, formats=False).is_valid(value))
