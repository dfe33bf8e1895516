"""One run against a server, turned into a `Report`: the core of `check`, `fuzz` and the pytest contract suite.
A `Plan` says what to send; `run` wires the `Spec`, credentials, rules and the guarded session together.

Rules: requests go only to `Plan.base_url`, never to the contract's `servers`; only GET/HEAD/OPTIONS operations are
sent unless `Plan.allow_unsafe_methods` (the others are listed as skipped); the API key travels only in requests (the
report never holds it) and must be long enough to be redacted by value; every run stops by itself: `max_requests`,
`duration` and a watchdog that gives up on a stuck engine a little after the bound. An operation with a case that
never got an answer other than "come back later" is untested, never passed. The `Spec` answers every question about
the contract (operations, prefix, security); the raw document is only copied, trimmed to the selected operations,
for the engine.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from ..contract import security
from ..contract.routing import FULL, Router
from ..contract.spec import Operation, Spec
from ..contract.verdicts import key_problem
from ..contract.words import count
from . import engine, shards, throttling
from .engine import events
from .findings import Progress, Report, fingerprint, one_line, plain_variant
from .plan import CHECK, FUZZ, SAFE_METHODS, Plan
from .rules import CATALOGUE, Rules
from .shards import Shard

CHECKS = tuple(check.name for check in CATALOGUE.values() if check.sent == CHECK)
FUZZ_CHECKS = tuple(check.name for check in CATALOGUE.values() if check.sent in (CHECK, FUZZ))


class PlanError(Exception):
    """A usage problem found before any request: the CLI exits 2 with `str(exc)`."""


Handler = Callable[[events.Event], None]  # an output: sees every event after the report took it in


def run(
    plan: Plan,
    spec: Spec,
    handlers: Sequence[Handler] = (),
    on_start: Callable[[Report], None] | None = None,
    clock: throttling.Clock = throttling.REAL_CLOCK,
) -> Report:
    """Check the server at `plan.base_url` against `spec`; `on_start` sees the report (what will be sent, what is
    skipped) before the first request; each of `handlers` (progress, cassette) sees every event of the run."""
    started = time.monotonic()
    base_url = prefixed(plan.base_url, spec)
    report = Report(base_url=base_url, seed=plan.seed)
    try:
        check_key(plan.api_key)
        prepared, selected = prepare(spec, plan)
    except PlanError as exc:
        report.errors.append(str(exc))
        return report
    report.operations = [op.key for op in selected]
    report.skipped = unsafe_operations(spec, plan)
    report.methods = methods_sent(plan, selected)
    report.credentials = credential_names(spec)
    lock = threading.Lock()

    def emit(event: events.Event) -> None:  # from the engine's threads too: one writer, one at a time
        with lock:
            record(report, event)
            if isinstance(event, Progress):
                event = replace(event, findings=len(report.findings))
            for handler in handlers:
                handler(event)

    schemes = [s for s in spec.security_schemes.values() if s.fillable]
    rules = Rules(emit, plan.api_key, schemes, spec)
    counters = throttling.Counters()
    deadline = started + plan.duration if plan.duration is not None else None
    limits = throttling.Limits(rate=plan.rate_limit, timeout=plan.request_timeout, max_requests=plan.max_requests,
                               deadline=deadline, clock=clock, origin=throttling.origin(base_url))  # fmt: skip
    pacer = throttling.Pacer(plan.rate_limit, clock)
    if on_start is not None:
        on_start(report)

    def session(base: Any = None) -> Any:
        return throttling.make_session(limits, counters, pacer, engine.adopt_body, base=base)

    def finish() -> Report:
        if limits.stop.reason:
            emit(events.Stopped(limits.stop.reason))
        if not report.errors:
            unmade = rules.boundary_planned if plan.boundary_values else lambda op: 0
            cover(report, selected, base_url, counters, rules.boundary, plan.min_coverage, unmade)
        before = counters.sent
        if not report.errors:
            blame(report, session(), plan.request_timeout)
        if counters.sent > before:  # a phase of its own, so that the progress lines still add up
            emit(Progress("blame", counters.sent, 0, time.monotonic() - started, before))
        report.requests = counters.sent  # after the last request of the run: the re-sends of `blame` too
        report.rate_limited = counters.rate_limited
        report.seconds = time.monotonic() - started
        report.consolidate()
        if report.rate_limited:
            report.warn(f"server answered {count(report.rate_limited, 'request')} with 429 (or 503 and Retry-After); "
                        f"waited {counters.waited:g} s in all, as it asked, and sent them again")  # fmt: skip
        return report

    unreachable = _reachable(base_url, plan, session())
    if unreachable:
        report.errors.append(unreachable)
        return finish()
    if not plan.api_key and any(op.requires_auth for op in selected):
        report.warn("no API key given (--api-key or MOCKSERVER_API_KEY): operations that need one were only "
                    "checked for rejecting requests without it")  # fmt: skip
    try:
        engine.keep_storage_out_of_cwd()
        config = engine.configure(engine_config(plan, base_url, schemes))
        schema = engine.load(prepared, config, rules.hooks(plan))
    except Exception as exc:  # a contract the engine cannot load is a broken contract: exit 2
        report.errors.append(f"contract: {one_line(exc)}")
        return finish()
    for probe in rules.probes():
        probe(schema, spec, base_url, session(), plan.request_timeout)
    if deadline is not None:
        engine.set_max_time(schema, max(1, int(deadline - time.monotonic())))
    with engine.guarded_fresh_sessions(session):  # the engine's own probes are counted and paced like the rest
        stream = engine.start(schema, session, limits.stop)
        engine.pump(stream, emit, limits.stop, lambda: counters.sent, started, plan.duration, plan.request_timeout,
                    report.credentials, quiet=(throttling.BudgetSpent,))  # fmt: skip
    return finish()


BLAME = 20  # requests a run may send again to find out which unusual input a failure is due to


def blame(report: Report, session: Any, timeout: float) -> None:
    """An unusual input is the cause of a failure only if the same request with it made plain does not fail alike
    (same status, same server-error body): otherwise it is one cause with the plain failures, not a new one. Sent
    through the run's session, so within its budget; a request that cannot be sent leaves the cause as it is."""
    import requests

    tried: dict[tuple[str, int | None, str], bool] = {}  # (plain request, status, fingerprint) -> the same failure
    sent = 0
    for finding in report.findings:
        plain = plain_variant(finding.request) if finding.cause and finding.request and finding.status else None
        if plain is None:
            continue
        memo = (f"{plain.method} {plain.url}", finding.status, finding.fingerprint)
        if memo not in tried:
            if sent >= BLAME:
                break
            sent += 1
            try:
                response = session.request(plain.method, plain.url, headers=plain.headers, data=plain.body,
                                           timeout=timeout, allow_redirects=False)  # fmt: skip
            except requests.RequestException:
                continue
            tried[memo] = response.status_code == finding.status and fingerprint(response) == finding.fingerprint
        if tried[memo]:
            finding.cause = ""  # the failure does not depend on that input


def cover(report: Report, selected: list[Operation], base_url: str, counters: throttling.Counters,
          boundary: dict[str, set[str]], floor: float | None, unmade: Callable[[Operation], int]) -> None:  # fmt: skip
    """What the run covered, from what left the session: the operations reached (a selected one never reached is
    untested: inconclusive, never passed) and the boundary cases sent of those planned (under `floor` percent:
    inconclusive); `unmade(op)`: the boundary cases an operation never reached would have had."""
    router = Router(selected, urlsplit(base_url).path.rstrip("/"))
    reached = set()
    for method, path in counters.targets:
        match = router.match(method, path.encode("latin-1", "replace"))
        if match.kind == FULL and match.operation is not None:
            reached.add(match.operation.key)
    report.reached = [op.key for op in selected if op.key in reached]
    why = report.stopped or "the run ended first"
    for op in selected:
        if op.key not in reached:
            report.untest(op.key, f"never reached: no request went to it ({why})")
    unseen = [op for op in selected if op.key not in reached and op.key not in boundary]
    planned = sum(len(ids) for ids in boundary.values()) + sum(unmade(op) for op in unseen)
    sent = sum(len(ids & counters.cases) for ids in boundary.values())
    report.boundary = (sent, planned)
    if floor is not None and planned and sent * 100 < floor * planned:
        report.short = (f"{sent} of {count(planned, 'boundary case')} sent ({sent * 100 // planned}%), under "
                        f"--min-coverage {floor:g}%")  # fmt: skip


def record(report: Report, event: events.Event) -> None:
    """What an event adds to the report: the only place a run's findings, warnings, errors and stops are written."""
    if isinstance(event, events.Failed):
        for finding in event.findings:
            report.add(finding)
    elif isinstance(event, events.Found):
        report.add(event.finding)
    elif isinstance(event, events.Untested):
        report.untest(event.operation, event.reason)
    elif isinstance(event, events.Warned):
        report.warn(event.text)
    elif isinstance(event, events.Errored):
        report.errors.append(event.text)
    elif isinstance(event, events.Stopped):
        report.stopped = report.stopped or event.reason


def prepare(spec: Spec, plan: Plan) -> tuple[dict[str, Any], list[Any]]:
    """A copy of the contract holding only the operations this run may send, and those operations."""
    try:
        selected = spec.select(plan.include)
    except LookupError as exc:
        raise PlanError(f"--include {exc.args[0]!r} matches no operation of the contract") from None
    if not plan.allow_unsafe_methods and all(op.method not in SAFE_METHODS for op in selected):
        raise PlanError("no operation to test: every selected one uses a method other than GET/HEAD/OPTIONS, and "
                        "those are sent only with --allow-unsafe-methods (for disposable test servers)")  # fmt: skip
    selected, _ = partition(selected, plan.allow_unsafe_methods, plan.shard)  # a shard may have none: it passes
    document = copy.deepcopy(spec.document)
    # Never let the engine fall back on the contract's servers (the built-in contract's first one is production)
    document.pop("servers", None)
    keep = {(op.path, op.method.lower()) for op in selected}
    for path, item in (document.get("paths") or {}).items():
        if isinstance(item, dict):
            for method in [m for m in item if m in _METHODS and (path, m) not in keep]:
                del item[method]
    return document, selected


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def unsafe_operations(spec: Spec, plan: Plan) -> list[str]:
    """The selected operations this run leaves out because they could change the server's state (a shard lists its
    share of them, so that the shards' reports add up to one run's)."""
    try:
        selected = spec.select(plan.include)
    except LookupError:
        return []
    return [op.key for op in partition(selected, plan.allow_unsafe_methods, plan.shard)[1]]


def partition(operations: list[Operation], allow_unsafe_methods: bool,
              shard: Shard | None) -> tuple[list[Operation], list[Operation]]:  # fmt: skip
    """This run's (or shard's) operations to send and those it skips as unsafe, each list dealt over the shards on
    its own: one rule for check, fuzz and the contract suite, so that the shards' reports add up to one run's."""
    sent = [op for op in operations if allow_unsafe_methods or op.method in SAFE_METHODS]
    skipped = [op for op in operations if not (allow_unsafe_methods or op.method in SAFE_METHODS)]
    return shards.pick(sent, shard), shards.pick(skipped, shard)


def methods_sent(plan: Plan, selected: list[Any]) -> list[str]:
    """Every HTTP method this run may send: the operations' own, and those fuzz tries on purpose."""
    methods = {op.method for op in selected}
    if plan.fuzz:
        methods |= set(_unexpected_methods(plan))
    order = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE"]
    return sorted(methods, key=lambda m: (order.index(m) if m in order else len(order), m))


def _unexpected_methods(plan: Plan) -> list[str]:
    # Coverage may send methods the contract lacks (they must get 405); on a live server only safe ones
    return ["OPTIONS", "POST", "PUT", "PATCH", "DELETE"] if plan.allow_unsafe_methods else ["OPTIONS"]


def credential_names(spec: Spec) -> set[str]:
    """Lower-case header, query and cookie names where a configured key travels."""
    schemes = [s for s in spec.security_schemes.values() if s.fillable]
    return {("cookie" if s.location == "cookie" else s.parameter.lower()) for s in schemes}


def check_key(key: str | None) -> None:
    problem = key_problem(key)
    if problem:
        raise PlanError(problem)


def prefixed(base_url: str, spec: Spec) -> str:
    """BASE_URL plus the path of the contract's first server, unless BASE_URL already carries a path."""
    base = base_url.rstrip("/")
    if urlsplit(base).path not in ("", "/"):
        return base
    return base + spec.prefix


def engine_config(plan: Plan, base_url: str, schemes: list[security.SecurityScheme]) -> dict[str, Any]:
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
            # An input already sent is not sent again: a live server gets no repeated load, a report no repeats
            "unique-inputs": True,
        },
        "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
        "phases": {
            "stateful": {"enabled": plan.fuzz},
            "coverage": {"unexpected-methods": _unexpected_methods(plan) if plan.fuzz else []},
            # Values captured from answers (the built-in mock echoes the id) are drawn again and again: 9 in 10
            # fuzzing cases were repeats, and skipping the repeats cost more than generating fresh ones
            "fuzzing": {"extra-data-sources": {"responses": False}},
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
        data.update(security.checker_auth(schemes, plan.api_key))
    return data


def _reachable(base_url: str, plan: Plan, session: Any) -> str:
    """ "" when anything answers at BASE_URL, else why not."""
    import requests

    try:
        session.get(base_url, timeout=min(plan.request_timeout, 10.0), allow_redirects=False)
    except throttling.RateLimited:
        return ""  # it answers, if only to say "later"
    except requests.RequestException as exc:
        return f"cannot reach {base_url}: {throttling.why_unreachable(exc)}"
    finally:
        session.close()
    return ""
