"""`mockserver diff OLD NEW`: its arguments, and the run from sources to an exit code.

Rules: exit 1 when a breaking change is left (ERR, or WARN with `--fail-on warn`) after the ignore file, 0 when
none, 2 when an input cannot be read (one line: file, pointer or line, reason; no traceback). The report goes to
stdout in the chosen format; the JUnit file is written whatever the verdict.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any
from urllib.parse import urlsplit

from ..contract import documents, verdicts
from ..contract.documents import DocumentError
from . import ignore, output
from .model import Contract
from .operations import compare
from .rules import ERR, WARN, Change

USAGE_ERROR = 2
EXIT_CODES = """exit codes:
  0  no breaking change (after the ignore file)
  1  breaking changes: an ERR, or a WARN with --fail-on warn
  2  an input cannot be read (file, pointer or line, reason)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD", help="the contract clients were written against (file or URL)")
    parser.add_argument("new", metavar="NEW", help="the contract that replaces it (file or URL, e.g. a live "
                        "/openapi.json)")  # fmt: skip
    parser.add_argument("--format", choices=sorted(output.FORMATS), default="text", help="the report on stdout "
                        "(default: text; markdown for a pull request comment)")  # fmt: skip
    parser.add_argument("--junit-xml", metavar="PATH", help="also write a JUnit XML report (folders created)")
    parser.add_argument("--fail-on", choices=("err", "warn"), default="err", type=str.lower,
                        help="the lowest level that fails the run (default: err)")  # fmt: skip
    parser.add_argument("--ignore", metavar="FILE", help="accepted changes: a YAML/JSON list of {rule, pointer, "
                        "reason[, operation]}")  # fmt: skip


def diff(old_source: str, new_source: str) -> list[Change]:
    """Every change from the contract at `old_source` to the one at `new_source` (DocumentError if unreadable)."""
    old = Contract(documents.load(old_source), old_source)
    new = Contract(documents.load(new_source), new_source)
    return compare(old, new)


def result(old_source: str, new_source: str, fail_on: str = ERR, ignore_file: str | None = None) -> output.Result:
    entries = ignore.load(ignore_file) if ignore_file else []
    kept, ignored = ignore.split(diff(old_source, new_source), entries)
    for entry in entries:
        if not entry.used:
            print(f"mockserver: note: {ignore_file}: line {entry.line}: {entry.rule} at {entry.pointer} matched no "
                  "change (accepted change no longer there?)", file=sys.stderr)  # fmt: skip
    return output.Result(old_source, new_source, kept, fail_on, ignored)


def run(args: argparse.Namespace) -> int:
    fail_on = WARN if args.fail_on == "warn" else ERR
    try:
        found = result(args.old, args.new, fail_on, args.ignore)
    except DocumentError as exc:
        print(f"mockserver: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    code = 1 if found.breaking else 0
    sys.stdout.write(output.FORMATS[args.format](found))
    if args.junit_xml:
        try:
            verdicts.write_junit(args.junit_xml, output.suite(found, code))
        except OSError as exc:
            print(f"mockserver: error: {args.junit_xml}: {exc.strerror or exc}", file=sys.stderr)
            return code or USAGE_ERROR  # an unwritable report is an error, but never hides a breaking change
    return code


def live_drift(pinned: str, live: str, base_url: str) -> tuple[int, str]:
    """`check --compare-contract`: whether the server's own published contract (`live`, a file or a URL on
    BASE_URL's host: a check sends nothing elsewhere) still honours the pinned one. Exit code and report (the
    breaking items listed, the others counted): 1 when one breaks clients, 2 when either cannot be read."""
    if documents.is_url(live) and urlsplit(live)[:2] != urlsplit(base_url)[:2]:
        return USAGE_ERROR, f"--compare-contract {live}: a URL must be on BASE_URL's host ({base_url}), or a file\n"
    try:
        found = result(pinned, live)
    except DocumentError as exc:
        return USAGE_ERROR, f"--compare-contract: {exc}\n"
    lines = [f"contract drift {pinned} -> {live}: {found.summary()}"]
    for change in found.breaking:
        lines.append(f"  {change.level} {change.operation}: {change.rule}: {change.message} ({change.pointer})")
    return (1 if found.breaking else 0), "\n".join(lines) + "\n"


def add(subparsers: Any, name: str) -> None:
    """The `diff` entry of the command table (`cli.COMMANDS`)."""
    parser = subparsers.add_parser(name, help=HELP, description=textwrap.fill(DESCRIPTION, 100), epilog=EXIT_CODES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_arguments(parser)


def run_command(args: argparse.Namespace, argv: list[str] | None) -> int:
    return run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockserver diff", description=DESCRIPTION, epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_arguments(parser)
    return run(parser.parse_args(argv))


HELP = "breaking changes between two OpenAPI contracts (OLD -> NEW)"
DESCRIPTION = (
    "Compare two OpenAPI 3.0/3.1 contracts operation by operation and classify each change as oasdiff does: ERR "
    "breaks clients, WARN might, INFO does not. $ref refactors, key order, JSON vs YAML and description or example "
    "edits are not changes."
)
