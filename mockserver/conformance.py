"""Run Schemathesis' engine against a server and turn what it finds into a `Report`: the core of `check`, `fuzz`
and the pytest contract suite.

Rules: requests go only to `Plan.base_url`, never to the contract's `servers`; the API key travels only in requests
(the report never holds it); a 429 is never a finding and neither is a 401/403 to a request lacking credentials
(one contract warning instead); every run stops by itself: `max_requests`, `duration` and a watchdog that gives
up on a stuck engine a little after the bound. Schemathesis is imported inside functions so `serve` starts fast.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from . import throttling

if TYPE_CHECKING:
    from schemathesis.engine.core import EventStream

SAFE_METHODS = ("get", "head", "options")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "ignored_auth",
)
FUZZ_CHECKS = (*CHECKS, "negative_data_rejection", "missing_required_header", "unsupported_method")
# Findings that come from the transport rather than a Schemathesis check
TRANSPORT_CHECKS = ("response_time", "response_size", "connection")
GRACE = 5.0  # seconds past --duration before the watchdog stops waiting for the engine
LONG = "x" * 5000
NON_ASCII = "ünïcødé-会話-🙂"
PATH_RESERVED = "a?b#c[d]e@f!g$h&i'j(k)l*m+n,o;p=q%r s"  # "/" would route elsewhere, not test this operation
QUERY_RESERVED = PATH_RESERVED + "/t"


class PlanError(Exception):
    """A usage problem found before any request: the CLI exits 2 with `str(exc)`."""


@dataclass
class Plan:
    base_url: str
    api_key: str | None = None
    fuzz: bool = False
    max_examples: int = 20
    seed: int | None = None
    include: list[str] = field(default_factory=list)
    workers: int = 1
    request_timeout: float = 10.0
    rate_limit: float | None = None
    max_requests: int | None = None
    duration: float | None = None
    allow_unsafe_methods: bool = False
    boundary_values: bool = True  # try empty / long / non-ASCII / reserved strings where maxLength is absent


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
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


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


def prepare(document: dict[str, Any], plan: Plan) -> tuple[dict[str, Any], list[str]]:
    """A copy of the contract holding only what this run may send, and the operations it keeps ("GET /path")."""
    document = copy.deepcopy(document)
    # Never let Schemathesis fall back on the contract's servers (here servers[0] is production)
    document.pop("servers", None)
    kept: list[str] = []
    wanted = [item.strip() for item in plan.include if item.strip()]
    matched: set[str] = set()
    for path, item in list((document.get("paths") or {}).items()):
        if not isinstance(item, dict):
            continue
        for method in [m for m in item if m in HTTP_METHODS]:
            operation = item[method] if isinstance(item[method], dict) else {}
            label = f"{method.upper()} {path}"
            names = {label.lower(), path.lower(), str(operation.get("operationId", "")).lower()}
            hits = {want for want in wanted if want.lower() in names}
            matched |= hits
            unsafe = method not in SAFE_METHODS and not plan.allow_unsafe_methods and plan.fuzz
            if (wanted and not hits) or unsafe:
                del item[method]
            else:
                kept.append(label)
    missing = [want for want in wanted if want not in matched]
    if missing:
        raise PlanError(f"--include {missing[0]!r} matches no operation of the contract")
    if not kept:
        raise PlanError("no operation to test (only unsafe methods? see --allow-unsafe-methods)")
    return document, kept


def security_parameters(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(location, name) of every apiKey scheme: where the API key goes."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    found = []
    for scheme in schemes.values():
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("name"):
            found.append((str(scheme.get("in", "header")), str(scheme["name"])))
    return found


def prefixed(base_url: str, document: dict[str, Any]) -> str:
    """BASE_URL plus the path of the contract's first server, unless BASE_URL already carries a path."""
    base = base_url.rstrip("/")
    if urlsplit(base).path not in ("", "/"):
        return base
    servers = document.get("servers") or []
    url = servers[0].get("url") if servers and isinstance(servers[0], dict) else None
    if not isinstance(url, str):
        return base
    for name, var in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((var or {}).get("default", "")))
    return base + urlsplit(url).path.rstrip("/")


def build_config(plan: Plan, base_url: str, document: dict[str, Any]) -> Any:
    from schemathesis.config import SchemathesisConfig

    checks = FUZZ_CHECKS if plan.fuzz else CHECKS
    data: dict[str, Any] = {
        "base-url": base_url,
        "workers": plan.workers,
        "request-timeout": plan.request_timeout,
        "continue-on-failure": True,
        "generation": {
            "max-examples": plan.max_examples,
            "mode": "all" if plan.fuzz else "positive",
            # The example database would replay old failures and make a run depend on earlier ones
            "database": "none",
        },
        "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
        "phases": {
            "stateful": {"enabled": plan.fuzz},
            # Coverage may send methods the contract lacks; on a live server only safe ones
            "coverage": {"unexpected-methods": [] if not plan.fuzz else (["OPTIONS"] if not plan.allow_unsafe_methods else ["OPTIONS", "POST", "PUT", "PATCH", "DELETE"])},
        },
        "cache": {"enabled": False},
        "output": {"sanitization": {"enabled": True}},
        "warnings": False,
    }
    if plan.seed is not None:
        data["seed"] = plan.seed
    if plan.duration is not None:
        data["max-time"] = max(1, int(plan.duration))  # `run` lowers it by the time setup took
    if plan.api_key:
        headers = {name: plan.api_key for where, name in security_parameters(document) if where == "header"}
        if headers:
            data["headers"] = headers
        # Query and cookie keys: Schemathesis' OpenAPI-aware auth puts them where each scheme says
        others = _other_schemes(document)
        if others:
            data["auth"] = {"openapi": {name: {"api_key": plan.api_key} for name in others}}
    return SchemathesisConfig.from_dict(data)


def _other_schemes(document: dict[str, Any]) -> list[str]:
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    return [
        name
        for name, scheme in schemes.items()
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("in") in ("query", "cookie")
    ]


class _Run:
    """State the engine's threads share with the report while a run goes on."""

    def __init__(self, plan: Plan, report: Report, security: list[tuple[str, str]]) -> None:
        self.plan = plan
        self.report = report
        self.security = security
        self.lock = threading.Lock()
        self.stop_event: threading.Event | None = None
        self.stopped: Callable[[], bool] = lambda: False

    def lacks_credentials(self, request: Any) -> bool:
        if not self.plan.api_key:
            return True
        headers = request.headers if request is not None else {}
        url = str(getattr(request, "url", "") or "")
        for where, name in self.security:
            if where == "header" and headers.get(name) == self.plan.api_key:
                return False
            if where in ("query", "cookie") and self.plan.api_key in (url + str(headers.get("Cookie", ""))):
                return False
        return True

    def keep_failure(self, context: Any, failure: Any, case: Any, response: Any) -> bool:
        # `filter_failure` hook: what a contract check must not count against the server
        from schemathesis.openapi.checks import UndefinedStatusCode

        status = response.status_code
        if status == 429:
            return False
        if status in (401, 403) and isinstance(failure, UndefinedStatusCode) and self.lacks_credentials(response.request):
            with self.lock:
                self.report.warn(
                    f"contract: {case.operation.label} answers {status} to requests without valid credentials, "
                    f"but the contract documents no {status} response"
                )
            return False
        return True

    def add_boundary_cases(self, context: Any, examples: list[Any]) -> None:
        # `before_add_examples` hook: strings a real backend chokes on, where the contract sets no maxLength
        operation = context.operation
        if operation is None:
            return
        base = examples[0] if examples else _first_case(operation)
        if base is None:
            return
        for location, name in _plain_string_parameters(operation):
            values = [LONG, NON_ASCII, PATH_RESERVED if location == "path" else QUERY_RESERVED]
            if location != "path":
                values.insert(0, "")
            if location == "header":
                values = ["", LONG]  # headers carry ASCII only; the rest is negative data, for fuzz
            for value in values:
                examples.append(_with_value(operation, base, location, name, value))


def _first_case(operation: Any) -> Any:
    from hypothesis import HealthCheck, Phase, find, settings

    try:
        return find(
            operation.as_strategy(),
            lambda _: True,
            # Any valid case will do: no shrinking, no explaining (they cost most of a second)
            settings=settings(
                database=None, max_examples=1, phases=[Phase.generate], derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except Exception:  # an operation Schemathesis cannot generate for is reported by the engine itself
        return None


def _plain_string_parameters(operation: Any) -> list[tuple[str, str]]:
    found = []
    for parameter in operation.iter_parameters():
        definition = parameter.definition if hasattr(parameter, "definition") else {}
        schema = definition.get("schema", {}) if isinstance(definition, dict) else {}
        location = str(getattr(parameter.location, "value", parameter.location))
        if not isinstance(schema, dict) or schema.get("type") != "string" or location == "cookie":
            continue
        if any(key in schema for key in ("maxLength", "enum", "const", "pattern", "format")):
            continue
        found.append((location, parameter.name))
    return found


def _with_value(operation: Any, base: Any, location: str, name: str, value: str) -> Any:
    parts = {
        "path": dict(base.path_parameters or {}),
        "query": dict(base.query or {}),
        "header": dict(base.headers or {}),
    }
    # Explicit cases go out as given: a path value must be encoded here
    parts[location][name] = quote(value, safe="") if location == "path" else value
    kwargs: dict[str, Any] = {
        "path_parameters": parts["path"],
        "query": parts["query"] or None,
        "headers": parts["header"] or None,
        "cookies": dict(base.cookies) if base.cookies else None,
        "media_type": base.media_type,
    }
    from schemathesis.core import NOT_SET

    if base.body is not NOT_SET:
        kwargs["body"] = base.body
    return operation.Case(**kwargs)


def load_schema(document: dict[str, Any], config: Any, run: _Run) -> Any:
    import schemathesis

    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.hooks.register_hook_with_name(run.keep_failure, "filter_failure")
    if run.plan.boundary_values:
        schema.hooks.register_hook_with_name(run.add_boundary_cases, "before_add_examples")
    return schema


def _engine(schema: Any, make_session: Callable[[Any], Any]) -> EventStream:
    """Schemathesis' `Engine.execute()`, with our guarded session in every worker thread."""
    from schemathesis.config import InferenceAlgorithm
    from schemathesis.engine.context import EngineContext
    from schemathesis.engine.core import Engine, EventStream
    from schemathesis.engine.observations import Observations
    from schemathesis.engine.run import PhaseName, PhaseSkipReason

    class Context(EngineContext):
        def get_session(self, *, operation: Any = None) -> Any:
            session = super().get_session(operation=operation)
            if not getattr(session, "_mockserver_guarded", False):
                make_session(session)
                session._mockserver_guarded = True  # type: ignore[attr-defined]
            return session

    engine = Engine(schema=schema)
    plan = engine._create_execution_plan()
    observations = None
    for phase in plan.phases:
        if (
            phase.name == PhaseName.STATEFUL_TESTING
            and phase.skip_reason in (None, PhaseSkipReason.NOT_APPLICABLE)
            and schema.config.phases.stateful.inference.is_algorithm_enabled(InferenceAlgorithm.LOCATION_HEADERS)
        ):
            observations = Observations()
    ctx = Context(
        schema=schema, stop_event=threading.Event(), observations=observations, max_time=schema.config.max_time
    )
    return EventStream(plan.execute(ctx), ctx.control.stop_event)


def run(
    plan: Plan,
    document: dict[str, Any],
    on_progress: Callable[[Progress], None] | None = None,
) -> Report:
    """Check the server at `plan.base_url` against `document` (an OpenAPI dict, e.g. `Spec.document`)."""
    started = time.monotonic()
    base_url = prefixed(plan.base_url, document)
    report = Report(base_url=base_url, seed=plan.seed)
    try:
        prepared, report.operations = prepare(document, plan)
    except PlanError as exc:
        report.errors.append(str(exc))
        return report
    security = security_parameters(document)
    state = _Run(plan, report, security)
    counters = throttling.Counters()
    deadline = started + plan.duration if plan.duration is not None else None
    stop_event = threading.Event()
    limits = throttling.Limits(
        rate=plan.rate_limit,
        timeout=plan.request_timeout,
        max_requests=plan.max_requests,
        deadline=deadline,
        stopped=stop_event.is_set,
    )
    pacer = throttling.Pacer(plan.rate_limit)

    def finish() -> Report:
        report.requests = counters.sent
        report.rate_limited = counters.rate_limited
        report.seconds = time.monotonic() - started
        if report.rate_limited:
            report.warn(f"server rate-limited {report.rate_limited} request(s) with 429; waited as Retry-After said")
        return report

    unreachable = _reachable(base_url, plan, throttling.make_session(limits, counters, pacer))
    if unreachable:
        report.errors.append(unreachable)
        return finish()
    if not plan.api_key and any(_requires_auth(document).values()):
        report.warn("no API key given (--api-key or MOCKSERVER_API_KEY): operations that need one were only "
                    "checked for rejecting requests without it")
    try:
        config = build_config(plan, base_url, document)
        schema = load_schema(prepared, config, state)
    except Exception as exc:  # a contract Schemathesis cannot load is a broken contract: exit 2
        report.errors.append(f"contract: {_one_line(exc)}")
        return finish()

    def guard(session: Any) -> None:
        throttling.make_session(limits, counters, pacer, base=session)

    state.stopped = lambda: stop_event.is_set()
    _probe_auth(schema, plan, base_url, throttling.make_session(limits, counters, pacer), state)
    if deadline is not None:
        schema.config.max_time = max(1, int(deadline - time.monotonic()))
    stream = _engine(schema, guard)
    limits.stopped = lambda: stop_event.is_set() or stream.stop_event.is_set()
    limits.on_budget_spent = lambda: _stop(stream, report, f"--max-requests {plan.max_requests} reached")
    _pump(stream, plan, state, counters, started, on_progress)
    return finish()


def _pump(
    stream: EventStream,
    plan: Plan,
    state: _Run,
    counters: throttling.Counters,
    started: float,
    on_progress: Callable[[Progress], None] | None,
) -> None:
    """Drive the engine on a daemon thread and collect its events here, so a stuck request or Ctrl-C can't hang us."""
    events: queue.Queue[Any] = queue.Queue()
    done = object()

    def drive() -> None:
        try:
            for event in stream:
                events.put(event)
        except BaseException as exc:  # reported, never swallowed silently
            events.put(exc)
        events.put(done)

    worker = threading.Thread(target=drive, name="mockserver-engine", daemon=True)
    worker.start()
    report = state.report
    phase = ""
    soft = started + plan.duration if plan.duration is not None else None
    hard: float | None = soft + GRACE + plan.request_timeout if soft is not None else None
    while True:
        try:
            try:
                event = events.get(timeout=0.2)
            except queue.Empty:
                event = None
            now = time.monotonic()
            if soft is not None and now >= soft and not stream.stop_event.is_set():
                _stop(stream, report, "")  # --duration spent: a planned end, not an interruption
            if hard is not None and now >= hard:
                report.stopped = report.stopped or "the server stopped answering; gave up waiting for it"
                return
            if event is done:
                return
            if isinstance(event, BaseException):
                report.errors.append(f"internal error: {_one_line(event)}")
                continue
            if event is not None:
                phase = _collect(event, state, phase) or phase
            if on_progress is not None:
                on_progress(Progress(phase, counters.sent, len(report.findings), now - started))
        except KeyboardInterrupt:
            _stop(stream, report, "interrupted (Ctrl-C)")
            hard = time.monotonic() + GRACE  # print what we have even if a request is stuck


def _stop(stream: EventStream, report: Report, reason: str) -> None:
    if reason and not report.stopped:
        report.stopped = reason
    stream.stop()


def _collect(event: Any, state: _Run, phase: str) -> str | None:
    from schemathesis.engine import events

    report = state.report
    if isinstance(event, events.PhaseStarted):
        return str(event.phase.name.value)
    if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
        _collect_scenario(event.recorder, report)
    elif isinstance(event, events.NonFatalError):
        _collect_error(event, report)
    elif isinstance(event, events.FatalError):
        report.errors.append(f"internal error: {_one_line(event.exception)}")
    elif isinstance(event, events.EngineFinished):
        if event.stop_reason == "server_unavailable":
            report.stopped = report.stopped or "the server stopped responding"
            report.add(Finding(operation="(run)", check="connection", title="Server stopped responding",
                               message="requests kept failing or timing out; Schemathesis stopped the run"))
        for failure in event.failures:
            report.add(Finding(operation=failure.operation or "(run)", check=_check_name(failure), title=failure.title,
                               message=failure.message))
    return None


def _collect_scenario(recorder: Any, report: Report) -> None:
    failing = False
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            info = node.failure_info
            if info is None:
                continue
            failing = True
            failure = info.failure
            interaction = recorder.interactions.get(case_id)
            report.add(
                Finding(
                    operation=failure.operation or recorder.label,
                    check=node.name,
                    title=failure.title,
                    message=_message(failure),
                    distinct=_distinct(failure),
                    received=_received(interaction.response if interaction is not None else None),
                    request=_request(interaction.request) if interaction is not None else None,
                )
            )
    if failing:
        report.recorders.append(recorder)


def _collect_error(event: Any, report: Report) -> None:
    import requests

    error = event.value
    label = event.label or "run"
    if isinstance(error, throttling.BudgetSpent):
        return
    if isinstance(error, requests.RequestException):
        report.add(_transport_finding(label, error))
        return
    text = f"{label}: {event.info.title}: {_one_line(event.info.message)}"
    if event.related_to_operation:
        report.warn(text)
    else:
        report.errors.append(text)


def _transport_finding(label: str, error: Exception) -> Finding:
    import requests

    request = getattr(error, "request", None)
    sent = _request(request) if isinstance(request, requests.PreparedRequest) else None
    if isinstance(error, throttling.BodyTooLarge):
        check, title = "response_size", "Response body too large"
    elif isinstance(error, requests.Timeout):
        check, title = "response_time", "No complete answer within --request-timeout"
    else:
        check, title = "connection", "Connection failed or was reset"
    return Finding(operation=label, check=check, title=title, message=_one_line(error), request=sent)


def _distinct(failure: Any) -> str:
    from schemathesis.openapi.checks import JsonSchemaError

    if type(failure).__name__ == "IgnoredAuth":
        return "IgnoredAuth"  # one verdict per operation, however many requests showed it
    if isinstance(failure, JsonSchemaError):
        # The same broken field in a hundred bodies is one failure: where it is and which keyword, not the value
        return _schema_detail(failure)[1]
    return f"{type(failure).__name__}:{getattr(failure, '_unique_key', '') or failure.message}"


def _message(failure: Any) -> str:
    from schemathesis.openapi.checks import JsonSchemaError

    if isinstance(failure, JsonSchemaError):
        return _schema_detail(failure)[0]
    return str(failure.message).strip() or failure.title


def _schema_detail(failure: Any) -> tuple[str, str]:
    """The innermost reason a body fails its schema (`anyOf [Thing, null]` alone says only "not valid"), and a key
    naming where it failed."""
    root = getattr(failure, "_root_schema", None)
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
    import jsonschema_rs

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
    import json

    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= 60:
        return text
    if isinstance(value, list):
        return f"an array of {len(value)} item(s)"
    if isinstance(value, dict):
        return f"an object with {len(value)} propert{'y' if len(value) == 1 else 'ies'}"
    return text[:57] + "…"


def _received(response: Any) -> str:
    if response is None:
        return ""
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type") or "(none)"
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    body = response.content[:300].decode("utf-8", "replace")
    more = "…" if len(response.content) > 300 else ""
    return f"{response.status_code} {content_type}: {body}{more}" if body else f"{response.status_code} {content_type}"


def _request(request: Any) -> Request | None:
    if request is None:
        return None
    headers = {k: (v[0] if isinstance(v, list) else v) for k, v in dict(request.headers).items()}
    body = request.body.encode() if isinstance(request.body, str) else request.body
    return Request(method=str(request.method), url=str(getattr(request, "uri", None) or request.url), headers=headers,
                   body=body)


def _check_name(failure: Any) -> str:
    names = getattr(failure, "checks", None) or ()
    return names[0] if names else type(failure).__name__


def _requires_auth(document: dict[str, Any]) -> dict[str, bool]:
    """Operation label -> whether its security requirements need credentials."""
    found = {}
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items() if isinstance(item, dict) else ():
            if method in HTTP_METHODS and isinstance(operation, dict):
                security = operation.get("security", document.get("security")) or []
                # An empty requirement `{}` among the alternatives makes credentials optional
                found[f"{method.upper()} {path}"] = bool(security) and all(bool(item) for item in security)
    return found


def _probe_auth(schema: Any, plan: Plan, base_url: str, session: Any, state: _Run) -> None:
    """One valid request per protected operation, without credentials: it must get 401/403, and never data."""
    import requests

    report = state.report
    protected = _requires_auth(schema.raw_schema)
    for result in schema.get_all_operations():
        operation = result.ok()
        if not protected.get(operation.label) or state.stopped():
            continue
        case = _first_case(operation)
        if case is None:
            continue
        kwargs = case.as_transport_kwargs(base_url=base_url)
        names = {name.lower() for _, name in state.security}
        kwargs["headers"] = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in names}
        if isinstance(kwargs.get("params"), dict):
            kwargs["params"] = {k: v for k, v in kwargs["params"].items() if k.lower() not in names}
        kwargs.pop("cookies", None)
        try:
            response = session.request(**kwargs, timeout=plan.request_timeout, allow_redirects=False)
        except throttling.BudgetSpent:
            return
        except requests.RequestException as exc:
            report.add(_transport_finding(operation.label, exc))
            continue
        status = response.status_code
        documented = operation.responses.find_by_status_code(status) is not None
        sent = _request(response.request)
        if 200 <= status < 300:
            report.add(Finding(operation.label, "ignored_auth", "API accepts requests without authentication",
                               f"Expected 401 or 403, got {status} for a request without credentials",
                               distinct="IgnoredAuth", received=_received(response), request=sent))
        elif status in (401, 403) and not documented:
            report.warn(f"contract: {operation.label} answers {status} to requests without valid credentials, "
                        f"but the contract documents no {status} response")
        elif status >= 500:
            report.add(Finding(operation.label, "not_a_server_error", "Server error",
                               f"Received {status} for a request without credentials", received=_received(response),
                               request=sent))


def _reachable(base_url: str, plan: Plan, session: Any) -> str:
    """"" when anything answers at BASE_URL, else why not."""
    import requests

    try:
        session.get(base_url, timeout=min(plan.request_timeout, 10.0), allow_redirects=False)
    except requests.RequestException as exc:
        return f"cannot reach {base_url}: {_one_line(exc)}"
    finally:
        session.close()
    return ""


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(value: object) -> str:
    return _short(str(value), 400)
