"""What a `Report` becomes for people and for CI: the text report, curl lines, JUnit XML, progress.

Rules: everything written goes through `redact`, which replaces the API key, in every form it takes on the wire
(`verdicts.searchable`: as is, URL-encoded, the base64 of a Basic header), with `$MOCKSERVER_API_KEY` wherever it
appears (a server may echo it back in a body). Replacing by value is only safe for a key that cannot be mistaken for
ordinary text, so a key shorter than `verdicts.MIN_SECRET` is refused (`key_problem`). Curl lines put that variable in
double quotes so the shell expands it, and use curl's own spelling of a credential where it has one (`-u`); on the
terminal a long run of one repeated piece is written as a `printf` the shell expands, anything else long is cut
(the JUnit report and the cassette keep every byte), and a request already shown is not printed again. JUnit is
written by `verdicts.write_junit`; the progress display is a handler of the run's events. Report text goes to
stdout, progress to stderr.
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from ..contract import security, verdicts
from ..contract.verdicts import key_problem as key_problem  # the contract suite reads it here
from ..contract.words import count
from . import merge
from .engine.events import Event
from .findings import Finding, Progress, Report, Request
from .plan import SAFE_METHODS
from .shards import Shard

KEY_VARIABLE = "$MOCKSERVER_API_KEY"
# Headers requests adds on its own; a reproduction does not need them
_NOISE = {"user-agent", "accept-encoding", "connection", "content-length", "x-schemathesis-testcaseid"}
CUT = 120  # characters of one value shown in a terminal curl, beyond a repetition written as printf
_REPEATED = re.compile(r"(.{1,40}?)\1{7,}", re.DOTALL)  # a piece repeated 8+ times


def redact(text: str, key: str | None) -> str:
    return verdicts.redact(text, [key], KEY_VARIABLE)


def curl(request: Request, key: str | None, short: bool = False) -> str:
    """A curl command sending `request`; `short` writes long values as printf expansions or cuts them (a terminal)."""
    parts = ["curl", "-X", request.method, _word(request.url, key, short)]
    if has_dot_segment(request.url):
        parts.insert(1, "--path-as-is")  # curl would fold "/a/../b" into "/b" and send another request
    for name, value in request.headers.items():
        if name.lower() in _NOISE or (name.lower() == "accept" and value == "*/*"):
            continue
        own = security.curl_option(name, value, key, KEY_VARIABLE) if key else None
        parts += own if own is not None else ["-H", _word(f"{name}: {value}", key, short)]
    if request.body:
        parts += ["--data-binary", _word(request.body.decode("utf-8", "replace"), key, short)]
    return " ".join(parts)


def has_dot_segment(url: str) -> bool:
    return any(segment in (".", "..") for segment in urlsplit(url).path.split("/"))


def _word(value: str, key: str | None, short: bool) -> str:
    """One shell word: literal text, the key as "$MOCKSERVER_API_KEY" and, when `short`, long repetitions as
    "$(printf ...)"; double-quoted as soon as the shell has something to expand."""
    pieces: list[tuple[str, str]] = []  # (kind, text): literal | variable | command
    for index, piece in enumerate(_secrets(key).split(value) if key else [value]):
        if index:
            pieces.append(("variable", KEY_VARIABLE))
        pieces += _shortened(piece) if short else [("literal", piece)]
    if all(kind == "literal" for kind, _ in pieces):
        return shlex.quote(value if not short else "".join(text for _, text in pieces))
    # Double quotes, so the shell fills in the variable and the printf, and nothing else
    out = []
    for kind, text in pieces:
        out.append(text if kind != "literal" else "".join("\\" + ch if ch in '"\\`$' else ch for ch in text))
    return '"' + "".join(out) + '"'


def _shortened(text: str) -> list[tuple[str, str]]:
    """Literal text with each long repetition as a printf the shell expands, cut at `CUT` characters."""
    pieces: list[tuple[str, str]] = []
    last = 0
    for found in _REPEATED.finditer(text):
        unit = found.group(1)
        if len(found.group(0)) < 40:
            continue
        pieces.append(("literal", text[last : found.start()]))
        times = len(found.group(0)) // len(unit)
        fmt = unit.replace("\\", "\\\\").replace("%", "%%") + "%.0s"
        pieces.append(("command", f"$(printf {shlex.quote(fmt)} $(seq {times}))"))
        last = found.start() + times * len(unit)
    pieces.append(("literal", text[last:]))
    cut = []
    for kind, piece in pieces:
        if kind == "literal" and len(piece) > CUT:
            piece = f"{piece[: CUT // 2]}…[{len(piece) - CUT // 2} more characters; see the JUnit report]"
        if piece:
            cut.append((kind, piece))
    return cut


def _secrets(key: str) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(secret) for secret in verdicts.searchable([key])))


def render(report: Report, command: str, key: str | None) -> str:
    lines: list[str] = []
    by_operation: dict[str, dict[str, list[Finding]]] = {}
    for finding in report.findings:
        by_operation.setdefault(finding.operation, {}).setdefault(finding.check, []).append(finding)
    shown: dict[str, int] = {}  # curl -> the number of the finding that showed it
    number = 0
    for operation, checks in by_operation.items():
        lines.append(f"{operation}")
        for check, findings in checks.items():
            lines.append(f"  {check}: {len(findings)} distinct failure{'s' if len(findings) != 1 else ''}")
            for finding in findings:
                number += 1
                seen = f" (seen {finding.count} times)" if finding.count > 1 else ""
                lines.append(f"    [{number}] {finding.title}{seen}")
                if finding.cause:
                    lines.append(f"      Cause: {finding.cause}")
                for line in finding.message.splitlines()[:12] if finding.message != finding.title else []:
                    lines.append(f"      {line}")
                if finding.received:
                    lines.append(f"      Received: {finding.received}")
                if len(finding.inputs) > 1:
                    more = f" (first {len(finding.inputs)})" if finding.count > len(finding.inputs) else ""
                    lines.append(f"      Inputs{more}: {'; '.join(_short_input(i) for i in finding.inputs)}")
                if finding.request is not None:
                    command_line = curl(finding.request, key, short=True)
                    if command_line in shown:
                        lines.append(f"      Reproduce: the request of [{shown[command_line]}]")
                    else:
                        shown[command_line] = number
                        lines.append(f"      Reproduce: {command_line}")
        lines.append("")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    for operation, reason in report.untested.items():
        lines.append(f"untested: {operation}: {reason}")
    if report.skipped:
        lines.append(f"skipped as unsafe (not GET/HEAD/OPTIONS; --allow-unsafe-methods sends them, on a disposable "
                     f"test server): {skipped_summary(report.skipped).split(':', 1)[0]}")  # fmt: skip
        lines += [f"  skipped: {key}" for key in report.skipped]
    if report.short:
        lines.append(f"inconclusive: boundary cases: {report.short}")
    for error in report.errors:
        lines.append(f"error: {error}")
    lines.append(summary(report, command))
    return redact("\n".join(lines), key) + "\n"


def _short_input(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def summary(report: Report, command: str) -> str:
    operations = len(report.operations)
    checks = {(f.operation, f.check) for f in report.findings}
    verdict = merge.VERDICTS[report.exit_code]
    stopped = f", stopped early: {report.stopped}" if report.stopped else ""
    seed = f", seed {report.seed}" if report.seed is not None else ""
    untested = f" ({len(report.untested)} not fully tested)" if report.untested else ""
    reached = f", {len(report.reached)} of {operations} reached" if report.reached is not None else ""
    sent, planned = report.boundary
    boundary = f", {sent} of {count(planned, 'boundary case')} sent" if planned else ""
    skipped = f", {len(report.skipped)} skipped as unsafe" if report.skipped else ""
    return (
        f"{command} {verdict}: {count(len(report.findings), 'distinct failure')} in {count(len(checks), 'check')}, "
        f"{count(operations, 'operation')}{untested}{reached}{boundary}{skipped}, "
        f"{count(report.requests, 'request')} to {report.base_url} in {report.seconds:.1f} s{seed}{stopped}"
    )


def start_line(report: Report, command: str) -> str:
    """What a run is about to send, for stderr before the first request."""
    methods = ", ".join(report.methods) or "nothing"
    safe = all(method in SAFE_METHODS for method in report.methods)
    line = (f"{command}: {count(len(report.operations), 'operation')} at {report.base_url}; methods sent: {methods}"
            f"{' (read-only)' if safe else ' (--allow-unsafe-methods: this can change the server)'}")  # fmt: skip
    if report.skipped:
        line += f"; skipped as unsafe: {skipped_summary(report.skipped)}"
    return line


FIRST_FEW = 5  # skipped operations named on the start-up line; the report lists them all


def skipped_summary(skipped: list[str]) -> str:
    """A line that stays readable on a large contract: "3 (POST 2, DELETE 1): POST /a, POST /b, DELETE /c"; beyond
    `FIRST_FEW`, the first few and "..." (the report, text and JUnit, lists every one)."""
    methods = Counter(key.split(" ", 1)[0] for key in skipped)
    by_method = ", ".join(f"{method} {n}" for method, n in methods.most_common())
    shown = ", ".join(skipped[:FIRST_FEW]) + (f", ... (all {len(skipped)} in the report)"
                                               if len(skipped) > FIRST_FEW else "")  # fmt: skip
    return f"{len(skipped)} ({by_method}): {shown}"


def write_junit(
    report: Report, path: str | Path, command: str, key: str | None, checks: tuple[str, ...], shard: Shard | None = None
) -> None:
    """One testcase per operation and check; each distinct failure is one <failure> in it. The suite's properties
    carry what `report merge` needs from a shard: which one it was, the seed, how many operations, the exit code
    (`verdicts.write_junit` writes it)."""
    properties = [(name, str(value)) for name, value in ((merge.SHARD, shard), (merge.SEED, report.seed),
                  (merge.OPERATIONS, len(report.operations)), (merge.REQUESTS, report.requests))
                  if value is not None]  # fmt: skip
    if report.reached is not None:
        properties.append(("reached", str(len(report.reached))))
    if report.boundary[1]:
        properties += [("boundary-sent", str(report.boundary[0])), ("boundary-planned", str(report.boundary[1]))]
    properties.append(("verdict", merge.VERDICTS[report.exit_code]))
    properties += [(merge.UNTESTED, operation) for operation in report.untested]
    suite = verdicts.Suite(f"mockserver {command}", report.exit_code, properties=properties, seconds=report.seconds)
    names = list(dict.fromkeys([*checks, *(f.check for f in report.findings)]))
    for operation in report.operations or sorted({f.operation for f in report.findings}):
        for check in names:
            case = verdicts.Case(operation, check)
            for finding in (f for f in report.findings if f.operation == operation and f.check == check):
                text = [finding.message]
                if finding.received:
                    text.append(f"Received: {finding.received}")
                if finding.inputs:
                    text.append(f"Inputs ({finding.count} in all): " + "; ".join(finding.inputs))
                if finding.request is not None:
                    text.append(f"Reproduce: {curl(finding.request, key)}")
                case.failures.append(verdicts.Failure(redact(finding.title, key), check, redact("\n".join(text), key)))
            suite.cases.append(case)
    for operation, reason in report.untested.items():
        suite.cases.append(verdicts.Case(operation, "untested", error=redact(f"not fully tested: {reason}", key)))
    for operation in report.skipped:
        message = "not GET/HEAD/OPTIONS; sent only with --allow-unsafe-methods"
        suite.cases.append(verdicts.Case(operation, "read-only", skipped=message))
    if report.short:
        suite.cases.append(verdicts.Case(verdicts.RUN, "coverage", error=f"inconclusive: {report.short}"))
    for error in report.errors:
        suite.cases.append(verdicts.Case(verdicts.RUN, "run", error=redact(error, key)))
    verdicts.write_junit(path, suite, lambda text: redact(text, key))


class ProgressDisplay:
    """One self-rewriting line on a terminal; on a pipe (CI logs) one line per phase once it is over, with the
    requests it sent itself, so that the lines add up to the summary's count ("setup": the requests before the first
    phase, such as the reachability check and the probes without credentials)."""

    def __init__(self, stream: IO[str] | None = None, interactive: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.current: Progress | None = None
        self.last = 0.0

    def __call__(self, progress: Event) -> None:
        if not isinstance(progress, Progress):
            return
        if self.interactive:
            now = time.monotonic()
            if now - self.last >= 0.1:
                self.last = now
                self.stream.write("\r\x1b[K" + self.line(progress, progress.requests))
                self.stream.flush()
        elif self.current is not None and progress.phase != self.current.phase:
            self.write(self.current, progress.since)
        self.current = progress

    def write(self, phase: Progress, until: int) -> None:
        if phase.phase or until > phase.since:
            self.stream.write(self.line(phase, until) + "\n")
            self.stream.flush()

    @staticmethod
    def line(progress: Progress, until: int) -> str:
        return (f"{progress.phase or 'setup'}: {until - progress.since} requests ({until} in all), "
                f"{progress.findings} failures, {progress.seconds:.0f} s")  # fmt: skip

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        elif self.current is not None:
            self.write(self.current, self.current.requests)
            self.current = None


def command_line(argv: list[str] | Any) -> str:
    """How the run was invoked, for cassette headers and reports: `--api-key VALUE` is dropped."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--api-key":
            skip = True
            continue
        if str(arg).startswith("--api-key="):
            continue
        out.append(str(arg))
    return " ".join(shlex.quote(a) for a in out)
