"""One run against a server, turned into a `Report`: the core of `check`, `fuzz` and the pytest contract suite.
A `Plan` says what to send; `run` wires the `Spec`, credentials, rules and the guarded session together.

Rules: requests go only to `Plan.base_url`, never to the contract's `servers`; the API key travels only in requests
(the report never holds it); every run stops by itself: `max_requests`, `duration` and a watchdog that gives up on a
stuck engine a little after the bound. The `Spec` answers every question about the contract (operations, prefix,
security); the raw document is only copied, trimmed to the selected operations, for the engine.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..contract import security
from ..contract.spec import Spec
from . import engine, throttling
from .findings import Progress, Report, one_line
from .plan import SAFE_METHODS, Plan
from .rules import Rules

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "ignored_auth",
)
FUZZ_CHECKS = (*CHECKS, "negative_data_rejection", "missing_required_header", "unsupported_method")


class PlanError(Exception):
    """A usage problem found before any request: the CLI exits 2 with `str(exc)`."""


def run(plan: Plan, spec: Spec, on_progress: Callable[[Progress], None] | None = None) -> Report:
    """Check the server at `plan.base_url` against `spec`."""
    started = time.monotonic()
    base_url = prefixed(plan.base_url, spec)
    report = Report(base_url=base_url, seed=plan.seed)
    try:
        prepared, selected = prepare(spec, plan)
    except PlanError as exc:
        report.errors.append(str(exc))
        return report
    report.operations = [op.key for op in selected]
    schemes = [s for s in spec.security_schemes.values() if s.fillable]
    rules = Rules(report, plan.api_key, schemes)
    counters = throttling.Counters()
    deadline = started + plan.duration if plan.duration is not None else None
    limits = throttling.Limits(rate=plan.rate_limit, timeout=plan.request_timeout, max_requests=plan.max_requests,
                               deadline=deadline)  # fmt: skip
    pacer = throttling.Pacer(plan.rate_limit)

    def session(base: Any = None) -> Any:
        return throttling.make_session(limits, counters, pacer, engine.adopt_body, base=base)

    def finish() -> Report:
        report.requests = counters.sent
        report.rate_limited = counters.rate_limited
        report.seconds = time.monotonic() - started
        if report.rate_limited:
            report.warn(f"server rate-limited {report.rate_limited} request(s) with 429; waited as Retry-After said")
        return report

    unreachable = _reachable(base_url, plan, session())
    if unreachable:
        report.errors.append(unreachable)
        return finish()
    if not plan.api_key and any(op.requires_auth for op in selected):
        report.warn("no API key given (--api-key or MOCKSERVER_API_KEY): operations that need one were only "
                    "checked for rejecting requests without it")  # fmt: skip
    try:
        config = engine.configure(engine_config(plan, base_url, schemes))
        schema = engine.load(prepared, config, rules.hooks(plan))
    except Exception as exc:  # a contract the engine cannot load is a broken contract: exit 2
        report.errors.append(f"contract: {one_line(exc)}")
        return finish()
    for probe in rules.probes():
        probe(schema, spec, base_url, session(), plan.request_timeout)
    if deadline is not None:
        engine.set_max_time(schema, max(1, int(deadline - time.monotonic())))
    stream = engine.start(schema, session)
    limits.stopped = lambda: engine.is_stopped(stream)
    limits.on_budget_spent = lambda: engine.stop(stream, report, f"--max-requests {plan.max_requests} reached")
    engine.pump(stream, report, lambda: counters.sent, started, plan.duration, plan.request_timeout, on_progress,
                quiet=(throttling.BudgetSpent,))  # fmt: skip
    return finish()


def prepare(spec: Spec, plan: Plan) -> tuple[dict[str, Any], list[Any]]:
    """A copy of the contract holding only the operations this run may send, and those operations."""
    try:
        selected = spec.select(plan.include)
    except LookupError as exc:
        raise PlanError(f"--include {exc.args[0]!r} matches no operation of the contract") from None
    if plan.fuzz and not plan.allow_unsafe_methods:
        selected = [op for op in selected if op.method in SAFE_METHODS]
    if not selected:
        raise PlanError("no operation to test (only unsafe methods? see --allow-unsafe-methods)")
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


def prefixed(base_url: str, spec: Spec) -> str:
    """BASE_URL plus the path of the contract's first server, unless BASE_URL already carries a path."""
    base = base_url.rstrip("/")
    if urlsplit(base).path not in ("", "/"):
        return base
    return base + spec.prefix


def engine_config(plan: Plan, base_url: str, schemes: list[security.SecurityScheme]) -> dict[str, Any]:
    checks = FUZZ_CHECKS if plan.fuzz else CHECKS
    # Coverage may send methods the contract lacks; on a live server only safe ones
    unexpected = ["OPTIONS"] if not plan.allow_unsafe_methods else ["OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
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
            "coverage": {"unexpected-methods": unexpected if plan.fuzz else []},
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
    except requests.RequestException as exc:
        return f"cannot reach {base_url}: {one_line(exc)}"
    finally:
        session.close()
    return ""
