"""The framework-free core: a `MockRequest` in, an `Answer` out. Knows no HTTP server; app.py adapts it.

Rules: everything costly (validators, fixture bytes, example checks) is built in `Mock.__init__`; a request does
dictionary lookups, one hash, at most one cached generation, and a serialization. The precedence of answers is
in negotiation.py's docstring. Every body sent for a documented status is valid against the contract.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from . import problems
from .config import Config
from .fixtures import Fixture, FixtureIndex, documented
from .generation import POOL, GenerationError, Generator, dumps, seed_of
from .negotiation import (
    Preferences,
    PreferError,
    authorized,
    choose_media,
    default_status,
    missing_credentials,
    numeric,
    parse_prefer,
)
from .routing import FULL, METHOD, Router
from .schemas import accepts_null, branches
from .spec import Operation, Response, Spec
from .validation import RequestValidator, Violation, compile_schema

FIXTURE, EXAMPLE, GENERATED, ERROR = "fixture", "example", "generated", "error"
_WHOLE = object()
# Keywords that let other properties constrain this one: a property's own schema does not decide alone.
_COMPLEX = frozenset({"allOf", "anyOf", "oneOf", "if", "not", "dependentSchemas", "dependentRequired", "dependencies",
                      "patternProperties", "propertyNames", "unevaluatedProperties", "$ref"})
JSON = "application/json"


@dataclass
class MockRequest:
    method: str
    raw_path: bytes
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    cookies: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    too_many_query: bool = False  # more query parameters than the mock reads


@dataclass
class Answer:
    status: int
    body: bytes
    source: str
    media: str | None = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    operation: str = ""
    delay_ms: int | None = None  # None: the configured latency applies
    secrets: list[str] = field(default_factory=list)  # credential values the request carried, for redaction


def problem_answer(kind: tuple[str, int, str, str], detail: str | None = None, **extra: Any) -> Answer:
    """One of problems.py's error documents as an answer (the mock's own errors, never the contract's)."""
    status, body = problems.problem(kind, detail, **extra)
    return Answer(status, dumps(body), ERROR, problems.PROBLEM_JSON)


class Mock:
    def __init__(self, spec: Spec, fixtures: dict[str, FixtureIndex], config: Config) -> None:
        self.spec = spec
        self.config = config
        self.router = Router(spec.operations, spec.prefix)
        self.fixtures = fixtures
        self.generator = Generator(spec.schemas, config.seed, config.edge_cases)
        self.validators = {op.key: RequestValidator(op, spec.schemas) for op in spec.operations}
        self.examples = {op.key: self._valid_examples(op) for op in spec.operations}
        self._random = random.Random(seed_of(config.seed, "faults"))
        self._empty = FixtureIndex()
        # Decided once per operation instead of once per request (the request path is measured in microseconds).
        self._default = {op.key: default_status(op) for op in spec.operations}
        self._media: dict[tuple[str, str, str | None], tuple[Response | None, str | None]] = {}
        self._echo_checks: dict[tuple[str, int, str], Any] = {}

    # --- the pipeline -----------------------------------------------------------------------------------------

    def handle(self, request: MockRequest) -> Answer:
        match = self.router.match(request.method, request.raw_path)
        if match.kind == METHOD:
            answer = problem_answer(problems.NO_METHOD, allowed=match.allowed)
            answer.headers.append(("Allow", ", ".join(match.allowed)))
            return answer
        if match.kind != FULL or match.operation is None:
            return problem_answer(problems.NO_PATH, paths=self.router.paths[:50])
        op = match.operation
        answer = self._fault(op) or self._answer(op, match.params, match.bad_params, request)
        answer.operation = op.key
        return answer

    def _answer(self, op: Operation, params: dict[str, str], bad: list[str], request: MockRequest) -> Answer:
        ok, secrets = authorized(op, request.headers, request.query, request.cookies, self.config.api_key)
        if not ok:
            answer = self._unauthorized(op, request)
            answer.secrets = secrets
            return answer
        validator = self.validators[op.key]
        content_type = request.headers.get("content-type", "")
        violations = validator.validate(params, request.query, request.headers, request.cookies, request.body, content_type, bad)
        if request.too_many_query:
            violations.insert(0, Violation(("query",), "Too many query parameters", "value_error.too_many"))
        if violations:
            answer = self._invalid(op, violations, request)
        else:
            try:
                prefs = parse_prefer(request.headers.get("prefer"), self.config.max_delay_ms)
            except PreferError as exc:
                answer = problem_answer(problems.BAD_PREFER, str(exc))
            else:
                answer = self._negotiate(op, params, validator.coerce_path(params), prefs, request)
                if prefs.delay_ms is not None:
                    answer.delay_ms = prefs.delay_ms
        answer.secrets = secrets
        return answer

    def _fault(self, op: Operation) -> Answer | None:
        """`--error-rate`: an injected 500 or 503, with the contract's body where it documents one."""
        if self.config.error_rate <= 0 or self._random.random() >= self.config.error_rate:
            return None
        status = self._random.choice((500, 503))
        if documented(op, status) is None:
            return problem_answer(problems.INJECTED if status == 500 else problems.UNAVAILABLE)
        answer = self._generated(op, str(status), {}, None, 0)
        answer.source = ERROR
        return answer

    def _negotiate(self, op: Operation, raw: dict[str, str], coerced: dict[str, Any], prefs: Preferences, request: MockRequest) -> Answer:
        index = self.fixtures.get(op.key, self._empty)
        accept = request.headers.get("accept")
        if prefs.example is not None:
            return self._named_example(op, index, prefs, accept)
        status = self._default[op.key] if prefs.code is None else str(prefs.code)
        if status is None:
            return Answer(200, b"", GENERATED, None)
        if prefs.code is not None and documented(op, prefs.code) is None:
            return problem_answer(problems.BAD_PREFER, f"code={prefs.code} is not documented for {op.key}", documented=list(op.responses))
        if prefs.branch is not None:
            return self._branch(op, status, prefs.branch, coerced, request, accept)
        if prefs.dynamic is not True:
            fixture = index.find(raw, request.query, request.headers)
            if fixture is not None and (prefs.code is None or fixture.status == prefs.code):
                return _from_fixture(fixture)
            example = self._first_example(op, status, accept) if self.examples[op.key] else None
            if example is not None:
                return example
            if self.config.fixtures_only and prefs.code is None:
                return self._fixture_miss(op, status, accept)
        slot = 0 if prefs.dynamic is False else self._slot(request)
        return self._generated(op, status, coerced, accept, slot)

    # --- the sources ------------------------------------------------------------------------------------------

    def _slot(self, request: MockRequest) -> int:
        query = sorted((k, v) for k, vs in request.query.items() for v in vs) if request.query else []
        return seed_of(self.config.seed, request.method, request.raw_path, query) % POOL

    def _response(self, op: Operation, status: str, accept: str | None) -> tuple[Response | None, str | None]:
        memo = (op.key, status, accept)
        found = self._media.get(memo)
        if found is None:
            response = op.responses.get(status) or documented(op, numeric(status))
            found = (response, choose_media(response, accept)) if response is not None else (None, None)
            if len(self._media) > 10_000:  # Accept headers are few in practice; never let them grow without bound
                self._media.clear()
            self._media[memo] = found
        return found

    def _generated(self, op: Operation, status: str, coerced: dict[str, Any], accept: str | None, slot: int, branch: int | None = None) -> Answer:
        response, media = self._response(op, status, accept)
        code = numeric(status)
        headers = self._headers(op, status, response, slot) if response else []
        if response is None or media is None or response.content[media].schema is None:
            return Answer(code, b"", GENERATED, None, headers)
        schema = response.content[media].schema
        key = f"{op.key}|{status}|{media}"
        if branch is not None:
            schema = branches(schema, self.spec.schemas)[branch]
            key += f"|branch{branch}"
        try:
            value = self.generator.value(key, schema, slot)
        except GenerationError as exc:
            return problem_answer(problems.INTERNAL, f"cannot generate a body for {key}: {exc}")
        value = self._echo(key, schema, slot, value, coerced)
        return Answer(code, _encode(value, media), GENERATED, media, headers)

    def _echo(self, key: str, schema: Any, slot: int, value: Any, coerced: dict[str, Any]) -> Any:
        """Path parameters echoed into same-named fields: GET /things/abc answers {"thing_id": "abc", ...}."""
        if not coerced or not isinstance(value, dict):
            return value
        hits = {k: v for k, v in coerced.items() if k in value and value[k] != v}
        if not hits:
            return value
        echoed = {**value, **hits}
        for name, new in hits.items():
            check = self._echo_checks.get((key, slot, name))
            if check is None:
                check = self._echo_checks[(key, slot, name)] = self._property_validator(key, schema, value, name)
            if check is _WHOLE:
                return echoed if self.generator.validator(key, schema).is_valid(echoed) else value
            if not check.is_valid(new):
                return value
        return echoed

    def _property_validator(self, key: str, schema: Any, value: dict[str, Any], name: str) -> Any:
        """The validator of the property `name` in the object branch `value` came from, when that branch is plain
        enough for the property alone to decide; else `_WHOLE` (validate the whole echoed body)."""
        resolved = self.spec.schemas.resolve(schema)
        candidates = [resolved, *(self.spec.schemas.resolve(b) for b in branches(schema, self.spec.schemas))]
        plain = [
            c for c in candidates
            if isinstance(c, dict) and name in c.get("properties", {}) and not _COMPLEX & c.keys()
            and compile_schema(c, self.spec.schemas).is_valid(value)
        ]  # fmt: skip
        if len(plain) != 1:
            return _WHOLE
        return compile_schema(plain[0]["properties"][name], self.spec.schemas)

    def _headers(self, op: Operation, status: str, response: Response, slot: int) -> list[tuple[str, str]]:
        out = []
        for name, (_required, schema) in response.headers.items():
            if name.lower() == "content-type":
                continue
            try:
                value = self.generator.value(f"{op.key}|{status}|header|{name}", schema, slot)
            except GenerationError:
                continue
            out.append((name, value if isinstance(value, str) else dumps(value).decode()))
        return out

    def _branch(self, op: Operation, status: str, branch: int, coerced: dict[str, Any], request: MockRequest, accept: str | None) -> Answer:
        response, media = self._response(op, status, accept)
        schema = response.content[media].schema if response and media else None
        if schema is None:
            return problem_answer(problems.BAD_PREFER, f"status {status} of {op.key} has no schema to pick a branch from")
        options = branches(schema, self.spec.schemas)
        if branch == -1:
            if not accepts_null(schema, self.spec.schemas):
                return problem_answer(problems.BAD_PREFER, f"the {status} schema of {op.key} does not allow null")
            return Answer(numeric(status), b"null", GENERATED, media, self._headers(op, status, response, 0))  # type: ignore[arg-type]
        if branch >= len(options):
            return problem_answer(problems.BAD_PREFER, f"the {status} schema of {op.key} has {len(options)} anyOf/oneOf branches (0-based); branch={branch} is out of range")
        return self._generated(op, status, coerced, accept, self._slot(request), branch)

    def _valid_examples(self, op: Operation) -> dict[str, dict[str, dict[str, Any]]]:
        """status -> media -> name -> example, keeping only examples valid against their schema."""
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for status, response in op.responses.items():
            for media, obj in response.content.items():
                for name, value in obj.examples.items():
                    if obj.schema is not None:
                        validator = self.generator.validator(f"{op.key}|{status}|{media}", obj.schema)
                        if not validator.is_valid(value):
                            self.spec.warnings.append(f"{op.key}: example {name!r} of {status} {media} does not match its schema; not served")
                            continue
                    found.setdefault(status, {}).setdefault(media, {})[name] = value
        return found

    def _first_example(self, op: Operation, status: str, accept: str | None) -> Answer | None:
        response, media = self._response(op, status, accept)
        if response is None or media is None:
            return None
        named = self.examples[op.key].get(response.status, {}).get(media)
        if not named:
            return None
        value = next(iter(named.values()))
        return Answer(numeric(status), _encode(value, media), EXAMPLE, media, self._headers(op, response.status, response, 0))

    def _named_example(self, op: Operation, index: FixtureIndex, prefs: Preferences, accept: str | None) -> Answer:
        name = prefs.example or ""
        fixture = index.by_name.get(name)
        if fixture is not None and (prefs.code is None or fixture.status == prefs.code):
            return _from_fixture(fixture)
        for status, by_media in self.examples[op.key].items():
            if prefs.code is not None and documented(op, prefs.code) is not op.responses[status]:
                continue
            for media, named in by_media.items():
                if name in named:
                    response = op.responses[status]
                    return Answer(numeric(status), _encode(named[name], media), EXAMPLE, media, self._headers(op, status, response, 0))
        offered = sorted(index.by_name) + sorted({n for m in self.examples[op.key].values() for ex in m.values() for n in ex})
        return problem_answer(problems.BAD_PREFER, f"{op.key} has no example or fixture named {name[:200]!r}", available=offered[:200])

    def _fixture_miss(self, op: Operation, status: str, accept: str | None) -> Answer:
        response, media = self._response(op, status, accept)
        schema = response.content[media].schema if response and media else None
        if schema is not None and accepts_null(schema, self.spec.schemas):
            return Answer(numeric(status), b"null", GENERATED, media)
        return problem_answer(problems.NO_FIXTURE)

    # --- error answers ----------------------------------------------------------------------------------------

    def _unauthorized(self, op: Operation, request: MockRequest) -> Answer:
        index = self.fixtures.get(op.key)
        if index is not None and index.unauthorized is not None:
            return _from_fixture(index.unauthorized)
        if documented(op, 401) is not None:
            answer = self._generated(op, "401", {}, request.headers.get("accept"), 0)
            answer.source = ERROR
            return answer
        answer = problem_answer(problems.UNAUTHORIZED, f"Send credentials: {missing_credentials(op)}")
        schemes = {s.scheme.lower() for alt in op.security for s in alt if s.type == "http"}
        if schemes:
            answer.headers.append(("WWW-Authenticate", ", ".join(f'{s.capitalize()} realm="mockserver"' for s in sorted(schemes))))
        return answer

    def _invalid(self, op: Operation, violations: list[Violation], request: MockRequest) -> Answer:
        detail = [{"loc": list(v.loc), "msg": v.msg, "type": v.type} for v in violations]
        for status in ("422", "400", "4XX"):
            response = op.responses.get(status)
            if response is None:
                continue
            media = choose_media(response, request.headers.get("accept"))
            schema = response.content[media].schema if media else None
            if schema is None:
                return Answer(numeric(status), b"", ERROR, None)
            validator = self.generator.validator(f"{op.key}|{status}|{media}", schema)
            code = numeric(status)
            _, problem_body = problems.problem(problems.INVALID_REQUEST, errors=detail)
            problem_body["status"] = code
            for body in ({"detail": detail}, problem_body, {"message": "Validation failed", "errors": detail}):
                if validator.is_valid(body):
                    return Answer(code, dumps(body), ERROR, media)
            answer = self._generated(op, status, {}, request.headers.get("accept"), 0)
            answer.source = ERROR
            return answer
        return problem_answer(problems.INVALID_REQUEST, errors=detail)


def _from_fixture(fixture: Fixture) -> Answer:
    media = JSON if fixture.has_body else None
    headers = [(k, v) for k, v in fixture.response_headers.items() if k.lower() != "content-type"]
    media = fixture.response_headers.get("content-type", fixture.response_headers.get("Content-Type", media))
    return Answer(fixture.status, fixture.body_bytes, FIXTURE, media, headers, delay_ms=fixture.delay_ms or None)


def _encode(value: Any, media: str) -> bytes:
    if isinstance(value, str) and "json" not in media.lower():
        return value.encode()
    return dumps(value)
