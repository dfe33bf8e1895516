"""The framework-free core: a `MockRequest` in, an `Outcome` out. Knows no HTTP server; app.py adapts it.

Rules: everything costly (validators, fixture bytes, example checks) is built in `Mock.__init__`; a request does
dictionary lookups, one hash, at most one cached generation, and a serialization. The pipeline is route ->
fault -> security -> validation -> preferences (header, query controls, override) -> state -> `negotiate` ->
sequence step -> produce; its precedence is in negotiation.py. What changes at run time (overrides, items,
sequence positions) is in the store (store.py). How far an answer may be reused is the decision's (`Decision.reuse`,
copied to `Outcome.reuse`): the adapter remembers what is not NEVER per request; a PER_SHAPE decision teaches the core
a recipe for its request shape (method, query, headers: the adapter says which) and operation: another path of that
shape, routed there, only asks the fixtures, its pool slot and the producer, while no override is active; whatever
else could differ makes it take the whole pipeline (`Recipe`).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Hashable
from typing import Any

from ...contract import security
from ...contract.mount import load_mounted, mounts
from ...contract.routing import FULL, METHOD, Match, Router
from ...contract.spec import Operation, Spec, builtin
from ..config import Config
from ..data.generation import Generator, path_slots, seed_of, slot_of
from ..events.streams import EventStreams, load_streams
from ..store import MemoryStore, StateError, Store, open_store
from . import forced, negotiation, problems
from .answer import from_fixture, problem_answer
from .coherence import Coherence
from .fixtures import EDGES, FixtureIndex, fixture_warnings, load_fixtures, raw_key
from .overrides import Override, Overrides
from .preferences import NONE as NO_PREFERENCES
from .preferences import Preferences, PreferError, chooses, merge, parse_controls, parse_prefer, split_query
from .producer import Producer, without_forbidden
from .recipe import RECIPES, Recipe
from .request import MockRequest as MockRequest  # the core's input and output, imported from here too
from .request import Outcome
from .request_validators import Validators
from .stateful import Stateful
from .validation import TOO_MANY_QUERY, RequestValidator

_NO_CONTROLS: dict[str, str] = {}  # shared, never written: most requests have no query at all
_NO_QUERY: dict[str, list[str]] = {}  # shared, never written
_FULL, _GENERATE, _FIXTURE, _NEVER, _PER_SHAPE = FULL, negotiation.GENERATE, negotiation.FIXTURE, negotiation.NEVER, \
    negotiation.PER_SHAPE  # fmt: skip
_tuple_new = tuple.__new__  # an Outcome without the named tuple's own __new__ (a Python function)


class _Op:
    """What a request to an operation needs of it, decided at start-up instead of per request."""

    __slots__ = ("op", "facts", "check", "stateful", "coherent", "validator")

    def __init__(self, mock: Mock, op: Operation) -> None:
        self.op, self.facts = op, mock.facts[op.key]
        self.validator: RequestValidator | None = None  # `Mock.validators[op.key]`, asked on first use (lazy there)
        self.check = security.check_of(op.security, mock.config.api_key)  # security.satisfied, specialised
        self.stateful = mock.stateful is not None and mock.stateful.role(op) is not None  # its answers are state's
        self.coherent = mock.coherence is not None and mock.coherence.applies(op.key)  # coherence.py applies


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
        self.router = Router(spec.operations, spec.prefix, lambda op, params: self.validators[op.key].path_ok(params))
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
        self.validators = Validators(spec.operations, spec.schemas)  # lazy above 2,000 operations (Graph)
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
        self.recipes: dict[tuple[Hashable, str], Recipe] = {}
        self._slots: dict[str, Callable[[bytes], int]] = {}  # `_slot` for a request without a query, per method
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
        self.ops = {op.key: _Op(self, op) for op in spec.operations}
        self._no_path = Outcome(
            problem_answer(problems.NO_PATH, paths=self.router.paths[:50]), note="no operation matches"
        )
        self._error_rate, self._auth_off = config.error_rate, config.auth == "off"

    def quick(
        self, method: str, raw_path: bytes, headers: dict[str, str], shape: Hashable
    ) -> tuple[Outcome | None, Match | None]:
        """`handle` for a request with no query and no body, of a shape with a recipe for its operation (the adapter
        does not build a `MockRequest` for it); else (None, its route, for `handle`). Overrides read already."""
        if not self.recipes or self.overrides.by_operation or method == "HEAD" and self.edges is not None:
            return None, None
        match = self.router.match(method, raw_path, _NO_QUERY, headers)
        op = match.operation
        recipe = self.recipes.get((shape, op.key)) if op is not None and match.kind == FULL else None
        if recipe is None:
            return None, match
        return recipe.answer(self, raw_path, headers, match.params, match.bad_params), match

    def handle(self, request: MockRequest, overrides_read: bool = False, match: Match | None = None) -> Outcome:
        """The answer to a request. `overrides_read`: the caller has just called `self.overrides.refresh()`;
        `match`: its route, when `quick` found it."""
        if not overrides_read:
            self.overrides.refresh()
        tried = match is not None  # `quick` routed it, and tried the shape's recipe
        if match is None:
            match = self.router.match(request.method, request.raw_path, request.query, request.headers)
        if request.method == "HEAD" and self.edges is not None and match.kind == FULL:  # HEAD as recorded (a 405),
            edge = self.edges.find({"method": "HEAD", "raw_path": raw_key(request.raw_path)}, request.query,
                                   request.headers)  # fmt: skip
            if edge is None and match.operation is not None:  # refused on one path: refused on all of them
                edge = self.edges.refusals.get(match.operation.key)
            if edge is not None:  # ... before GET's answer stands in for it
                return Outcome(from_fixture(edge), note=edge.name, fixture=edge.name)
        shape = request.shape
        if shape is not None and not tried and match.operation and self.recipes and not self.overrides.by_operation:
            recipe = self.recipes.get((shape, match.operation.key))
            if recipe is not None and match.kind == FULL:
                outcome = recipe.answer(self, request.raw_path, request.headers, match.params, match.bad_params)
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
            return self._no_path
        op = match.operation
        if op.unservable:  # a contract mistake stops this operation alone: the answer names it
            file, pointer, reason = op.unservable
            detail = f"{file}#{pointer}: {reason}"
            answer = problem_answer(problems.UNSERVABLE, detail, pointer=pointer, reason=reason)
            return Outcome(answer, op.key, note=detail)
        o = self.ops[op.key]
        secrets: tuple[str, ...] = ()
        override: Override | None = None
        query, controls = split_query(request.query) if request.query else (request.query, _NO_CONTROLS)
        prefs = NO_PREFERENCES
        error_rate = self._error_rate
        if error_rate > 0 and self._random.random() < error_rate:
            decision = negotiation.fault(o.facts, self._random.choice((500, 503)))
        else:
            decision, secrets, override, prefs = self._decide(o, match.params, match.bad_params, request, query,
                                                              controls)  # fmt: skip
            if error_rate > 0:  # the same request may meet a fault next time
                decision = decision._replace(reuse=_NEVER)
        kind, fixture = decision.kind, decision.fixture
        if fixture is not None and fixture.sequence and kind == _FIXTURE:
            served = self.store.advance(self._identity(fixture.name, request, query))
            decision = negotiation.sequence_step(o.facts, decision, served, request.headers.get("accept"))
            kind, fixture = decision.kind, decision.fixture
        elif o.stateful:
            decision = decision._replace(reuse=_NEVER)  # the next request may find another state
        if kind == _GENERATE or kind == _FIXTURE and fixture is not None and fixture.steps[decision.step].template:
            coerced = (o.validator or self._validator(o)).coerce_path(match.params)  # echoed: generated, templated
        else:
            coerced = {}
        answer = self.producer.produce(op, decision, coerced, query)
        if o.coherent and kind == _GENERATE and self.coherence is not None:
            answer = self.coherence.apply(op.key, answer, match.params)
            decision = decision._replace(reuse=min(decision.reuse, negotiation.PER_REQUEST))
        note = decision.note
        if override is not None:
            if override.answer is not None:  # `response`: exactly that answer
                answer = override.answer._replace(delay_ms=decision.delay_ms)
            answer = answer._replace(source=negotiation.FROM_OVERRIDE, fault=override.fault)
            note = f"override {override.id} ({override.label})" + (f": {note}" if note else "")
        reuse = decision.reuse
        outcome = _tuple_new(Outcome, (answer, op.key, secrets, note, fixture.name if fixture is not None else "",
                                       override.id if override else "", reuse, ()))  # fmt: skip
        if reuse == _PER_SHAPE and shape is not None and not request.body and not match.bad_params:
            self._learn(shape, request.method, op, decision, prefs, query, secrets, note)
        return outcome

    def _learn(self, shape: Hashable, method: str, op: Operation, decision: negotiation.Decision, prefs: Preferences,
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
        self.recipes[(shape, op.key)] = Recipe(op, decision, query, secrets, note, fixtures, per_request,
                                                self.validators[op.key], self.producer, method,
                                                self.config.seed)  # fmt: skip

    def _decide(self, o: _Op, params: dict[str, str], bad: list[str], request: MockRequest,
                query: dict[str, list[str]], controls: dict[str, str],
                ) -> tuple[negotiation.Decision, tuple[str, ...], Override | None, Preferences]:  # fmt: skip
        op, facts = o.op, o.facts
        ok, seen = o.check(request.headers, request.query, request.cookies)
        secrets = tuple(seen)
        accept = request.headers.get("accept")
        if not ok and not self._auth_off:
            # without credentials: only an answer the upstream gave without any (recorded `auth: none`), else a 401
            keyless = facts.fixtures.find(params, query, request.headers, keyless=True) if facts.keyless else None
            if keyless is None:
                return negotiation.unauthorized(facts, accept), secrets, None, NO_PREFERENCES
            return negotiation.from_fixture(keyless), secrets, None, NO_PREFERENCES
        validator = o.validator or self._validator(o)
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
        if o.stateful and self.stateful is not None and not chooses(prefs):
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

    def _validator(self, o: _Op) -> RequestValidator:
        o.validator = found = self.validators[o.op.key]
        return found

    def _forced_error(self, op: Operation, decision: negotiation.Decision) -> negotiation.Decision:
        errors = self._broken.get(op.key)
        if errors is None:
            errors = self._broken[op.key] = forced.broken_request(op, self.validators[op.key])
        return forced.error_decision(op, decision, errors)

    def _slot(self, request: MockRequest, query: dict[str, list[str]]) -> int:
        if not query:  # the usual request: `slot_of` with the method's part of the hash formatted once
            slot = self._slots.get(request.method)
            if slot is None:
                slot = path_slots(self.config.seed, request.method, [])
                if len(self._slots) < 16:  # methods are few; made-up ones must not grow this
                    self._slots[request.method] = slot
            return slot(request.raw_path)
        pairs = sorted((k, v) for k, vs in query.items() for v in vs)
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
