"""What a check or fuzz run yields: `Finding`s gathered in a `Report`, and how a failure (as `FailureInfo`, plain data
from engine.py), a transport error or a response becomes a finding.

Rules: one finding per cause (`Finding.key`: operation, check, status, what the checker says, a server error's body
fingerprint and the kind of input that provoked it), counted, its inputs listed, never listed twice, shown with its
smallest request; a cause seen with plain input absorbs the same failure seen with unusual input, and an unusual input
is blamed only when making it plain makes the failure go away (`plain_variant`, re-sent by the run). A schema failure
names the innermost reason and where it is, not the whole value; bodies and messages are cut short for a one-screen
report. Exit codes: 0 passed, 1 failed, 2 the run could not do its job, 3 inconclusive (some operation could not be
tested; never hides a 1 or a 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes, urlencode, urlsplit, urlunsplit

from . import throttling
from .schema_failures import schema_detail


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
    fingerprint: str = ""  # a server error's body, numbers and ids blanked: two tracebacks are two causes
    inputs: list[str] = field(default_factory=list)  # the distinct requests that showed it (the first `INPUTS`)

    @property
    def key(self) -> tuple[str, str, str, int | None, str, str, str]:
        return (self.operation, self.check, self.title, self.status, self.distinct or self.message,
                self.fingerprint, self.cause)  # fmt: skip

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
    reached: list[str] | None = None  # the selected operations some request went to; None before the run counted
    boundary: tuple[int, int] = (0, 0)  # boundary cases (sent, planned)
    short: str = ""  # why coverage fell under the user's --min-coverage floor: inconclusive

    @property
    def exit_code(self) -> int:
        if self.errors:
            return ERROR
        if self.findings:
            return FAILED
        return INCONCLUSIVE if self.untested or self.short else PASSED

    def add(self, finding: Finding) -> None:
        for known in self.findings:
            if known.key == finding.key:
                _absorb(known, finding, self.credentials)
                return
        self.findings.append(finding)

    def untest(self, operation: str, reason: str) -> None:
        self.untested.setdefault(operation, reason)

    def consolidate(self) -> None:
        """Fold a failure seen with unusual input into the same failure seen with plain input: one cause; and
        findings whose cause was cleared (`blame`) into one."""
        merged: list[Finding] = []
        for finding in sorted(self.findings, key=lambda f: bool(f.cause)):  # plain ones first: they absorb
            same = next((m for m in merged if m.key == finding.key or _plain_of(m, finding)), None)
            if same is None:
                merged.append(finding)
            else:
                _absorb(same, finding, self.credentials, keep_request=bool(finding.cause and not same.cause))
        order = {id(f): i for i, f in enumerate(self.findings)}
        self.findings = sorted(merged, key=lambda f: order[id(f)])

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


def _plain_of(plain: Finding, unusual: Finding) -> bool:
    """Whether `plain` is the same failure seen with plain input as `unusual` with an unusual one."""
    return bool(unusual.cause) and not plain.cause and plain.key[:6] == unusual.key[:6]


INPUTS = 10  # requests a finding lists (its count says how many there were)


def _absorb(known: Finding, other: Finding, credentials: set[str], keep_request: bool = False) -> None:
    known.count += other.count
    for shown in other.inputs:
        if shown not in known.inputs and len(known.inputs) < INPUTS:
            known.inputs.append(shown)
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
        fingerprint=fingerprint(response),
        inputs=[shown_input(request)] if request is not None else [],
    )


def fingerprint(response: Any) -> str:
    """What tells two server errors apart: the body, numbers, hex ids and quoted values blanked, cut short ("" for
    anything below 500: the checker's own message tells those apart)."""
    status = getattr(response, "status_code", None)
    if response is None or status is None or status < 500:
        return ""
    text = response.content[:2000].decode("utf-8", "replace")
    text = re.sub(r"0x[0-9a-fA-F]+|[0-9a-fA-F]{8,}|\d+", "#", text)
    text = (
        re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text) if len(text) > 200 else text
    )  # a traceback's values, not a message
    return " ".join(text.split())[:300]


def shown_input(request: Request) -> str:
    """A request as a finding lists it: method, path and query (credentials are in headers, never here)."""
    parts = urlsplit(request.url)
    return _short(f"{request.method} {parts.path}{'?' + parts.query if parts.query else ''}", 200)


def plain_variant(request: Request) -> Request | None:
    """The request with its most telling unusual value made plain (the path segment or query value "x", the header
    left out, a trailing slash dropped): sent again, it says whether that value is what the server fails on."""
    parts = urlsplit(request.url)
    found = _unusual_values(request)
    if not found:
        return None
    _, _, where, locator = min(found)
    path, query, headers = parts.path, parts.query, dict(request.headers)
    if where == "path" and isinstance(locator, int):
        segments = path.split("/")
        segments[locator] = "x"
        path = "/".join(segments)
    elif where == "slash":
        path = path.rstrip("/")
    elif where.startswith("query"):
        pairs = parse_qsl(query, True)
        query = urlencode([(k, "x" if i == locator else v) for i, (k, v) in enumerate(pairs)])
    else:
        headers = {k: v for k, v in headers.items() if k != locator}
    url = urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))
    return Request(request.method, url, headers, request.body)


def input_cause(request: Request | None) -> str:
    """The most telling unusual thing about a request's path, query or headers ("" when nothing is unusual)."""
    if request is None:
        return ""
    found = _unusual_values(request)
    return min(found)[1] if found else ""


def _unusual_values(request: Request) -> list[tuple[int, str, str, Any]]:
    """(rank, "what in where", where, locator) of each unusual value: a path segment's index, a query pair's index,
    a header's name."""
    parts = urlsplit(request.url)
    segments = parts.path.split("/")
    values: list[tuple[str, str, bytes, Any]] = [("path", s, unquote_to_bytes(s), i) for i, s in enumerate(segments)
                                                 if i]  # fmt: skip
    values += [(f"query {k}", v, v.encode("utf-8", "surrogateescape"), i)
               for i, (k, v) in enumerate(parse_qsl(parts.query, True))]  # fmt: skip
    values += [(f"header {k}", v, v.encode("latin-1", "replace"), k) for k, v in request.headers.items()
               if k.lower() not in _PLAIN_HEADERS]  # fmt: skip
    found = [(rank, f"{name} {where}", where, locator) for where, raw, value, locator in values
             for rank, name in _unusual(raw, value, where)]  # fmt: skip
    if parts.path.endswith("/") and len(segments) > 2:
        found.append((7, "path trailing slash", "slash", None))
    return found


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
        return schema_detail(failure)[1]
    return f"{failure.kind}:{failure.key or failure.message}"


def _message(failure: FailureInfo) -> str:
    if failure.schema:
        return schema_detail(failure)[0]
    return failure.message.strip() or failure.title


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
