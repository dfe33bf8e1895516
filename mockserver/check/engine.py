"""Schemathesis, as the rest of `check/` sees it: the only module that imports it or touches a private name of it
(or of `requests`). Loading a contract, its configuration, cases, failures, the engine on a daemon thread and the
VCR writer all go through here; everything else works on plain data (`findings.FailureInfo`, dicts, strings).

Rules: Schemathesis is imported inside functions, so `mockserver serve` starts fast. The caller's thread only waits
on a queue, so a stuck request or Ctrl-C can never hang it; `--duration` stops the engine when spent, and a watchdog
gives up on the engine `GRACE` seconds plus one request timeout after that; an interrupted run still returns the
report it has. Hypothesis keeps its files in a cache folder, never in the current directory. Progress names a phase
only once it sends a request. `tests/check/test_engine.py` fails loudly when a private name used here disappears.
Python 3.10 gets Schemathesis 4.30 (4.31+ needs 3.11): what it does differently is handled here and nowhere else,
behind the capability flags below, which the canary checks against the installed release and tests read.
"""

from __future__ import annotations

import io
import os
import queue
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import throttling
from .findings import (
    FailureInfo,
    Finding,
    Progress,
    Report,
    Request,
    as_request,
    from_failure,
    from_transport_error,
    one_line,
)

if TYPE_CHECKING:
    import requests
    from schemathesis.engine.core import EventStream

GRACE = 5.0  # seconds past --duration before the watchdog stops waiting for the engine
# Private names this module relies on, checked by the canary test: (importable object path, attribute)
PRIVATE = (
    ("schemathesis.engine.core.Engine", "_create_execution_plan"),
    ("schemathesis.generation.case.Case", "_has_explicit_auth"),
    ("schemathesis.core.failures.Failure", "_unique_key"),
    ("requests.models.Response", "_content"),
    ("requests.models.Response", "_content_consumed"),
    ("schemathesis.specs.openapi.checks", "_raise_no_auth_error"),  # its wording, in WORDING
)
# Private names used when present: without them findings say less, nothing breaks (the 3.10 release lacks these)
OPTIONAL = (("schemathesis.openapi.checks.JsonSchemaError", "_root_schema"),)


def _release() -> tuple[int, int]:
    """The installed Schemathesis' (major, minor), from its metadata: no import, so `mockserver serve` never pays."""
    found = re.match(r"(\d+)\.(\d+)", version("schemathesis"))
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


RELEASE = _release()
# What the installed release does that 4.30, the last release for Python 3.10, does not. On 4.30 this module makes up
# for each where it can (see the function named); tests assert what the flag says, and the canary checks each flag
# against the release.
KEEPS_ROOT_SCHEMA = RELEASE >= (4, 32)  # a schema failure keeps the whole response schema: `failure_info`
RECORDS_STARTING_STATE = RELEASE >= (4, 32)  # "missing header" cases stay negative: `_keep_starting_state`
ESCAPES_VCR_QUOTES = RELEASE >= (4, 32)  # the cassette's single-quoted YAML doubles quotes: `write_vcr`
QUICK_TARGET_PHASE = RELEASE >= (4, 32)  # fuzzing's Hypothesis target phase ends at once: `_skip_target_phase`
# (flag, importable object path, attribute that comes with the capability); None where only behaviour tells
CAPABILITIES = (
    ("KEEPS_ROOT_SCHEMA", "schemathesis.openapi.checks.JsonSchemaError", "_root_schema"),
    ("RECORDS_STARTING_STATE", "schemathesis.generation.case.Case", "_record_starting_state"),
    ("ESCAPES_VCR_QUOTES", "schemathesis.reporting.vcr", "_escape_single_quoted"),
    ("QUICK_TARGET_PHASE", None, None),
)
# Private names used only without RECORDS_STARTING_STATE, by its stand-in (the canary checks them there)
STARTING_STATE_PRIVATE = (
    ("schemathesis.generation.case.Case", "_meta"),
    ("schemathesis.generation.case.Case", "_hash_container"),
    ("schemathesis.generation.meta.CaseMetadata", "_dirty"),
)
# Wording of the checker that a rule here reads: (importable object path, text it must contain)
WORDING = (("schemathesis.specs.openapi.checks._raise_no_auth_error", '"API accepts requests without authentication"'),)


def keep_storage_out_of_cwd() -> None:
    """Point Hypothesis' files (`.hypothesis/`: unicode tables, constants) at a cache folder instead of the current
    directory, unless the user chose a place (HYPOTHESIS_STORAGE_DIRECTORY)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    set_hypothesis_home_dir(cache_dir("hypothesis"))


def cache_dir(name: str) -> Path:
    """$XDG_CACHE_HOME/mockserver/NAME (~/.cache by default), or a folder of our own under the temp dir."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mockserver" / name
    try:
        base.mkdir(parents=True, exist_ok=True)
        if os.access(base, os.W_OK):
            return base
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"mockserver-{os.getuid() if hasattr(os, 'getuid') else 'user'}" / name
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


# --- contract and configuration -----------------------------------------------------------------------------------


def configure(data: dict[str, Any]) -> Any:
    """A Schemathesis configuration from the dict form of its `schemathesis.toml`."""
    from schemathesis.config import SchemathesisConfig

    return SchemathesisConfig.from_dict(data)


def load(document: dict[str, Any], config: Any, hooks: dict[str, Callable[..., Any]]) -> Any:
    """The contract as a Schemathesis schema, with our hooks by Schemathesis hook name (see rules.py)."""
    import schemathesis

    schema = schemathesis.openapi.from_dict(document, config=config)
    for name, hook in hooks.items():
        schema.hooks.register_hook_with_name(hook, name)
    if not RECORDS_STARTING_STATE:
        schema.hooks.register_hook_with_name(_keep_starting_state, "map_case")
    if not QUICK_TARGET_PHASE:
        _skip_target_phase(schema.config)
    return schema


def _skip_target_phase(config: Any) -> None:
    """Fuzz without Hypothesis' target phase on 4.30, where it climbs Schemathesis' success-rate target with draws
    that never become a request: a default fuzz of the built-in contract sent 249 requests in 70 s, 95% of that time
    in this phase (~27,000 draws), and sends 600 in 7 s without it (4.32: 600 in 3.4 s). On 4.32 leaving it out
    changes nothing: the same requests in the same order. Only this run's configuration object changes."""
    import hypothesis

    settings_for = config.get_hypothesis_settings

    def without_target(**kwargs: Any) -> Any:
        settings = settings_for(**kwargs)
        if kwargs.get("phase") != "fuzzing":
            return settings
        return hypothesis.settings(settings, phases=[p for p in settings.phases if p is not hypothesis.Phase.target])

    config.get_hypothesis_settings = without_target


def _keep_starting_state(context: Any, case: Any) -> Any:
    """`map_case` hook standing in for `Case._record_starting_state` (4.32) on 4.30. The coverage phase writes the
    configured headers into each case it generates, the key's header too; on 4.30 the case's next look at its own
    labels then took "missing `X-Session-API-Key` header" for a valid case, the key went out, and
    `missing_required_header` counted the 200 against the server. Taking the case as it is now for its starting state
    keeps it negative, so the header is left out on sending, as on 4.32. Map hooks run right after those writes."""
    meta = case._meta
    if meta is None or meta.phase.name != "coverage":  # a str enum
        return case
    for location in meta.components:
        meta.update_validated_hash(location, case._hash_container(case.get_container(location)))
    for location in list(meta._dirty):
        meta.clear_dirty(location)
    return case


def load_for_replay(document: dict[str, Any], base_url: str) -> Any:
    """The contract as a schema whose checks can judge answers to replayed requests."""
    import copy

    import schemathesis

    trimmed = copy.deepcopy(document)
    trimmed.pop("servers", None)
    config = configure({"base-url": base_url, "warnings": False, "output": {"sanitization": {"enabled": True}}})
    return schemathesis.openapi.from_dict(trimmed, config=config)


def recheck(schema: Any, request: Request, names: list[str], response: requests.Response) -> list[str]:
    """Which of the checks `names` fail on `response` to `request` (one of the contract's operations). Of the
    templates the path matches, the most literal one is its operation (`/pets/mine` before `/pets/{id}`)."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.core.failures import Failure, FailureGroup

    load_all_checks()
    parts = urlsplit(request.url)
    prefix = urlsplit(str(schema.config.base_url or "")).path.rstrip("/")
    path = parts.path[len(prefix) :] if prefix and parts.path.startswith(prefix) else parts.path
    found = None
    for operation in operations(schema):
        if operation.method.upper() != request.method.upper():
            continue
        names_in_path = re.findall(r"{([^}]+)}", operation.path)
        pattern = re.escape(operation.path)
        for index, name in enumerate(names_in_path):
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<p{index}>[^/]*)", 1)
        match = re.fullmatch(pattern, path)
        if match and (found is None or _literal(operation.path) > _literal(found[0].path)):
            found = (operation, {name: unquote(match.group(f"p{i}")) for i, name in enumerate(names_in_path)})
    if found is None:
        # Without the operation only a server error can be judged
        return ["not_a_server_error"] if "not_a_server_error" in names and response.status_code >= 500 else []
    operation, path_parameters = found
    case = operation.Case(path_parameters=path_parameters, query=dict(parse_qsl(parts.query, True)) or None,
                          headers=dict(request.headers) or None)  # fmt: skip
    failing = []
    for name in names:
        if name not in CHECKS.get_all_names():
            continue
        try:
            case.validate_response(response, checks=CHECKS.get_by_names([name]))
        except (Failure, FailureGroup, AssertionError):
            failing.append(name)
    return failing


def _literal(template: str) -> int:
    """How much of a path template is literal text: OpenAPI matches concrete paths before templated ones."""
    return len(re.sub(r"{[^}]+}", "", template))


def set_max_time(schema: Any, seconds: int) -> None:
    schema.config.max_time = seconds


def operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


def label(operation: Any) -> str:
    return str(operation.label)


def documents_status(operation: Any, status: int) -> bool:
    return operation.responses.find_by_status_code(status) is not None


def path_template(operation: Any) -> str:
    return str(operation.path)


# --- cases --------------------------------------------------------------------------------------------------------


def first_case(operation: Any, credentials: set[str]) -> Any:
    """Any valid case of an operation, fast (no shrinking, no explaining); None when none can be generated.
    Parameters named in `credentials` (lower case) are left for the configured auth to fill."""
    from hypothesis import HealthCheck, Phase, find, settings

    plain = _plain_case(operation, credentials)
    if plain is not None:
        return plain
    try:
        return find(
            operation.as_strategy(),
            lambda _: True,
            settings=settings(
                database=None,
                max_examples=1,
                phases=[Phase.generate],
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),  # fmt: skip
        )
    except Exception:  # an operation Schemathesis cannot generate for is reported by the engine itself
        return None


def _plain_case(operation: Any, credentials: set[str]) -> Any:
    """A case with "x" (or the first enum value) for each required parameter, when that is valid and no body is
    needed: generating one costs ~0.2 s on a cold strategy, a tenth of a short run."""
    values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}, "cookie": {}}
    if len(operation.body):
        return None
    for parameter in operation.iter_parameters():
        location = str(getattr(parameter.location, "value", parameter.location))
        if parameter.name.lower() in credentials:
            if location != "header":
                return None  # a key in the query or a cookie is filled in at generation: let the strategy do it
            continue  # a header key is sent by the session
        if not parameter.is_required:
            continue
        schema = parameter.definition.get("schema", {}) if isinstance(parameter.definition, dict) else {}
        candidate = schema.get("enum", ["x"])[0] if isinstance(schema, dict) and schema.get("enum") else "x"
        if location not in values or not isinstance(candidate, str) or not parameter.is_valid(candidate):
            return None
        values[location][parameter.name] = candidate
    return operation.Case(path_parameters=values["path"], query=values["query"] or None,
                          headers=values["header"] or None, cookies=values["cookie"] or None)  # fmt: skip


def parameters(operation: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(location, name, schema) of each parameter of an operation."""
    found = []
    for parameter in operation.iter_parameters():
        definition = parameter.definition if hasattr(parameter, "definition") else {}
        schema = definition.get("schema", {}) if isinstance(definition, dict) else {}
        location = str(getattr(parameter.location, "value", parameter.location))
        found.append((location, str(parameter.name), schema if isinstance(schema, dict) else {}))
    return found


def case_with(operation: Any, base: Any, location: str, name: str, value: str) -> Any:
    """A copy of case `base` whose parameter `name` in `location` is `value` (a path value already encoded)."""
    from schemathesis.core import NOT_SET

    parts = {
        "path": dict(base.path_parameters or {}),
        "query": dict(base.query or {}),
        "header": dict(base.headers or {}),
    }
    parts[location][name] = value
    kwargs: dict[str, Any] = {
        "path_parameters": parts["path"],
        "query": parts["query"] or None,
        "headers": parts["header"] or None,
        "cookies": dict(base.cookies) if base.cookies else None,
        "media_type": base.media_type,
    }
    if base.body is not NOT_SET:
        kwargs["body"] = base.body
    case = operation.Case(**kwargs)
    # Configured credentials came along with the copied parts: say so, or `ignored_auth` takes them for generated ones
    case._has_explicit_auth = base._has_explicit_auth
    return case


def path_values(case: Any) -> list[str]:
    return [str(value) for value in (getattr(case, "path_parameters", None) or {}).values()]


def request_kwargs(case: Any, base_url: str) -> dict[str, Any]:
    """What `requests.Session.request` takes to send a case."""
    return dict(case.as_transport_kwargs(base_url=base_url))


def case_operation_label(case: Any) -> str:
    return str(case.operation.label)


# --- failures -----------------------------------------------------------------------------------------------------


def is_undefined_status(failure: Any) -> bool:
    from schemathesis.openapi.checks import UndefinedStatusCode

    return isinstance(failure, UndefinedStatusCode)


def is_unanswered_auth_probe(failure: Any) -> bool:
    """An `ignored_auth` failure whose request without (or with wrong) credentials got no 2xx. The checker sends
    that request on a session of its own, which our throttling does not see; its titles say whether data came back
    ("API accepts ...") or anything else ("Unexpected response ...")."""
    from schemathesis.openapi.checks import IgnoredAuth

    return isinstance(failure, IgnoredAuth) and not str(failure.title).startswith("API accepts")


def failure_info(failure: Any) -> FailureInfo:
    """A Schemathesis failure as plain data."""
    from schemathesis.openapi.checks import JsonSchemaError

    info = FailureInfo(
        kind=type(failure).__name__,
        title=str(failure.title),
        message=str(failure.message),
        operation=str(failure.operation or ""),
        key=str(getattr(failure, "_unique_key", "") or ""),
    )
    if isinstance(failure, JsonSchemaError):
        info.schema = True
        info.instance_path = list(failure.instance_path)
        info.schema_path = list(failure.schema_path)
        info.instance = failure.instance
        info.validation_message = str(failure.validation_message or failure.message)
        root = getattr(failure, "_root_schema", None)
        if root is None and len(info.schema_path) == 1:
            # Without the root schema (4.30), a failure at the root still holds it as the failing keyword's schema
            # (FastAPI's `anyOf [Model, null]`), its references rewritten to point inside it
            root = failure.schema
        info.root_schema = root if isinstance(root, dict) else None
    return info


def adopt_body(response: requests.Response, content: bytes) -> None:
    """Hand a body we read ourselves (bounded in size and time) to `requests`, as if it had read it."""
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]


# --- running ------------------------------------------------------------------------------------------------------


def start(schema: Any, make_session: Callable[[Any], Any]) -> EventStream:
    """Schemathesis' `Engine.execute()`, with our guarded session in every worker thread."""
    from schemathesis.config import InferenceAlgorithm
    from schemathesis.engine.context import EngineContext
    from schemathesis.engine.core import Engine, EventStream
    from schemathesis.engine.observations import Observations
    from schemathesis.engine.run import PhaseName, PhaseSkipReason

    class Context(EngineContext):
        def get_session(self, *, operation: Any = None) -> Any:
            session = super().get_session(operation=operation)
            if not getattr(session, "mockserver_guarded", False):
                make_session(session)
                session.mockserver_guarded = True  # type: ignore[attr-defined]
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


def pump(
    stream: EventStream,
    report: Report,
    sent: Callable[[], int],
    started: float,
    duration: float | None,
    request_timeout: float,
    on_progress: Callable[[Progress], None] | None,
    quiet: tuple[type[BaseException], ...] = (),
) -> None:
    """Drive the engine on a daemon thread and collect its events here, so a stuck request or Ctrl-C can't hang us.
    `sent()` counts requests so far; errors of the `quiet` types (our own budget stops) are not reported."""
    events: queue.Queue[Any] = queue.Queue()
    done = object()

    def drive() -> None:
        try:
            for event in stream:
                events.put((event, sent()))  # with the requests sent by then: a phase starts before its first one
        except BaseException as exc:  # reported, never swallowed silently
            events.put((exc, sent()))
        events.put((done, sent()))

    worker = threading.Thread(target=drive, name="mockserver-engine", daemon=True)
    worker.start()
    phase = ""
    pending, pending_from = "", 0  # a phase that started, shown once it sends a request (many send none)
    soft = started + duration if duration is not None else None
    hard: float | None = soft + GRACE + request_timeout if soft is not None else None
    while True:
        try:
            try:
                event, at = events.get(timeout=0.2)  # `at`: requests sent when the engine gave the event
            except queue.Empty:
                event, at = None, 0
            now = time.monotonic()
            if soft is not None and now >= soft and not stream.stop_event.is_set():
                stop(stream, report, "")  # --duration spent: a planned end, not an interruption
            if hard is not None and now >= hard:
                report.stopped = report.stopped or "the server stopped answering; gave up waiting for it"
                return
            if isinstance(event, BaseException):
                report.errors.append(f"internal error: {one_line(event)}")
                continue
            started_phase = _collect(event, report, quiet) if event is not None and event is not done else None
            # A phase is named once a request of its own went out. A phase starts before its first request, so
            # requests counted by an event's time, or before the queue is seen empty, belong to phases already read
            if pending and (at if event is not None else sent() if events.empty() else 0) > pending_from:
                phase, pending = pending, ""
            if started_phase:
                pending, pending_from = started_phase, at
            if on_progress is not None:
                on_progress(Progress(phase, sent(), len(report.findings), now - started))
            if event is done:
                return
        except KeyboardInterrupt:
            stop(stream, report, "interrupted (Ctrl-C)")
            hard = time.monotonic() + GRACE  # print what we have even if a request is stuck


def stop(stream: EventStream, report: Report, reason: str) -> None:
    if reason and not report.stopped:
        report.stopped = reason
    stream.stop()


def is_stopped(stream: EventStream) -> bool:
    return bool(stream.stop_event.is_set())


def _collect(event: Any, report: Report, quiet: tuple[type[BaseException], ...]) -> str | None:
    """Add what an engine event found to the report; the name of the phase it starts, if it starts one."""
    from schemathesis.engine import events

    if isinstance(event, events.PhaseStarted):
        # Every phase "starts", even one that is disabled or has nothing to do; progress names only those that run
        return str(event.phase.name.value) if event.phase.is_enabled else None
    if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
        _collect_scenario(event.recorder, report)
    elif isinstance(event, events.NonFatalError):
        _collect_error(event, report, quiet)
    elif isinstance(event, events.FatalError):
        report.errors.append(f"internal error: {one_line(event.exception)}")
    elif isinstance(event, events.EngineFinished):
        if event.stop_reason == "server_unavailable":
            report.stopped = report.stopped or "the server stopped responding"
            report.add(
                Finding(
                    operation="(run)",
                    check="connection",
                    title="Server stopped responding",
                    message="requests kept failing or timing out; Schemathesis stopped the run",
                )
            )
        for failure in event.failures:
            names = getattr(failure, "checks", None) or ()
            report.add(
                Finding(
                    operation=failure.operation or "(run)",
                    check=names[0] if names else type(failure).__name__,
                    title=failure.title,
                    message=failure.message,
                )
            )
    return None


def _collect_scenario(recorder: Any, report: Report) -> None:
    failing = False
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            info = node.failure_info
            if info is None:
                continue
            failing = True
            interaction = recorder.interactions.get(case_id)
            request = as_request(interaction.request) if interaction is not None else None
            response = interaction.response if interaction is not None else None
            label = _case_label(recorder, case_id) or recorder.label
            report.add(from_failure(failure_info(info.failure), node.name, label, request, response))
    if failing:
        report.recorders.append(recorder)


def _case_label(recorder: Any, case_id: str) -> str:
    node = recorder.cases.get(case_id)
    return str(node.value.operation.label) if node is not None else ""


def _collect_error(event: Any, report: Report, quiet: tuple[type[BaseException], ...]) -> None:
    import requests

    error = event.value
    name = event.label or "run"
    if quiet and isinstance(error, quiet):
        return
    if isinstance(error, throttling.RateLimited):
        report.untest(name, one_line(error))
        return
    if isinstance(error, requests.RequestException):
        report.add(from_transport_error(name, error))
        return
    text = f"{name}: {event.info.title}: {one_line(event.info.message)}"
    if event.related_to_operation:
        report.warn(text)
    else:
        report.errors.append(text)


def write_vcr(recorders: list[Any], output: IO[str], seed: int | None, command: str, keep: set[str]) -> None:
    """Failing scenarios as a Schemathesis VCR cassette. Header and query values that look secret are filtered as
    Schemathesis does, except those named in `keep` (lower case: where our own key travels, which the caller
    replaces with a placeholder so that a replay can send it again)."""
    from urllib.parse import parse_qsl, urlsplit

    from schemathesis.config import OutputConfig, SanitizationConfig
    from schemathesis.reporting.vcr import VcrWriter

    names: set[str] = set()
    for recorder in recorders:
        for interaction in recorder.interactions.values():
            names.update(name.lower() for name in interaction.request.headers)
            names.update(name.lower() for name, _ in parse_qsl(urlsplit(interaction.request.uri).query, True))
            if interaction.response is not None:
                names.update(name.lower() for name in interaction.response.headers)
    defaults = SanitizationConfig()  # Schemathesis' own lists of secret-looking names
    markers = defaults.sensitive_markers
    secret = {name for name in names if name in defaults.keys_to_sanitize or any(m in name for m in markers)}
    # Exact names instead of markers: a marker ("key") would also catch the header that carries our key
    sanitization = SanitizationConfig(keys_to_sanitize=(*sorted(secret - keep), "\x00"), sensitive_markers=("\x00",))
    config = OutputConfig()
    config.sanitization = sanitization
    if ESCAPES_VCR_QUOTES:
        writer = VcrWriter(output=output, config=config)
        writer.open(seed=seed, command=command)
        for recorder in recorders:
            writer.write(recorder)
        writer.close()
        return
    # 4.30 writes the command and each request's URI between single quotes as they are, so `--include 'GET /x'`
    # or an OData path `/People('{name}')` made a cassette nothing could read: double their quotes
    buffer = io.StringIO()
    writer = VcrWriter(output=buffer, config=config)
    writer.open(seed=seed, command=command.replace("'", "''"))
    for recorder in recorders:
        writer.write(recorder)
    writer.close()
    output.write(_QUOTED_URI.sub(lambda m: m.group(1) + m.group(2).replace("'", "''") + "'", buffer.getvalue()))


_QUOTED_URI = re.compile(r"^(    uri: ')(.*)'$", re.M)
