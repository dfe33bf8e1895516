"""The engine's run: Schemathesis' `Engine.execute()` on a daemon thread, its events turned into ours (`events`).

Rules: the caller's thread only waits on a queue, so a stuck request or Ctrl-C can never hang it; `--duration` stops
the engine when spent, and a watchdog gives up on the engine `GRACE` seconds plus one request timeout after that;
every stop goes through the run's one `throttling.Stop` (the first reason wins), shared with the session. Progress
names a phase only once it sends a request. Nothing here writes the report: each finding, warning, error and stop is
handed to `emit`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .. import throttling
from ..findings import Finding, Progress, as_request, from_failure, from_transport_error, one_line
from . import vcr
from .cases import failure_info
from .events import Errored, Event, Failed, Found, Untested, Warned

if TYPE_CHECKING:
    from schemathesis.engine.core import EventStream

GRACE = 5.0  # seconds past --duration before the watchdog stops waiting for the engine
Emit = Callable[[Event], None]


def start(schema: Any, make_session: Callable[[Any], Any], stop: throttling.Stop) -> EventStream:
    """Schemathesis' `Engine.execute()`, with our guarded session in every worker thread; setting `stop` stops it."""
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
    ctx = Context(schema=schema, stop_event=stop.event, observations=observations, max_time=schema.config.max_time)
    return EventStream(plan.execute(ctx), ctx.control.stop_event)


_FRESH_SESSIONS = threading.Lock()  # one run at a time may own the sessions Schemathesis makes on its own


@contextlib.contextmanager
def guarded_fresh_sessions(make_session: Callable[[Any], Any]) -> Iterator[None]:
    """While the run lasts, every session Schemathesis builds by itself goes through our guarded adapter too: its
    `ignored_auth` probes (which drop the run's session for a new `SameHostRedirectsSession`) and its start-up probes
    (`context.make_session`). One count, one pace, one budget and 429 waits for every request that leaves."""
    from schemathesis.engine import context
    from schemathesis.transport import requests as transport

    def guard(session: Any) -> Any:
        if not getattr(session, "mockserver_guarded", False):
            make_session(session)
            session.mockserver_guarded = True
        return session

    with _FRESH_SESSIONS:
        original_class, original_make = transport.SameHostRedirectsSession, context.make_session

        class Guarded(original_class):  # type: ignore[valid-type,misc]
            def __init__(self) -> None:
                super().__init__()
                guard(self)

        def make(*args: Any, **kwargs: Any) -> Any:
            return guard(original_make(*args, **kwargs))

        transport.SameHostRedirectsSession = Guarded  # type: ignore[misc]
        context.make_session = make
        try:
            yield
        finally:
            transport.SameHostRedirectsSession = original_class  # type: ignore[misc]
            context.make_session = original_make


def pump(stream: EventStream, emit: Emit, stop: throttling.Stop, sent: Callable[[], int], started: float,
         duration: float | None, request_timeout: float, keep: set[str],
         quiet: tuple[type[BaseException], ...] = ()) -> None:  # fmt: skip
    """Drive the engine on a daemon thread and hand its events to `emit` here. `sent()` counts requests so far;
    `keep` are the credential names a cassette entry keeps (as placeholders); errors of the `quiet` types (our own
    budget stops) are not reported."""
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
    phase, phase_from = "", 0
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
            if soft is not None and now >= soft and not stop.is_set():
                stop.set()  # --duration spent: a planned end, not an interruption
            if hard is not None and now >= hard:
                stop.set("the server stopped answering; gave up waiting for it")
                return
            if isinstance(event, BaseException):
                emit(Errored(f"internal error: {one_line(event)}"))
                continue
            started_phase = (
                _collect(event, emit, stop, keep, quiet) if event is not None and event is not done else None
            )
            # A phase is named once a request of its own went out. A phase starts before its first request, so
            # requests counted by an event's time, or before the queue is seen empty, belong to phases already read
            if pending and (at if event is not None else sent() if events.empty() else 0) > pending_from:
                phase, pending, phase_from = pending, "", pending_from
            if started_phase:
                pending, pending_from = started_phase, at
            emit(Progress(phase, sent(), 0, now - started, phase_from))  # the run counts the findings
            if event is done:
                return
        except KeyboardInterrupt:
            stop.set("interrupted (Ctrl-C)")
            hard = time.monotonic() + GRACE  # print what we have even if a request is stuck


def _collect(event: Any, emit: Emit, stop: throttling.Stop, keep: set[str],
             quiet: tuple[type[BaseException], ...]) -> str | None:  # fmt: skip
    """Emit what an engine event found; the name of the phase it starts, if it starts one."""
    from schemathesis.engine import events

    if isinstance(event, events.PhaseStarted):
        # Every phase "starts", even one that is disabled or has nothing to do; progress names only those that run
        return str(event.phase.name.value) if event.phase.is_enabled else None
    if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
        _collect_scenario(event.recorder, emit, keep)
    elif isinstance(event, events.NonFatalError):
        _collect_error(event, emit, quiet)
    elif isinstance(event, events.FatalError):
        emit(Errored(f"internal error: {one_line(event.exception)}"))
    elif isinstance(event, events.EngineFinished):
        if event.stop_reason == "server_unavailable":
            stop.set("the server stopped responding")
            message = "requests kept failing or timing out; Schemathesis stopped the run"
            emit(Found(Finding("(run)", "connection", "Server stopped responding", message)))
        for failure in event.failures:
            names = getattr(failure, "checks", None) or ()
            check = names[0] if names else type(failure).__name__
            emit(Found(Finding(failure.operation or "(run)", check, failure.title, failure.message)))
    return None


def _collect_scenario(recorder: Any, emit: Emit, keep: set[str]) -> None:
    findings = []
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            info = node.failure_info
            if info is None:
                continue
            interaction = recorder.interactions.get(case_id)
            request = as_request(interaction.request) if interaction is not None else None
            response = interaction.response if interaction is not None else None
            label = _case_label(recorder, case_id) or recorder.label
            findings.append(from_failure(failure_info(info.failure), node.name, label, request, response))
    if findings:
        emit(Failed(tuple(findings), vcr.entry(recorder, keep)))


def _case_label(recorder: Any, case_id: str) -> str:
    node = recorder.cases.get(case_id)
    return str(node.value.operation.label) if node is not None else ""


def _collect_error(event: Any, emit: Emit, quiet: tuple[type[BaseException], ...]) -> None:
    import requests

    error = event.value
    name = event.label or "run"
    if quiet and isinstance(error, quiet):
        return
    if isinstance(error, throttling.RateLimited):
        emit(Untested(name, one_line(error)))
        return
    if isinstance(error, requests.RequestException):
        emit(Found(from_transport_error(name, error)))
        return
    text = f"{name}: {event.info.title}: {one_line(event.info.message)}"
    emit(Warned(text) if event.related_to_operation else Errored(text))
