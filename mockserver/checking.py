"""The `check` and `fuzz` commands: arguments in, a `conformance.Plan` run, the report out, exit 0/1/2.

Rules: the API key comes from --api-key or MOCKSERVER_API_KEY and is never printed; fuzz sends only GET/HEAD/OPTIONS
unless --allow-unsafe-methods and is bounded by --duration and --max-requests; nothing heavy is imported until a
command runs (`mockserver serve` must start fast).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from typing import Any
from urllib.parse import urlsplit

ENV_KEY = "MOCKSERVER_API_KEY"
FUZZ_CASSETTE = "mockserver-fuzz-failures.yaml"


def register(subparsers: Any) -> None:
    """Add `check` and `fuzz` to the CLI's subparsers."""
    check = subparsers.add_parser(
        "check",
        help="check that a running server honours the contract",
        description="Send valid requests (examples, boundary and generated cases) to BASE_URL and check every answer "
        "against the contract. Exit 0 conforming, 1 violations, 2 usage error, unreachable server or broken contract.",
    )
    _common(check, max_examples=20, rate_limit=None)
    check.set_defaults(handler=run_check)

    fuzz = subparsers.add_parser(
        "fuzz",
        help="everything check does, plus invalid requests and stateful sequences, bounded in time",
        description="Like check, plus negative data (wrong types, missing parameters, junk headers) that must get a "
        "4xx and never a 5xx, and stateful sequences where the contract has links. Read-only by default.",
    )
    _common(fuzz, max_examples=100, rate_limit=10.0)
    fuzz.add_argument("--allow-unsafe-methods", action="store_true",
                      help="also send POST/PUT/PATCH/DELETE (never against a deployment you care about)")
    fuzz.add_argument("--max-requests", type=_positive_int, default=600, metavar="N",
                      help="stop after N requests (default: 600)")
    fuzz.add_argument("--duration", type=_positive_float, default=60.0, metavar="S",
                      help="stop after S seconds (default: 60)")
    fuzz.add_argument("--cassette", default=FUZZ_CASSETTE, metavar="PATH",
                      help=f"where failing requests are saved as a VCR cassette, key redacted (default: {FUZZ_CASSETTE})")
    fuzz.set_defaults(handler=run_fuzz)


def _common(parser: argparse.ArgumentParser, *, max_examples: int, rate_limit: float | None) -> None:
    parser.add_argument("base_url", metavar="BASE_URL", help="the server to test; the only host that gets requests")
    parser.add_argument("--spec", default=None, metavar="SPEC", help="OpenAPI file or URL (default: built-in contract)")
    parser.add_argument("--api-key", default=None, metavar="KEY",
                        help=f"credentials, sent where the contract's security scheme says (default: ${ENV_KEY})")
    parser.add_argument("--max-examples", type=_positive_int, default=max_examples, metavar="N",
                        help=f"generated cases per operation and phase (default: {max_examples})")
    parser.add_argument("--seed", type=int, default=None, metavar="N", help="seed, to repeat a run exactly")
    parser.add_argument("--include", action="append", default=[], metavar="PATH_OR_OPERATION",
                        help="test only this path, 'METHOD /path' or operationId (repeatable)")
    parser.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="concurrent requests (default: 1)")
    parser.add_argument("--request-timeout", type=_positive_float, default=10.0, metavar="S",
                        help="seconds for one complete answer (default: 10)")
    default = f"{rate_limit:g}" if rate_limit else "unlimited"
    parser.add_argument("--rate-limit", type=_positive_float, default=rate_limit, metavar="PER_SECOND",
                        help=f"at most this many requests per second (default: {default})")
    parser.add_argument("--junit-xml", default=None, metavar="PATH", help="write a JUnit XML report for CI")
    parser.add_argument("--no-progress", action="store_true", help="no progress display")


def run_check(args: argparse.Namespace) -> int:
    return _run(args, fuzz=False)


def run_fuzz(args: argparse.Namespace) -> int:
    return _run(args, fuzz=True)


def _run(args: argparse.Namespace, *, fuzz: bool) -> int:
    from . import conformance, reporting
    from .spec import SpecError, load_spec

    command = "fuzz" if fuzz else "check"
    key = args.api_key or os.environ.get(ENV_KEY) or None
    problem = _check_base_url(args.base_url)
    if problem:
        print(f"mockserver {command}: {problem}", file=sys.stderr)
        return 2
    try:
        spec = load_spec(args.spec)
    except SpecError as exc:
        print(f"mockserver {command}: {reporting.redact(str(exc), key)}", file=sys.stderr)
        return 2
    plan = conformance.Plan(
        base_url=args.base_url,
        api_key=key,
        fuzz=fuzz,
        max_examples=args.max_examples,
        seed=args.seed if args.seed is not None else random.randrange(2**31),
        include=args.include,
        workers=args.workers,
        request_timeout=args.request_timeout,
        rate_limit=args.rate_limit,
        max_requests=getattr(args, "max_requests", None),
        duration=getattr(args, "duration", None),
        allow_unsafe_methods=getattr(args, "allow_unsafe_methods", False),
    )
    progress = None if args.no_progress else reporting.ProgressDisplay()
    try:
        report = conformance.run(plan, spec.document, on_progress=progress)
    finally:
        if progress is not None:
            progress.close()
    sys.stdout.write(reporting.render(report, f"mockserver {command}", key))
    invocation = "mockserver " + reporting.command_line(sys.argv[1:])
    try:
        if args.junit_xml:
            checks = conformance.FUZZ_CHECKS if fuzz else conformance.CHECKS
            reporting.write_junit(report, args.junit_xml, command, key, checks)
        if fuzz and report.recorders and args.cassette:
            saved = reporting.write_cassette(report, args.cassette, invocation, key)
            print(f"saved {saved} failing scenario(s) to {args.cassette} (replay: st replay {args.cassette})")
    except OSError as exc:
        print(f"mockserver {command}: cannot write report: {exc}", file=sys.stderr)
        return 2
    return report.exit_code


def _check_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"BASE_URL must be an http:// or https:// URL with a host, got {value!r}"
    return ""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    """`python -m mockserver.checking check|fuzz ...`: the two commands without the rest of the CLI."""
    parser = argparse.ArgumentParser(prog="mockserver")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
