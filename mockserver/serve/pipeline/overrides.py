"""Runtime overrides (`POST /__mock/overrides`): "answer this operation (for these parameters) as if the request had
said `Prefer: ...`", or "answer exactly this" (`response`), or "break the connection" (`fault`), for every matching
request or the next N.

Rules: an override is checked once, when it is added, against the contract (operation, parameters, every preference
value as a request would be judged, a `response`'s status, headers and body against the documented response), so
a request only matches and merges; a mistake is one 400 naming its JSON pointer. Kept in the store as JSON (shared
by replicas with Redis); `Overrides` caches the parsed form (and a response's bytes) per store version. The most
specific override wins (more parameters), then the newest. An override applies after security and validation, and
its preferences win over the request's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from ...contract import media as mediatypes
from ...contract.spec import Operation, Spec
from ..data.encoding import encode
from ..store import OverrideStore
from . import negotiation
from .answer import JSON, Answer
from .preferences import Preferences, PreferError, parse_prefer
from .validation import deepest

MAX_OVERRIDES = 1000
MAX_RESPONSE_BYTES = 256 * 1024  # an override's body, encoded: a fixture file is the place for anything larger
MAX_HEADERS = 50
FAULTS = ("reset", "close", "stall")  # before any byte; after part of the body; the body trickled (app.py does them)
_KEYS = ("operation", "params", "prefer", "response", "fault", "times", "allow_undocumented")
_RESPONSE_KEYS = ("status", "headers", "body")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
# set by the HTTP layer; a stated Content-Type picks the documented media type
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer", "te"})


class OverrideError(ValueError):
    """A bad override: `field` names the member of the JSON body at fault (a JSON pointer inside `response`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Override:
    id: str
    operation: str  # "METHOD /path"
    params: tuple[tuple[str, str], ...]
    prefer: str
    prefs: Preferences
    times: int | None
    answer: Answer | None = None  # `response`: exactly this answer
    fault: str | None = None

    def matches(self, path: dict[str, str], query: dict[str, list[str]]) -> bool:
        for name, value in self.params:
            if path.get(name, None) != value and value not in query.get(name, ()):
                return False
        return True

    @property
    def label(self) -> str:
        """What the journal note says of it."""
        parts = [self.prefer] if self.prefer else []
        if self.answer is not None:
            parts.append(f"response {self.answer.status}")
        if self.fault:
            parts.append(f"fault={self.fault}")
        return ", ".join(parts)


class Judge:
    """What an override is checked against beyond the contract's text: the operation's fixtures and examples (its
    `Facts`) and the response views of its schemas. `mock` is the core (pipeline/core.py's `Mock`)."""

    def __init__(self, mock: Any) -> None:
        self.facts: dict[str, negotiation.Facts] = mock.facts
        self.producer = mock.producer
        self.schemas = mock.spec.schemas

    def preference(self, op: Operation, prefs: Preferences) -> str | None:
        """Why `prefs` cannot be honoured for `op` (as a request with them would be refused), or None."""
        facts = self.facts.get(op.key)
        if facts is None:
            return None
        if prefs.code is not None and op.response_for(prefs.code) is None:
            if prefs.example is None and prefs.branch is None:
                return None  # an undocumented status is forced (the documented exception)
            return f"code={prefs.code} is not documented for {op.key} (it documents {', '.join(op.responses)})"
        decision = negotiation.negotiate(facts, prefs, {}, {}, {}, lambda: 0)
        if decision.kind == negotiation.PROBLEM and decision.problem is not None and decision.status == 400:
            return decision.detail or decision.problem.default
        return None

    def header(self, schema: Any, value: str) -> str | None:
        """Why a header value breaks its documented schema (read as a typed value where the schema says so)."""
        resolved = self.schemas.resolve(schema)
        kind = resolved.get("type") if isinstance(resolved, dict) else None
        typed: Any = value
        try:
            if kind == "integer":
                typed = int(value)
            elif kind == "number":
                typed = float(value)
            elif kind == "boolean" and value in ("true", "false"):
                typed = value == "true"
        except ValueError:
            return f"{value[:40]!r} is not of type {kind!r}"
        error = next(iter(self.schemas.validator(schema).iter_errors(typed)), None)
        return None if error is None else error.message

    def body(self, op: Operation, status: str, media: str, body: Any) -> list[tuple[str, str]]:
        """(JSON pointer, reason) for each way `body` breaks the documented response (its response view)."""
        schema = self.producer.body_schema(op, status, media)
        if schema is None:
            return []
        validator = self.schemas.validator(schema)
        found = []
        for error in map(deepest, validator.iter_errors(body)):
            pointer = "/body" + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.instance_path)
            found.append((pointer, error.message))
            if len(found) >= 10:
                break
        return found


def check(body: Any, spec: Spec, max_delay_ms: int, judge: Judge | None = None) -> dict[str, Any]:
    """The JSON of a new override, checked and normalised; raises `OverrideError`."""
    if not isinstance(body, dict):
        raise OverrideError("(body)", 'expected a JSON object like {"operation": "GET /path", "prefer": "code=500"}')
    unknown = set(body) - set(_KEYS)
    if unknown:
        raise OverrideError(sorted(unknown)[0][:100], f"unknown member; expected {', '.join(_KEYS)}")
    name = body.get("operation")
    if not isinstance(name, str) or not name.strip():
        raise OverrideError("operation", "required: 'METHOD /path' or an operationId")
    op = spec.find(name.strip())
    if op is None:
        offered = ", ".join(o.key for o in spec.operations[:20])
        raise OverrideError("operation", f"no operation {name[:200]!r} in the contract (it has: {offered})")
    allow = body.get("allow_undocumented", False)
    if not isinstance(allow, bool):
        raise OverrideError("allow_undocumented", "must be true or false")
    clean = _params(op, body.get("params"))
    prefer = body.get("prefer", "")
    response, fault = body.get("response"), body.get("fault")
    if not isinstance(prefer, str):
        raise OverrideError("prefer", 'must be a string of preferences as in the Prefer header, e.g. "code=500"')
    if not prefer.strip() and response is None and fault is None:
        raise OverrideError("prefer", 'required (or "response" or "fault"): e.g. "code=500, delay=300"')
    try:
        prefs = parse_prefer(prefer, max_delay_ms)
    except PreferError as exc:
        raise OverrideError("prefer", str(exc)) from None
    if prefer.strip() and prefs == Preferences():
        raise OverrideError("prefer", "names no known preference (code, example, dynamic, branch, delay)")
    if response is not None and (prefs.code, prefs.example, prefs.branch, prefs.dynamic) != (None,) * 4:
        raise OverrideError("prefer", 'with "response" only delay= applies: the response is the answer')
    if judge is not None and response is None:
        problem = judge.preference(op, prefs)
        if problem is not None:
            raise OverrideError("prefer", problem)
    if fault is not None and fault not in FAULTS:
        raise OverrideError("fault", f"must be one of {', '.join(FAULTS)}")
    times = body.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 1_000_000):
        raise OverrideError("times", "must be a whole number >= 1 (leave it out: until removed)")
    out: dict[str, Any] = {"operation": op.key, "params": clean, "prefer": prefer.strip(), "times": times}
    if response is not None:
        out["response"] = _response(op, response, allow, judge)
    if fault is not None:
        out["fault"] = fault
    return out


def _params(op: Operation, params: Any) -> dict[str, str]:
    params = params or {}
    if not isinstance(params, dict):
        raise OverrideError("params", "must be an object of parameter names to values")
    declared = {p.name for p in op.parameters if p.location in ("path", "query")}
    clean: dict[str, str] = {}
    for key, value in params.items():
        if key not in declared:
            raise OverrideError(
                f"params.{key[:100]}",
                f"{op.key} has no path or query parameter {key[:100]!r} (it has: {sorted(declared)})",
            )
        if isinstance(value, (dict, list)) or value is None:
            raise OverrideError(f"params.{key}", "must be a string, number or boolean")
        clean[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return clean


def _response(op: Operation, response: Any, allow: bool, judge: Judge | None) -> dict[str, Any]:
    """`{"status", "headers", "body"}` checked against the documented response for that status."""
    if not isinstance(response, dict):
        raise OverrideError("response", 'must be an object like {"status": 200, "headers": {}, "body": {...}}')
    unknown = set(response) - set(_RESPONSE_KEYS)
    if unknown:
        raise OverrideError(f"/response/{sorted(unknown)[0][:100]}", "unknown member; expected status, headers, body")
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise OverrideError("/response/status", "required: an HTTP status from 100 to 599")
    documented = op.response_for(status)
    if documented is None and not allow:
        raise OverrideError(
            "/response/status",
            f"{status} is not documented for {op.key} (it documents {', '.join(op.responses) or 'nothing'}); "
            'send "allow_undocumented": true to answer it anyway',
        )
    headers = response.get("headers") or {}
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
        raise OverrideError("/response/headers", f"must be an object of at most {MAX_HEADERS} header names to strings")
    clean: dict[str, str] = {}
    media: str | None = None
    for key, value in headers.items():
        where = f"/response/headers/{key[:100]}"
        if not _TOKEN.fullmatch(key) or key.lower() in _FRAMING:
            raise OverrideError(where, "not a header name an override may set")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise OverrideError(where, "must be a string (or a number)")
        text = str(value)
        if len(text) > 4096 or not text.isprintable():
            raise OverrideError(where, "must be printable text of at most 4096 characters")
        if key.lower() == "content-type":
            media = text
        else:
            clean[key] = text
    has_body = "body" in response
    body = response.get("body")
    if documented is not None and judge is not None:
        declared = {name.lower(): schema for name, (_, schema) in documented.headers.items()}
        for key, text in clean.items():
            schema = declared.get(key.lower())
            reason = judge.header(schema, text) if schema is not None else None
            if reason is not None:
                raise OverrideError(f"/response/headers/{key}", reason)
    if documented is not None:
        offered = list(documented.content)
        if media is None:
            media = next((m for m in offered if mediatypes.is_json(m)), offered[0] if offered else None)
        elif offered and not any(mediatypes.matches(mediatypes.base(media), mediatypes.base(m)) for m in offered):
            raise OverrideError(
                "/response/headers/Content-Type", f"{media[:100]} is not documented for {status} ({', '.join(offered)})"
            )
        if has_body and not offered:
            raise OverrideError("/response/body", f"{op.key} documents no body for {status}")
        if has_body and judge is not None and media is not None:
            key = next((m for m in offered if mediatypes.base(m) == mediatypes.base(media)), media)
            problems = judge.body(op, documented.status, key, body)
            if problems:
                pointer, reason = problems[0]
                raise OverrideError(pointer, reason)
    if has_body and media is None:
        media = JSON
    if has_body:
        try:
            size = len(encode(body, media or JSON))
        except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
            raise OverrideError("/response/body", f"cannot be encoded as {media}: {exc}") from None
        if size > MAX_RESPONSE_BYTES:
            raise OverrideError("/response/body", f"{size} bytes encoded; at most {MAX_RESPONSE_BYTES}")
    out: dict[str, Any] = {"status": status, "headers": clean}
    if has_body:
        out["body"] = body
        out["media"] = media
    return out


def answer_of(response: dict[str, Any]) -> Answer:
    """A checked `response` as the answer it gives (made once per store version)."""
    media = response.get("media")
    body = encode(response["body"], media) if "body" in response and media else b""
    headers = tuple(response.get("headers", {}).items())
    return Answer(response["status"], body, negotiation.FROM_OVERRIDE, media if "body" in response else None, headers)


class Overrides:
    """The store's overrides, parsed once per version; `find` is what a request costs (nothing when there are none)."""

    def __init__(self, store: OverrideStore, max_delay_ms: int) -> None:
        self.store = store
        self.max_delay_ms = max_delay_ms
        self.version = -1
        self.by_operation: dict[str, list[Override]] = {}
        self._version = store.overrides_version  # bound once: the request path without overrides is this call

    def refresh(self) -> bool:
        """Reads the store (one round trip with Redis); True when any override is active."""
        if self._version() == self.version:  # Redis: one GET, the items only when they changed
            return bool(self.by_operation)
        version, items = self.store.overrides()
        if version != self.version:
            self.version = version
            self.by_operation = {}
            for item in items:
                if "operation" not in item:  # a socket.io stream fault (serve/events/faults.py)
                    continue
                try:
                    prefs = parse_prefer(item.get("prefer", ""), self.max_delay_ms)
                    answer = answer_of(item["response"]) if item.get("response") else None
                    found = Override(
                        str(item["id"]), item["operation"], tuple(sorted(item.get("params", {}).items())),
                        item.get("prefer", ""), prefs, item.get("times"), answer, item.get("fault"),
                    )  # fmt: skip
                except (PreferError, KeyError, TypeError, ValueError):
                    continue
                self.by_operation.setdefault(found.operation, []).append(found)
            for found_list in self.by_operation.values():
                found_list.sort(key=lambda o: (len(o.params), int(o.id) if o.id.isdigit() else 0), reverse=True)
        return bool(self.by_operation)

    def find(self, operation: str, path: dict[str, str], query: dict[str, list[str]]) -> Override | None:
        """The override for a request, counting one use of it (an override whose uses ran out is skipped)."""
        for override in self.by_operation.get(operation, ()):
            if override.matches(path, query) and self.store.use_override(override.id):
                return override
        return None
