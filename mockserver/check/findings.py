"""What a check or fuzz run yields: `Finding`s gathered in a `Report`, and how a failure (as `FailureInfo`, plain
data from engine.py), a transport error or a response becomes a finding.

Rules: one finding per distinct failure (`Finding.key`), counted, never listed twice; a schema failure names the
innermost reason and where it is, not the whole value; bodies and messages are cut short for a one-screen report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

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

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.operation, self.check, self.title, self.distinct or self.message)


@dataclass
class Report:
    base_url: str
    operations: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the run could not do its job: exit 2
    requests: int = 0
    rate_limited: int = 0
    seconds: float = 0.0
    stopped: str = ""  # why the run ended early, "" when it completed
    seed: int | None = None
    recorders: list[Any] = field(default_factory=list, repr=False)  # failing scenarios, for cassettes

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if self.findings else 0

    def add(self, finding: Finding) -> None:
        for known in self.findings:
            if known.key == finding.key:
                known.count += 1
                return
        self.findings.append(finding)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


@dataclass
class Progress:
    """What a progress display shows; `phase` is "" once the run is over."""

    phase: str
    requests: int
    findings: int
    seconds: float


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
    )


def from_transport_error(label: str, error: Exception) -> Finding:
    import requests

    request = getattr(error, "request", None)
    sent = as_request(request) if isinstance(request, requests.PreparedRequest) else None
    if isinstance(error, throttling.BodyTooLarge):
        check, title = "response_size", "Response body too large"
    elif isinstance(error, requests.Timeout):
        check, title = "response_time", "No complete answer within --request-timeout"
    else:
        check, title = "connection", "Connection failed or was reset"
    return Finding(operation=label, check=check, title=title, message=one_line(error), request=sent)


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
        return f"an array of {len(value)} item(s)"
    if isinstance(value, dict):
        return f"an object with {len(value)} propert{'y' if len(value) == 1 else 'ies'}"
    return text[:57] + "…"


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
