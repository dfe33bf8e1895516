"""What a check or fuzz run yields: `Finding`s gathered in a `Report`, and how a failure (as `FailureInfo`, plain
data from engine.py), a transport error or a response becomes a finding.

Rules: one finding per cause (`Finding.key`: operation, check, status, what the checker says and the kind of input
that provoked it), counted, never listed twice, shown with its smallest request; a cause seen with plain input
absorbs the same failure seen with unusual input. A schema failure names the innermost reason and where it is, not
the whole value; bodies and messages are cut short for a one-screen report. Exit codes: 0 passed, 1 failed, 2 the
run could not do its job, 3 inconclusive (some operation could not be tested; never hides a 1 or a 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

import jsonschema_rs

from ..contract.words import count
from . import throttling


@dataclass
class FailureInfo:
    """A failed check, as plain data (engine.py fills it from the checker's own failure object)."""

    kind: str  # the failure's class name, e.g. "JsonSchemaError", "IgnoredAuth"
    title: str
    message: str
    operation: str = ""
    key: str = ""  # what the checker itself uses to tell two failures of a kind apart
    schema: bool = False  # a body that violates its schema: the fields below are set
    instance_path: list[Any] = field(default_factory=list)
    schema_path: list[Any] = field(default_factory=list)
    instance: Any = None
    validation_message: str = ""
    root_schema: dict[str, Any] | None = None


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


PASSED, FAILED, ERROR, INCONCLUSIVE = 0, 1, 2, 3  # exit codes


@dataclass
class Finding:
    """One distinct failure: what the contract expected, what came back, and how to send it again."""

    operation: str
    check: str
    title: str
    message: str
    received: str = ""
    request: Request | None = None
    count: int = 1

    distinct: str = ""  # what makes two failures of one check different; the message when empty
    status: int | None = None  # the answer's status, None for a transport error
    cause: str = ""  # the unusual input that provoked it ("a NUL byte in the path"); "" for plain input

    @property
    def key(self) -> tuple[str, str, str, int | None, str, str]:
        return (self.operation, self.check, self.title, self.status, self.distinct or self.message, self.cause)

    def example_rank(self, credentials: set[str]) -> tuple[bool, bool, int]:
        """Which reproduction to show, lowest first: plain input before unusual, with credentials (any of the
        header or query names in `credentials`) before without, then the smallest."""
        request = self.request
        if request is None:
            return (True, True, 0)
        names = {k.lower() for k in request.headers} | {k.lower() for k, _ in parse_qsl(urlsplit(request.url).query)}
        return (input_cause(request) != "", not names & credentials, len(request.url) + len(request.body or b""))


@dataclass
class Report:
    base_url: str
    operations: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the run could not do its job: exit 2
    untested: dict[str, str] = field(default_factory=dict)  # operation -> why some of its cases got no answer
    skipped: list[str] = field(default_factory=list)  # operations left out by the read-only rule
    methods: list[str] = field(default_factory=list)  # the HTTP methods this run may send
    requests: int = 0
    rate_limited: int = 0
    seconds: float = 0.0
    stopped: str = ""  # why the run ended early, "" when it completed
    seed: int | None = None
    credentials: set[str] = field(default_factory=set, repr=False)  # lower-case names that carry the key

    @property
    def exit_code(self) -> int:
        if self.errors:
            return ERROR
        if self.findings:
            return FAILED
        return INCONCLUSIVE if self.untested else PASSED

    def add(self, finding: Finding) -> None:
        for known in self.findings:
            if known.key == finding.key:
                _absorb(known, finding, self.credentials)
                return
        self.findings.append(finding)

    def untest(self, operation: str, reason: str) -> None:
        self.untested.setdefault(operation, reason)

    def consolidate(self) -> None:
        """Fold a failure seen with unusual input into the same failure seen with plain input: one cause."""
        plain = {f.key[:5]: f for f in self.findings if not f.cause}
        kept = []
        for finding in self.findings:
            same = plain.get(finding.key[:5]) if finding.cause else None
            if same is None:
                kept.append(finding)
            else:
                _absorb(same, finding, self.credentials, keep_request=True)
        self.findings = kept

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


@dataclass
class Progress:
    """What a progress display shows: `requests` sent in all (the session's one count), `since` of them before
    `phase` began ("" before the first phase that sends anything)."""

    phase: str
    requests: int
    findings: int
    seconds: float
    since: int = 0


def _absorb(known: Finding, other: Finding, credentials: set[str], keep_request: bool = False) -> None:
    known.count += other.count
    if (
        not keep_request
        and other.request is not None
        and (known.request is None or other.example_rank(credentials) < known.example_rank(credentials))
    ):
        known.request, known.received = other.request, other.received


def from_failure(failure: FailureInfo, check: str, operation: str, request: Request | None, response: Any) -> Finding:
    """A failed check, with the request that showed it and what came back."""
    return Finding(
        operation=failure.operation or operation,
        check=check,
        title=failure.title,
        message=_message(failure),
        distinct=_distinct(failure),
        received=received(response),
        request=request,
        status=getattr(response, "status_code", None),
        # Where a body breaks its schema is the cause; the id that fetched that body is not
        cause="" if failure.schema or failure.kind == "IgnoredAuth" else input_cause(request),
    )


def input_cause(request: Request | None) -> str:
    """The most telling unusual thing about a request's path, query or headers ("" when nothing is unusual)."""
    if request is None:
        return ""
    parts = urlsplit(request.url)
    segments = parts.path.split("/")
    values: list[tuple[str, str, bytes]] = [("path", s, unquote_to_bytes(s)) for s in segments[1:]]
    values += [(f"query {k}", v, v.encode("utf-8", "surrogateescape")) for k, v in parse_qsl(parts.query, True)]
    values += [(f"header {k}", v, v.encode("latin-1", "replace")) for k, v in request.headers.items()
               if k.lower() not in _PLAIN_HEADERS]  # fmt: skip
    found = [(rank, f"{name} {where}") for where, raw, value in values for rank, name in _unusual(raw, value, where)]
    if parts.path.endswith("/") and len(segments) > 2:
        found.append((7, "path trailing slash"))
    return min(found)[1] if found else ""


# Headers the client sets itself, and credentials: whatever they hold, it is not what a finding is about
_PLAIN_HEADERS = {"user-agent", "accept", "accept-encoding", "connection", "content-length", "content-type", "host",
                  "x-schemathesis-testcaseid", "authorization", "cookie"}  # fmt: skip


def _unusual(raw: str, value: bytes, where: str) -> list[tuple[int, str]]:
    """(rank, name) of each unusual property of one value; the lowest rank is the most telling."""
    found = []
    if b"\x00" in value:
        found.append((0, "NUL byte in"))
    if any(byte < 0x20 or byte == 0x7F for byte in value.replace(b"\x00", b"")):
        found.append((1, "control character in"))
    if len(value) > 255:
        found.append((2, "over 255 bytes in"))
    if any(byte >= 0x80 for byte in value):
        found.append((3, "non-ASCII in"))
    if where == "path" and "%2f" in raw.lower():
        found.append((4, "encoded slash in"))
    if where == "path" and value in (b".", b".."):
        found.append((5, "dot segment in"))
    if not where.startswith("header") and any(chr(byte) in "?#[]@!$&'()*+,;=% " for byte in value):
        found.append((6, "reserved characters in"))
    if not value and where != "path":
        found.append((8, "empty value in"))
    return found


def from_transport_error(label: str, error: Exception) -> Finding:
    import requests

    request = getattr(error, "request", None)
    sent = as_request(request) if isinstance(request, requests.PreparedRequest) else None
    if isinstance(error, throttling.BodyTooLarge):
        check, title = "response_size", "Response body too large"
    elif isinstance(error, requests.Timeout):
        check, title = "response_time", "No complete answer within --request-timeout"
    elif isinstance(error, throttling.OffTarget):
        check, title = "connection", "Redirected to another host; not followed"
    else:
        check, title = "connection", "Connection failed or was reset"
    return Finding(operation=label, check=check, title=title, message=one_line(error), request=sent,
                   cause=input_cause(sent))  # fmt: skip


def received(response: Any) -> str:
    if response is None:
        return ""
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type") or "(none)"
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    body = response.content[:300].decode("utf-8", "replace")
    more = "…" if len(response.content) > 300 else ""
    return f"{response.status_code} {content_type}: {body}{more}" if body else f"{response.status_code} {content_type}"


def as_request(request: Any) -> Request | None:
    if request is None:
        return None
    headers = {k: (v[0] if isinstance(v, list) else v) for k, v in dict(request.headers).items()}
    body = request.body.encode() if isinstance(request.body, str) else request.body
    return Request(
        method=str(request.method), url=str(getattr(request, "uri", None) or request.url), headers=headers, body=body
    )


def one_line(value: object) -> str:
    return _short(str(value), 400)


def _distinct(failure: FailureInfo) -> str:
    if failure.kind == "IgnoredAuth":
        return "IgnoredAuth"  # one verdict per operation, however many requests showed it
    if failure.schema:
        # The same broken field in a hundred bodies is one failure: where it is and which keyword, not the value
        return _schema_detail(failure)[1]
    return f"{failure.kind}:{failure.key or failure.message}"


def _message(failure: FailureInfo) -> str:
    if failure.schema:
        return _schema_detail(failure)[0]
    return failure.message.strip() or failure.title


def _schema_detail(failure: FailureInfo) -> tuple[str, str]:
    """The innermost reason a body fails its schema (`anyOf [Thing, null]` alone says only "not valid"), and a key
    naming where it failed."""
    root = failure.root_schema
    path, schema_path = list(failure.instance_path), list(failure.schema_path)
    reason = _tidy(failure.validation_message or failure.message, failure.instance)
    if isinstance(root, dict):
        inner = _innermost(root, schema_path, failure.instance, depth=0)
        if inner is not None:
            path, reason, schema_path = path + inner[0], inner[1], schema_path + inner[2]
    where = "/".join(str(part) for part in path) or "(body)"
    return f"at {where}: {_short(reason)}", f"{where}|{'/'.join(map(str, schema_path))}"


def _innermost(
    root: dict[str, Any], schema_path: list[Any], instance: Any, depth: int
) -> tuple[list[Any], str, list[Any]] | None:
    """Follow a failed anyOf/oneOf into the branch that fits the value's type: (path, message, schema path)."""
    if depth > 5 or not schema_path or schema_path[-1] not in ("anyOf", "oneOf"):
        return None
    node: Any = root
    for part in schema_path:
        node = node[part] if isinstance(node, dict | list) else None
    if not isinstance(node, list):
        return None
    # Keep only what $refs point into, then put each branch at the top
    holders = {k: v for k, v in root.items() if k in ("$defs", "definitions", "components") or k.startswith("x-")}
    chosen = None
    types: list[str] = []
    for index, branch in enumerate(node):
        if not isinstance(branch, dict):
            continue
        candidate = {**holders, **branch}
        try:
            errors = list(jsonschema_rs.validator_for(candidate, validate_formats=True).iter_errors(instance))
        except Exception:
            return None
        if not errors:
            return None
        first = errors[0]
        if not list(first.instance_path) and type(first.kind).__name__ == "Type":
            types.append(_type_name(candidate, root))
            continue
        chosen = (index, candidate, first)
        break
    if chosen is None:
        expected = " or ".join(dict.fromkeys(types))
        return [], f"{_preview(instance)} is not of type {expected}", []
    index, candidate, error = chosen
    path = list(error.instance_path)
    value = instance
    for part in path:
        value = value[part]
    deeper = _innermost(candidate, list(error.schema_path), value, depth + 1)
    if deeper:
        return path + deeper[0], deeper[1], [index, *error.schema_path, *deeper[2]]
    return path, _tidy(error.message, value), [index, *error.schema_path]


def _type_name(schema: dict[str, Any], root: dict[str, Any]) -> str:
    if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict):
            return str(target.get("title") or target.get("type") or schema["$ref"].rsplit("/", 1)[-1])
    if "type" in schema:
        return str(schema["type"]) if not isinstance(schema["type"], list) else "/".join(schema["type"])
    return "the schema"


def _tidy(message: str, value: Any) -> str:
    """A validator message names the whole value first; a long one is shortened to its kind."""
    cut = message.find(" is not ")
    return _preview(value) + message[cut:] if cut > 0 else message


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= 60:
        return text
    if isinstance(value, list):
        return f"an array of {count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"an object with {count(len(value), 'property')}"
    return text[:57] + "…"


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
