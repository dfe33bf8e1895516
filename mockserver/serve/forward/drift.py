"""Contract drift in real traffic: what a forwarded exchange breaks of the contract, tallied for the exit summary and
JUnit XML.

Rules: requests are checked by the mock's own `RequestValidator`s, responses against the response view of their schema
(`schemas.RESPONSE`: a writeOnly property answered with a value is a leak, one answered null is not, as for FastAPI's
`SecretStr | None`) by validators compiled once per operation, status and media type (`response_views`, kept apart from
the mock's own stricter ANSWER views in the generator's shared cache). A finding is a `Drift` (operation, direction,
JSON pointer, reason) of severity `violation` or `warning`; what the contract omits but is never held against a server
(`contract.verdicts.never_held`: a 429, a 401/403 to a request without credentials) is a warning, and so is traffic no
operation matches. The JUnit file is `contract.verdicts`' (classname the operation, name "drift", an `exit-code`
property for `report merge`). Nothing here does I/O but `write_junit`; the caller redacts reasons before they are kept
or shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ...contract import media as mediatypes
from ...contract import words
from ...contract.documents import pointer as json_pointer
from ...contract.schemas import RESPONSE as RESPONSE_VIEW
from ...contract.schemas import Schema, SchemaSet
from ...contract.spec import Operation
from ...contract.verdicts import Case, Failure, Suite, never_held, write_junit
from ..pipeline.validation import RequestValidator, Violation, deepest

VIOLATION, WARNING = "violation", "warning"
REQUEST, RESPONSE = "request", "response"
NO_OPERATION = "(no operation)"
MAX_BODY_FINDINGS = 10
CHECK = "drift"  # the JUnit name of every case: what was asked of the operation
Compile = Callable[[str, Schema], Any]  # (cache key, schema) -> a compiled validator (Generator.validator)
View = Callable[[Operation, str, str], "Schema | None"]  # (operation, status key, media) -> response view (Producer)


def response_views(schemas: SchemaSet) -> View:
    """The response view of each documented body schema, made once: what a real server's answer is judged by."""
    views: dict[tuple[str, str, str], Schema | None] = {}

    def view(op: Operation, status: str, media: str) -> Schema | None:
        key = (op.key, status, media)
        if key not in views:
            response = op.responses.get(status)
            found = response.content.get(media) if response is not None else None
            schema = found.schema if found is not None else None
            views[key] = None if schema is None else schemas.view(schema, RESPONSE_VIEW, f"{op.key} {status} {media}")
        return views[key]

    return view


def judging(compile: Compile) -> Compile:
    """The generator's validator cache, under keys of their own: the mock caches its ANSWER views there."""
    return lambda key, schema: compile(f"judged|{key}", schema)


@dataclass(frozen=True)
class Drift:
    operation: str  # "METHOD /path" of the contract, "" when no operation matches
    direction: str  # request | response
    pointer: str  # JSON pointer into the request or response: /path/id, /query/x, /status, /header/X, /body/a/0
    reason: str
    severity: str = VIOLATION

    def line(self) -> str:
        return f"{self.operation or NO_OPERATION} {self.direction} {self.pointer or '/'}: {self.reason}"

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "direction": self.direction, "pointer": self.pointer, "reason": self.reason}


def request_drift(op: Operation, violations: list[Violation]) -> list[Drift]:
    return [Drift(op.key, REQUEST, json_pointer(*v.loc), v.msg) for v in violations]


class Checker:
    """Checks one operation's side of an exchange; `compile` is shared with the mock so each schema compiles once."""

    def __init__(self, validators: Mapping[str, RequestValidator], compile: Compile, view: View) -> None:
        self.validators = validators
        self.compile = compile
        self.view = view

    def request(self, op: Operation, params: dict[str, str], bad: list[str], query: dict[str, list[str]],
                headers: dict[str, str], cookies: dict[str, str], body: bytes) -> list[Drift]:  # fmt: skip
        violations = self.validators[op.key].validate(
            params, query, headers, cookies, body, headers.get("content-type", ""), bad
        )
        return request_drift(op, violations)

    def response(self, op: Operation, method: str, status: int, headers: Mapping[str, str], body: bytes | None,
                 credentials: bool) -> list[Drift]:  # fmt: skip
        """`headers` with lower-case names; `body` None when it could not be read (an unknown content coding)."""
        if method != op.method and (status >= 400 or method != "HEAD"):
            # HEAD routed to the GET operation: the contract does not document that method, and a server that
            # refuses it (405, 501, or a 404 from a framework that routes no HEAD) is within its rights
            return [Drift(op.key, RESPONSE, "/status", f"{method} answered {status}: the contract documents no "
                          f"{method} for this path", WARNING)]  # fmt: skip
        response = op.response_for(status)
        if response is None:
            documented = ", ".join(op.responses) or "none"
            reason = f"status {status} is not documented (documented: {documented})"
            kind = never_held(status, credentials)
            if not kind:
                return [Drift(op.key, RESPONSE, "/status", reason)]
            return [Drift(op.key, RESPONSE, "/status", f"{reason}; {kind}", WARNING)]
        found = self._headers(op, response.status, response.headers, headers)
        if method == "HEAD" or status in (204, 304) or not response.content:
            return found
        media = mediatypes.base(headers.get("content-type", ""))
        documented_media = next((m for m in response.content if mediatypes.matches(media, m)), None)
        if documented_media is None:
            shown = media or "none"
            found.append(Drift(op.key, RESPONSE, "/header/content-type",
                               f"content type {shown!r} is not documented for {response.status} "
                               f"(documented: {', '.join(response.content)})"))  # fmt: skip
            return found
        schema = self.view(op, response.status, documented_media)
        if schema is None or body is None or not mediatypes.is_json(documented_media):
            return found
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            found.append(Drift(op.key, RESPONSE, "/body", f"not valid JSON: {exc}"))
            return found
        validator = self.compile(f"{op.key}|{response.status}|{documented_media}", schema)
        for _, error in zip(range(MAX_BODY_FINDINGS), map(deepest, validator.iter_errors(value)), strict=False):
            found.append(Drift(op.key, RESPONSE, json_pointer("body", *error.instance_path), error.message))
        return found

    def _headers(self, op: Operation, status: str, declared: Mapping[str, tuple[bool, Schema]],
                 headers: Mapping[str, str]) -> list[Drift]:  # fmt: skip
        found = []
        for name, (required, schema) in declared.items():
            if name.lower() == "content-type":
                continue
            value = headers.get(name.lower())
            where = json_pointer("header", name)
            if value is None:
                if required:
                    found.append(Drift(op.key, RESPONSE, where, "required header missing"))
                continue
            validator = self.compile(f"{op.key}|{status}|header|{name}", schema)
            if validator.is_valid(value):
                continue
            judged: Any = value
            try:  # a header is text: "1" stands for the integer 1, "true" for the boolean
                judged = orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
            if validator.is_valid(judged):
                continue
            error = deepest(next(iter(validator.iter_errors(judged))))
            found.append(Drift(op.key, RESPONSE, where, error.message))
        return found


def unmatched(method: str, status: int) -> Drift:
    """Traffic the contract does not describe (a redirect, a framework's 404): worth knowing, not a violation. One
    finding per method and status, whatever the path (the tally keeps the first path as its example)."""
    return Drift("", RESPONSE, "/status", f"{method} on a path no operation matches, answered {status}", WARNING)


# --- the tally ------------------------------------------------------------------------------------------------


@dataclass
class _Seen:
    drift: Drift
    count: int = 0
    example: str = ""  # the first request that showed it: "GET /api/conversations/x"


@dataclass
class Report:
    """Every distinct drift with its count and first example, and the traffic per operation."""

    operations: list[str]  # the contract's, in its order: every one is a JUnit test case
    requests: Counter[str] = field(default_factory=Counter)  # per operation key ("" for none)
    seen: dict[tuple[str, str, str, str, str], _Seen] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)  # upstream failures by reason
    print_limit: int = 10  # occurrences of one distinct drift printed; the rest are counted

    def add(self, operation: str, drifts: list[Drift], example: str) -> list[Drift]:
        """Tallies one exchange; returns the drifts worth printing (each distinct one at most `print_limit` times)."""
        self.requests[operation] += 1
        shown = []
        for drift in drifts:
            key = (drift.severity, drift.operation, drift.direction, drift.pointer, drift.reason)
            entry = self.seen.get(key)
            if entry is None:
                if len(self.seen) >= 10_000:  # hostile traffic must not grow this for ever
                    continue
                entry = self.seen[key] = _Seen(drift, 0, example)
            entry.count += 1
            if entry.count <= self.print_limit:
                shown.append(drift)
        return shown

    def error(self, reason: str) -> None:
        self.errors[reason if len(self.errors) < 1000 else "other upstream errors"] += 1

    def of(self, severity: str, operation: str | None = None) -> list[_Seen]:
        return [s for s in self.seen.values()
                if s.drift.severity == severity and (operation is None or s.drift.operation == operation)]  # fmt: skip

    def summary(self, command: str) -> list[str]:
        violations, warnings = self.of(VIOLATION), self.of(WARNING)
        total = sum(self.requests.values())
        broken = {s.drift.operation for s in violations}
        errors = sum(self.errors.values())
        verdict = "FAILED" if violations else "PASSED"
        lines = [
            f"mockserver: {command} {verdict}: {words.count(total, 'request')} forwarded, "
            f"{words.count(errors, 'upstream error')}; {words.count(len(violations), 'distinct violation')} "
            f"({sum(s.count for s in violations)} in all) in {words.count(len(broken), 'operation')}, "
            f"{words.count(len(warnings), 'distinct warning')}"
        ]
        for label, items in (("violation", violations), ("warning", warnings)):
            for s in items[:50]:
                lines.append(f"  {label}: {s.drift.line()} ({_times(s.count)}; first: {s.example})")
        for reason, count in self.errors.most_common(10):
            lines.append(f"  upstream error: {reason} ({_times(count)})")
        return lines

    def write_junit(self, path: str | Path, command: str) -> None:
        """One test case per operation of the contract (skipped when no traffic reached it), a failure per distinct
        violation; warnings go to the case's system-out. Traffic no operation matched is one more case."""
        names = list(self.operations)
        if self.requests.get(""):
            names.append("")
        cases = []
        for operation in names:
            case = Case(operation or NO_OPERATION, CHECK)
            cases.append(case)
            if not self.requests.get(operation):
                case.skipped = "no traffic reached this operation"
                continue
            case.failures = [Failure(s.drift.line(), s.drift.direction,
                                     f"{s.drift.line()}\n{_times(s.count).capitalize()}; first: {s.example}")
                             for s in self.of(VIOLATION, operation)]  # fmt: skip
            notes = [f"warning: {s.drift.line()} ({_times(s.count)}; first: {s.example})"
                     for s in self.of(WARNING, operation)]  # fmt: skip
            case.output = f"{words.count(self.requests[operation], 'request')}\n" + "\n".join(notes)
        write_junit(path, Suite(f"mockserver {command}", 1 if self.of(VIOLATION) else 0, cases))


def _times(count: int) -> str:
    return f"seen {count} time{'s' if count != 1 else ''}"
