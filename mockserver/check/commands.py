"""The `check` and `fuzz` commands: a `Plan` in, the contract loaded, the run carried out, the report out, an exit code.

Rules: the API key comes from the plan (--api-key) or MOCKSERVER_API_KEY and is never printed; check and fuzz send
only GET/HEAD/OPTIONS unless --allow-unsafe-methods, and say so on stderr before the first request; fuzz is bounded by
--duration and --max-requests; nothing heavy is imported until a command runs (`mockserver serve` must start fast).
Exit codes are `MEANING`'s; a report that cannot be written is an error, but never hides a 1 or a 3.
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

from ..contract.words import count
from .plan import CHECK, FUZZ, Plan

if TYPE_CHECKING:
    from .findings import Report

ENV_KEY = "MOCKSERVER_API_KEY"
# What `mockserver check --help` and `fuzz --help` say: (one-line help, description), and the exit codes
HELP = {
    CHECK: ("check that a running server honours the contract",
            "Send valid requests (examples, boundary and generated cases) to --url and check every answer against "
            "the contract. Read-only unless --allow-unsafe-methods: only GET/HEAD/OPTIONS operations are sent, the "
            "others are listed as skipped. A 429 (or 503 with Retry-After) is waited out and sent again, never a "
            "failure."),
    FUZZ: ("everything check does, plus invalid requests and stateful sequences, bounded in time",
           "Like check, plus negative data (wrong types, missing parameters, junk headers) that must get a 4xx and "
           "never a 5xx, and stateful sequences where the contract has links. Read-only unless "
           "--allow-unsafe-methods."),
}  # fmt: skip


# What each exit code of check and fuzz means: written once, here; --help shows it, docs/reference/exit-codes.md
# repeats it word for word (tests/check/test_commands.py compares them) and the JUnit file carries the code and verdict
MEANING = {
    0: "passed: every operation sent passed (operations skipped as unsafe are listed, and counted in the summary)",
    1: "failed: failures found (each listed once, with a curl that reproduces it)",
    2: "error: usage error, unreachable server, broken contract or unusable API key",
    3: "inconclusive: an operation was never reached or not fully tested (the server kept answering 429 or 503 with "
       "Retry-After, or the run ended first), or coverage fell under --min-coverage",
}  # fmt: skip
EXIT_CODES = "exit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in MEANING.items())


USAGE = 2


def run(plan: Plan, argv: list[str] | None = None) -> int:
    """Carry out a plan from the command line; `argv` is how it was invoked (for the cassette's header)."""
    from ..contract.documents import DocumentError
    from ..contract.spec import load_spec
    from ..contract.verdicts import key_problem
    from . import conformance, reporting, shards
    from .cassette import Cassette

    command = "fuzz" if plan.fuzz else "check"
    key = plan.api_key or os.environ.get(ENV_KEY) or None
    plan = replace(plan, api_key=key, seed=plan.seed if plan.seed is not None else random.randrange(2**31))
    problem = check_base_url(plan.base_url) or key_problem(key)
    if problem:
        print(f"mockserver {command}: error: {problem}", file=sys.stderr)
        return USAGE
    try:
        spec = load_spec(plan.spec)
    except DocumentError as exc:
        print(f"mockserver {command}: error: {reporting.redact(str(exc), key)}", file=sys.stderr)
        return USAGE
    drift = 0
    if plan.compare_contract:  # the live contract against the pinned one, before any request of the run
        from ..diff import live_drift

        drift, text = live_drift(spec.source, plan.compare_contract, plan.base_url)
        sys.stdout.write(f"mockserver {command}: {reporting.redact(text, key)}")
        if drift == USAGE:
            return USAGE

    def announce(report: Report) -> None:
        print(f"mockserver {reporting.start_line(report, command)}", file=sys.stderr, flush=True)
        if plan.shard is not None:
            print(
                f"mockserver {command}: {shards.announce(plan.shard, report.operations)}", file=sys.stderr, flush=True
            )

    progress = reporting.ProgressDisplay() if plan.progress else None
    saved = Cassette()
    try:
        report = conformance.run(plan, spec, [saved, *([progress] if progress else [])], on_start=announce)
    finally:
        if progress is not None:
            progress.close()
    sys.stdout.write(reporting.render(report, f"mockserver {command}", key))
    invocation = "mockserver " + reporting.command_line(argv if argv is not None else sys.argv[1:])
    try:
        if plan.junit_xml:
            checks = conformance.FUZZ_CHECKS if plan.fuzz else conformance.CHECKS
            reporting.write_junit(report, plan.junit_xml, command, key, checks, plan.shard)
        if saved.entries and plan.cassette:
            source = str(Path(plan.spec).resolve()) if plan.spec and Path(plan.spec).exists() else plan.spec
            saved_count = saved.write(report, plan.cassette, invocation, key, source)
            print(f"saved {count(saved_count, 'failing scenario')} to {plan.cassette} "
                  f"(send them again: mockserver replay {shlex.quote(plan.cassette)})")  # fmt: skip
    except OSError as exc:
        print(f"mockserver {command}: error: cannot write report: {exc.strerror or exc}: {exc.filename or ''}",
              file=sys.stderr)  # fmt: skip
        return report.exit_code or USAGE
    return 1 if drift and report.exit_code in (0, 3) else report.exit_code


def check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"BASE_URL must be an http:// or https:// URL with a host, got {value!r}"
    return ""
