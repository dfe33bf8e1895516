"""The `check` and `fuzz` commands: a `Plan` in, the contract loaded, the run carried out, the report out, an exit code.

Rules: the API key comes from the plan (--api-key) or MOCKSERVER_API_KEY and is never printed; check and fuzz send
only GET/HEAD/OPTIONS unless --allow-unsafe-methods, and say so on stderr before the first request; fuzz is bounded by
--duration and --max-requests; nothing heavy is imported until a command runs (`mockserver serve` must start fast).
Exit 0 conforming, 1 violations, 2 usage error, unreachable server or broken contract, 3 inconclusive (an operation
could not be tested); a report that cannot be written is an error, but never hides a 1 or a 3.
"""

from __future__ import annotations

import os
import random
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .plan import Plan

if TYPE_CHECKING:
    from .findings import Report

ENV_KEY = "MOCKSERVER_API_KEY"
USAGE = 2


def run(plan: Plan, argv: list[str] | None = None) -> int:
    """Carry out a plan from the command line; `argv` is how it was invoked (for the cassette's header)."""
    from ..contract.documents import DocumentError
    from ..contract.spec import load_spec
    from . import conformance, reporting, shards

    command = "fuzz" if plan.fuzz else "check"
    key = plan.api_key or os.environ.get(ENV_KEY) or None
    plan = replace(plan, api_key=key, seed=plan.seed if plan.seed is not None else random.randrange(2**31))
    problem = check_base_url(plan.base_url) or reporting.key_problem(key)
    if problem:
        print(f"mockserver {command}: {problem}", file=sys.stderr)
        return USAGE
    try:
        spec = load_spec(plan.spec)
    except DocumentError as exc:
        print(f"mockserver {command}: {reporting.redact(str(exc), key)}", file=sys.stderr)
        return USAGE

    def announce(report: Report) -> None:
        print(f"mockserver {reporting.start_line(report, command)}", file=sys.stderr, flush=True)
        if plan.shard is not None:
            print(
                f"mockserver {command}: {shards.announce(plan.shard, report.operations)}", file=sys.stderr, flush=True
            )

    progress = reporting.ProgressDisplay() if plan.progress else None
    try:
        report = conformance.run(plan, spec, on_progress=progress, on_start=announce)
    finally:
        if progress is not None:
            progress.close()
    sys.stdout.write(reporting.render(report, f"mockserver {command}", key))
    invocation = "mockserver " + reporting.command_line(argv if argv is not None else sys.argv[1:])
    try:
        if plan.junit_xml:
            checks = conformance.FUZZ_CHECKS if plan.fuzz else conformance.CHECKS
            reporting.write_junit(report, plan.junit_xml, command, key, checks, plan.shard)
        if report.recorders and plan.cassette:
            source = str(Path(plan.spec).resolve()) if plan.spec and Path(plan.spec).exists() else plan.spec
            saved = reporting.write_cassette(report, plan.cassette, invocation, key, source,
                                             conformance.credential_names(spec))  # fmt: skip
            print(f"saved {saved} failing scenario(s) to {plan.cassette} "
                  f"(send them again: mockserver replay {shlex.quote(plan.cassette)})")  # fmt: skip
    except OSError as exc:
        print(f"mockserver {command}: cannot write report: {exc.strerror or exc}: {exc.filename or ''}",
              file=sys.stderr)  # fmt: skip
        return report.exit_code or USAGE
    return report.exit_code


def check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"BASE_URL must be an http:// or https:// URL with a host, got {value!r}"
    return ""
