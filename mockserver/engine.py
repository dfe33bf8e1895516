"""Schemathesis' engine, driven on a daemon thread with our guarded session in every worker, and its events turned
into the `Report`.

Rules: the caller's thread only waits on a queue, so a stuck request or Ctrl-C can never hang it; `--duration` stops
the engine when spent, and a watchdog gives up on the engine `GRACE` seconds plus one request timeout after that;
an interrupted run still returns the report it has. Schemathesis is imported inside functions.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import throttling
from .findings import Finding, Progress, Report, from_failure, from_transport_error, one_line

if TYPE_CHECKING:
    from schemathesis.engine.core import EventStream

GRACE = 5.0  # seconds past --duration before the watchdog stops waiting for the engine


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


def pump(
    stream: EventStream,
    report: Report,
    counters: throttling.Counters,
    started: float,
    duration: float | None,
    request_timeout: float,
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
    phase = ""
    soft = started + duration if duration is not None else None
    hard: float | None = soft + GRACE + request_timeout if soft is not None else None
    while True:
        try:
            try:
                event = events.get(timeout=0.2)
            except queue.Empty:
                event = None
            now = time.monotonic()
            if soft is not None and now >= soft and not stream.stop_event.is_set():
                stop(stream, report, "")  # --duration spent: a planned end, not an interruption
            if hard is not None and now >= hard:
                report.stopped = report.stopped or "the server stopped answering; gave up waiting for it"
                return
            if event is done:
                return
            if isinstance(event, BaseException):
                report.errors.append(f"internal error: {one_line(event)}")
                continue
            if event is not None:
                phase = _collect(event, report) or phase
            if on_progress is not None:
                on_progress(Progress(phase, counters.sent, len(report.findings), now - started))
        except KeyboardInterrupt:
            stop(stream, report, "interrupted (Ctrl-C)")
            hard = time.monotonic() + GRACE  # print what we have even if a request is stuck


def stop(stream: EventStream, report: Report, reason: str) -> None:
    if reason and not report.stopped:
        report.stopped = reason
    stream.stop()


def _collect(event: Any, report: Report) -> str | None:
    """Add what an engine event found to the report; the name of the phase it starts, if it starts one."""
    from schemathesis.engine import events

    if isinstance(event, events.PhaseStarted):
        return str(event.phase.name.value)
    if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
        _collect_scenario(event.recorder, report)
    elif isinstance(event, events.NonFatalError):
        _collect_error(event, report)
    elif isinstance(event, events.FatalError):
        report.errors.append(f"internal error: {one_line(event.exception)}")
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
            report.add(from_failure(info.failure, node.name, recorder.label, recorder.interactions.get(case_id)))
    if failing:
        report.recorders.append(recorder)


def _collect_error(event: Any, report: Report) -> None:
    import requests

    error = event.value
    label = event.label or "run"
    if isinstance(error, throttling.BudgetSpent):
        return
    if isinstance(error, requests.RequestException):
        report.add(from_transport_error(label, error))
        return
    text = f"{label}: {event.info.title}: {one_line(event.info.message)}"
    if event.related_to_operation:
        report.warn(text)
    else:
        report.errors.append(text)


def _check_name(failure: Any) -> str:
    names = getattr(failure, "checks", None) or ()
    return names[0] if names else type(failure).__name__
