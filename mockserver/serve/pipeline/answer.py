"""An answer as bytes, what every producer of answers returns: the producer's, a fixture's, the mock's own problem
documents, the admin endpoints' and the proxy's."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..data.encoding import dumps
from . import negotiation, problems

JSON = "application/json"


class Answer(NamedTuple):
    """An answer as bytes. A named tuple: immutable and cheap to build on every request (`answer._replace(...)`)."""

    status: int
    body: bytes
    source: str  # X-Mock-Source: fixture | example | generated | error | state | override | admin
    media: str | None = JSON
    headers: tuple[tuple[str, str], ...] = ()
    delay_ms: int | None = None  # None: the configured latency applies
    fault: str | None = None  # an override's connection fault (overrides.FAULTS), done by the adapter (app.py)


def problem_answer(kind: problems.Problem, detail: str | None = None, headers: tuple[tuple[str, str], ...] = (),
                   **extra: Any) -> Answer:  # fmt: skip
    """One of problems.py's documents as an answer (the mock's own errors, never the contract's)."""
    return Answer(
        kind.status, dumps(kind.body(detail, **extra)), negotiation.FROM_ERROR, problems.PROBLEM_JSON, headers
    )


def from_fixture(fixture: Any, step: int = 0) -> Answer:
    answer = fixture.steps[step]  # media and headers worked out at load; no named-tuple __new__ (a Python function)
    return _new(Answer, (answer.status, answer.body_bytes, _FROM_FIXTURE, answer.media, answer.other_headers,
                         answer.delay_ms or None, None))  # fmt: skip


_new = tuple.__new__
_FROM_FIXTURE = negotiation.FROM_FIXTURE
