"""One run of Schemathesis against a server, turned into a `Report`: the core of `check`, `fuzz` and the pytest
contract suite. `Plan` says what to send; `run` wires the contract, credentials, rules and guarded session together.

Rules: requests go only to `Plan.base_url`, never to the contract's `servers`; the API key travels only in requests
(the report never holds it); every run stops by itself: `max_requests`, `duration` and a watchdog that gives up on a
stuck engine a little after the bound. Schemathesis is imported inside functions so `serve` starts fast.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import credentials, engine, throttling
from .findings import Progress, Report, one_line
from .rules import HTTP_METHODS, Rules, probe_auth, requires_auth

SAFE_METHODS = ("get", "head", "options")
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
    rules = Rules(report, plan.api_key, credentials.schemes(document))
    counters = throttling.Counters()
    deadline = started + plan.duration if plan.duration is not None else None
    limits = throttling.Limits(
        rate=plan.rate_limit,
        timeout=plan.request_timeout,
        max_requests=plan.max_requests,
        deadline=deadline,
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
    if not plan.api_key and any(requires_auth(document).values()):
        report.warn("no API key given (--api-key or MOCKSERVER_API_KEY): operations that need one were only "
                    "checked for rejecting requests without it")
    try:
        schema = load_schema(prepared, build_config(plan, base_url, document), rules, plan.boundary_values)
    except Exception as exc:  # a contract Schemathesis cannot load is a broken contract: exit 2
        report.errors.append(f"contract: {one_line(exc)}")
        return finish()

    def guard(session: Any) -> None:
        throttling.make_session(limits, counters, pacer, base=session)

    probe_auth(schema, rules, base_url, throttling.make_session(limits, counters, pacer), plan.request_timeout)
    if deadline is not None:
        schema.config.max_time = max(1, int(deadline - time.monotonic()))
    stream = engine.start(schema, guard)
    limits.stopped = stream.stop_event.is_set
    limits.on_budget_spent = lambda: engine.stop(stream, report, f"--max-requests {plan.max_requests} reached")
    engine.pump(stream, report, counters, started, plan.duration, plan.request_timeout, on_progress)
    return finish()


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
        data.update(credentials.config(plan.api_key, credentials.schemes(document)))
    return SchemathesisConfig.from_dict(data)


def load_schema(document: dict[str, Any], config: Any, rules: Rules, boundary_values: bool) -> Any:
    import schemathesis

    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.hooks.register_hook_with_name(rules.keep_failure, "filter_failure")
    if boundary_values:
        schema.hooks.register_hook_with_name(rules.add_boundary_cases, "before_add_examples")
    return schema


def _reachable(base_url: str, plan: Plan, session: Any) -> str:
    """"" when anything answers at BASE_URL, else why not."""
    import requests

    try:
        session.get(base_url, timeout=min(plan.request_timeout, 10.0), allow_redirects=False)
    except requests.RequestException as exc:
        return f"cannot reach {base_url}: {one_line(exc)}"
    finally:
        session.close()
    return ""
