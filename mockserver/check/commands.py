"""The `check` and `fuzz` commands: a `Plan` in, the contract loaded, the run carried out, the report out, an exit code.

Rules: the API key comes from the plan (--api-key) or MOCKSERVER_API_KEY and is never printed; fuzz sends only
GET/HEAD/OPTIONS unless --allow-unsafe-methods and is bounded by --duration and --max-requests; nothing heavy is
imported until a command runs (`mockserver serve` must start fast). Exit 0 conforming, 1 violations, 2 usage error,
unreachable server or broken contract.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import replace
from urllib.parse import urlsplit

from .plan import Plan

ENV_KEY = "MOCKSERVER_API_KEY"
USAGE = 2


def run(plan: Plan, argv: list[str] | None = None) -> int:
    """Carry out a plan from the command line; `argv` is how it was invoked (for the cassette's header)."""
    from ..contract.documents import DocumentError
    from ..contract.spec import load_spec
    from . import conformance, reporting

    command = "fuzz" if plan.fuzz else "check"
    key = plan.api_key or os.environ.get(ENV_KEY) or None
    plan = replace(plan, api_key=key, seed=plan.seed if plan.seed is not None else random.randrange(2**31))
    problem = check_base_url(plan.base_url)
    if problem:
        print(f"mockserver {command}: {problem}", file=sys.stderr)
        return USAGE
    try:
        spec = load_spec(plan.spec)
    except DocumentError as exc:
        print(f"mockserver {command}: {reporting.redact(str(exc), key)}", file=sys.stderr)
        return USAGE
    progress = reporting.ProgressDisplay() if plan.progress else None
    try:
        report = conformance.run(plan, spec, on_progress=progress)
    finally:
        if progress is not None:
            progress.close()
    sys.stdout.write(reporting.render(report, f"mockserver {command}", key))
    invocation = "mockserver " + reporting.command_line(argv if argv is not None else sys.argv[1:])
    try:
        if plan.junit_xml:
            checks = conformance.FUZZ_CHECKS if plan.fuzz else conformance.CHECKS
            reporting.write_junit(report, plan.junit_xml, command, key, checks)
        if plan.fuzz and report.recorders and plan.cassette:
            saved = reporting.write_cassette(report, plan.cassette, invocation, key)
            print(f"saved {saved} failing scenario(s) to {plan.cassette} (replay: st replay {plan.cassette})")
    except OSError as exc:
        print(f"mockserver {command}: cannot write report: {exc}", file=sys.stderr)
        return USAGE
    return report.exit_code


def check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"BASE_URL must be an http:// or https:// URL with a host, got {value!r}"
    return ""
