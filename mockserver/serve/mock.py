"""The framework-free core: a `MockRequest` in, an `Outcome` out. Knows no HTTP server; app.py adapts it.

Rules: everything costly (validators, fixture bytes, example checks) is built in `Mock.__init__`; a request does
dictionary lookups, one hash, at most one cached generation, and a serialization. The pipeline is route ->
fault -> security -> validation -> preferences -> `negotiate` -> produce; its precedence is in negotiation.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from ..config import Config
from ..contract import security
from ..contract.spec import Operation, Spec, builtin, load_spec
from . import negotiation, problems
from .answers import Answer, Producer, problem_answer, without_forbidden
from .fixtures import FixtureIndex, load_fixtures
from .generation import POOL, Generator, seed_of
from .preferences import PreferError, parse_prefer
from .routing import FULL, METHOD, Router
from .validation import RequestValidator, Violation


@dataclass
class MockRequest:
    method: str
    raw_path: bytes
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    cookies: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    too_many_query: bool = False  # more query parameters than the mock reads


@dataclass(frozen=True)
class Outcome:
    """An answer and what the journal and log say of it."""

    answer: Answer
    operation: str = ""  # "METHOD /path" of the matched operation, "" when none matched
    secrets: tuple[str, ...] = ()  # credential values the request carried, for redaction
    note: str = ""  # the fixture or example used, or why the request was refused


def fixtures_folder(config: Config) -> str | None:
    if config.fixtures is not None:
        return config.fixtures or None
    return builtin()[1] if config.spec is None else None


def build_mock(config: Config) -> Mock:
    """Loads and checks everything the server needs; raises DocumentError/ConfigError for a user's mistake."""
    spec = load_spec(config.spec)
    return Mock(spec, load_fixtures(fixtures_folder(config), spec), config)


class Mock:
    def __init__(self, spec: Spec, fixtures: dict[str, FixtureIndex], config: Config) -> None:
        self.spec = spec
        self.config = config
        self.router = Router(spec.operations, spec.prefix)
        self.fixtures = fixtures
        self.warnings: list[str] = list(spec.warnings)
        self.invalid_examples: list[str] = []  # those of the warnings that are examples not served (counted at start)
        self.format_examples = 0  # examples served although a format does not match (--serve-invalid-format-examples)
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

    def handle(self, request: MockRequest) -> Outcome:
        match = self.router.match(request.method, request.raw_path)
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
        if self.config.error_rate > 0 and self._random.random() < self.config.error_rate:
            decision = negotiation.fault(op, self._random.choice((500, 503)))
        else:
            decision, secrets = self._decide(op, match.params, match.bad_params, request)
        coerced = self.validators[op.key].coerce_path(match.params) if decision.kind == negotiation.GENERATE else {}
        answer = self.producer.produce(op, decision, coerced, request.query)
        return Outcome(answer, op.key, secrets, decision.note)

    def _decide(
        self, op: Operation, params: dict[str, str], bad: list[str], request: MockRequest
    ) -> tuple[negotiation.Decision, tuple[str, ...]]:
        ok, seen = security.satisfied(op.security, request.headers, request.query, request.cookies, self.config.api_key)
        secrets = tuple(seen)
        facts = self.facts[op.key]
        accept = request.headers.get("accept")
        if not ok:
            return negotiation.unauthorized(facts, accept), secrets
        validator = self.validators[op.key]
        content_type = request.headers.get("content-type", "")
        violations = validator.validate(
            params, request.query, request.headers, request.cookies, request.body, content_type, bad
        )
        if request.too_many_query:
            violations.insert(0, Violation(("query",), "Too many query parameters", "value_error.too_many"))
        if violations:
            detail = [{"loc": list(v.loc), "msg": v.msg, "type": v.type} for v in violations]
            return negotiation.invalid(op, detail, accept), secrets
        try:
            prefs = parse_prefer(request.headers.get("prefer"), self.config.max_delay_ms)
        except PreferError as exc:
            return negotiation.problem(problems.BAD_PREFER, str(exc)), secrets
        decision = negotiation.negotiate(
            facts, prefs, params, request.query, request.headers, lambda: self._slot(request)
        )
        if prefs.delay_ms is not None:
            decision = replace(decision, delay_ms=prefs.delay_ms)
        return decision, secrets

    def _slot(self, request: MockRequest) -> int:
        query = sorted((k, v) for k, vs in request.query.items() for v in vs) if request.query else []
        return seed_of(self.config.seed, request.method, request.raw_path, query) % POOL

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
    import jsonschema_rs

    return bool(jsonschema_rs.validator_for(spec.schemas.standalone(schema), validate_formats=False).is_valid(value))
