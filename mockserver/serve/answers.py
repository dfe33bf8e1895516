"""Producing an answer: a `Decision` (negotiation.py) in, an immutable `Answer` out.

Rules: the producer never decides (status, media and source come with the decision); it makes bytes. Generated data
comes from the generator's cached pool slots, path parameters are echoed into same-named fields only when the
result stays valid, response headers are generated from their schemas, and a 4xx made from request violations is
shaped to fit the contract's schema. Every body sent for a documented status is valid against the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..contract.schemas import SchemaSet, branches
from ..contract.spec import Operation, Response
from . import negotiation, problems
from .encoding import dumps, encode
from .generation import GenerationError, Generator
from .negotiation import Decision, response_of
from .validation import compile_schema

JSON = "application/json"
_WHOLE = object()
# Keywords that let other properties constrain this one: a property's own schema does not decide alone.
_COMPLEX = frozenset({"allOf", "anyOf", "oneOf", "if", "not", "dependentSchemas", "dependentRequired", "dependencies",
                      "patternProperties", "propertyNames", "unevaluatedProperties", "$ref"})  # fmt: skip


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    source: str  # X-Mock-Source: fixture | example | generated | error
    media: str | None = JSON
    headers: tuple[tuple[str, str], ...] = ()
    delay_ms: int | None = None  # None: the configured latency applies


def problem_answer(kind: problems.Problem, detail: str | None = None, headers: tuple[tuple[str, str], ...] = (),
                   **extra: Any) -> Answer:  # fmt: skip
    """One of problems.py's documents as an answer (the mock's own errors, never the contract's)."""
    return Answer(
        kind.status, dumps(kind.body(detail, **extra)), negotiation.FROM_ERROR, problems.PROBLEM_JSON, headers
    )


class Producer:
    def __init__(self, schemas: SchemaSet, generator: Generator) -> None:
        self.schemas = schemas
        self.generator = generator
        self._echo_checks: dict[tuple[str, int, str], Any] = {}

    def produce(self, op: Operation, decision: Decision, coerced: dict[str, Any]) -> Answer:
        """The answer a decision describes; `coerced` holds the request's typed path parameters, for echoing."""
        answer = self._produce(op, decision, coerced)
        return answer if decision.delay_ms is None else replace(answer, delay_ms=decision.delay_ms)

    def _produce(self, op: Operation, decision: Decision, coerced: dict[str, Any]) -> Answer:
        kind = decision.kind
        if kind == negotiation.GENERATE:
            return self._generated(op, decision, coerced)
        if kind == negotiation.FIXTURE:
            assert decision.fixture is not None
            return from_fixture(decision.fixture)
        if kind == negotiation.PROBLEM:
            assert decision.problem is not None
            return problem_answer(decision.problem, decision.detail, decision.headers, **dict(decision.extra))
        if kind == negotiation.EMPTY:
            return Answer(decision.status, b"", decision.source, None, decision.headers)
        response = response_of(op, decision.response)
        headers = self._headers(op, decision.response or "", response, 0) if response is not None else ()
        if kind == negotiation.EXAMPLE and decision.media is not None:
            return Answer(
                decision.status, encode(decision.value, decision.media), decision.source, decision.media, headers
            )
        if kind == negotiation.NULL:
            return Answer(decision.status, b"null", decision.source, decision.media, headers)
        if kind == negotiation.INVALID:
            return self._invalid(op, decision)
        raise ValueError(f"cannot produce a {kind!r} decision")

    def _generated(self, op: Operation, decision: Decision, coerced: dict[str, Any]) -> Answer:
        status, slot = decision.response or "", decision.slot
        response = response_of(op, decision.response)
        headers = self._headers(op, status, response, slot) if response is not None else ()
        media = decision.media
        schema = response.content[media].schema if response is not None and media is not None else None
        if media is None or schema is None:
            return Answer(decision.status, b"", decision.source, None, headers)
        key = f"{op.key}|{status}|{media}"
        if decision.branch is not None:
            schema = branches(schema, self.schemas)[decision.branch]
            key += f"|branch{decision.branch}"
        try:
            value = self.generator.value(key, schema, slot)
        except GenerationError as exc:
            return problem_answer(problems.INTERNAL, f"cannot generate a body for {key}: {exc}")
        value = self._echo(key, schema, slot, value, coerced)
        return Answer(decision.status, encode(value, media), decision.source, media, headers)

    def _invalid(self, op: Operation, decision: Decision) -> Answer:
        """The contract's 422 (or 400) body holding the violations: FastAPI's `detail` list, a problem document, or
        `{message, errors}`, whichever its schema takes; else a generated body valid against it."""
        schema = negotiation.response_schema(op, decision)
        if schema is None:
            return Answer(decision.status, b"", decision.source, None)
        detail = decision.value
        validator = self.generator.validator(f"{op.key}|{decision.response}|{decision.media}", schema)
        problem_body = problems.INVALID_REQUEST.body(errors=detail)
        problem_body["status"] = decision.status
        for body in ({"detail": detail}, problem_body, {"message": "Validation failed", "errors": detail}):
            if validator.is_valid(body):
                return Answer(decision.status, dumps(body), decision.source, decision.media)
        return self._generated(op, decision, {})

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
                check = self._echo_checks[(key, slot, name)] = self._property_validator(schema, value, name)
            if check is _WHOLE:
                return echoed if self.generator.validator(key, schema).is_valid(echoed) else value
            if not check.is_valid(new):
                return value
        return echoed

    def _property_validator(self, schema: Any, value: dict[str, Any], name: str) -> Any:
        """The validator of the property `name` in the object branch `value` came from, when that branch is plain
        enough for the property alone to decide; else `_WHOLE` (validate the whole echoed body)."""
        resolved = self.schemas.resolve(schema)
        candidates = [resolved, *(self.schemas.resolve(b) for b in branches(schema, self.schemas))]
        plain = [
            c for c in candidates
            if isinstance(c, dict) and name in c.get("properties", {}) and not _COMPLEX & c.keys()
            and compile_schema(c, self.schemas).is_valid(value)
        ]  # fmt: skip
        if len(plain) != 1:
            return _WHOLE
        return compile_schema(plain[0]["properties"][name], self.schemas)

    def _headers(self, op: Operation, status: str, response: Response, slot: int) -> tuple[tuple[str, str], ...]:
        out = []
        for name, (_required, schema) in response.headers.items():
            if name.lower() == "content-type":
                continue
            try:
                value = self.generator.value(f"{op.key}|{status}|header|{name}", schema, slot)
            except GenerationError:
                continue
            out.append((name, value if isinstance(value, str) else dumps(value).decode()))
        return tuple(out)


def from_fixture(fixture: Any) -> Answer:
    headers = tuple((k, v) for k, v in fixture.response_headers.items() if k.lower() != "content-type")
    media = fixture.response_headers.get(
        "content-type", fixture.response_headers.get("Content-Type", JSON if fixture.has_body else None)
    )
    return Answer(
        fixture.status, fixture.body_bytes, negotiation.FROM_FIXTURE, media, headers, fixture.delay_ms or None
    )
