"""What a `Report` becomes for people and for CI: the text report, curl lines, JUnit XML, a VCR cassette, progress.

Rules: everything written goes through `redact`, which replaces the API key, in every form it takes on the wire
(`security.wire_forms`: as is, URL-encoded, the base64 of a Basic header), with `$MOCKSERVER_API_KEY` wherever it
appears (a server may echo it back in a body); curl lines put that variable in double quotes so the shell expands
it, and use curl's own spelling of a credential where it has one (`-u`). Report text goes to stdout, progress to
stderr.
"""

from __future__ import annotations

import io
import re
import shlex
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO, Any

from ..contract import security
from . import engine
from .findings import Finding, Progress, Report, Request

KEY_VARIABLE = "$MOCKSERVER_API_KEY"
# Headers requests adds on its own; a reproduction does not need them
_NOISE = {"user-agent", "accept-encoding", "connection", "content-length", "x-schemathesis-testcaseid"}


def redact(text: str, key: str | None) -> str:
    return _secrets(key).sub(lambda _: KEY_VARIABLE, text) if key else text


def curl(request: Request, key: str | None) -> str:
    parts = ["curl", "-X", request.method, _quote(request.url, key)]
    for name, value in request.headers.items():
        if name.lower() in _NOISE or (name.lower() == "accept" and value == "*/*"):
            continue
        own = security.curl_option(name, value, key, KEY_VARIABLE) if key else None
        parts += own if own is not None else ["-H", _quote(f"{name}: {value}", key)]
    if request.body:
        parts += ["--data-binary", _quote(request.body.decode("utf-8", "replace"), key)]
    return " ".join(parts)


def _quote(value: str, key: str | None) -> str:
    pieces = _secrets(key).split(value) if key else [value]
    if len(pieces) == 1:
        return shlex.quote(value)
    # Double quotes, so the shell fills in the variable and nothing else
    escaped = ["".join("\\" + ch if ch in '"\\`$' else ch for ch in piece) for piece in pieces]
    return '"' + KEY_VARIABLE.join(escaped) + '"'


def _secrets(key: str) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(secret) for secret in security.wire_forms(key)))


def render(report: Report, command: str, key: str | None) -> str:
    lines: list[str] = []
    by_operation: dict[str, dict[str, list[Finding]]] = {}
    for finding in report.findings:
        by_operation.setdefault(finding.operation, {}).setdefault(finding.check, []).append(finding)
    for operation, checks in by_operation.items():
        lines.append(f"{operation}")
        for check, findings in checks.items():
            lines.append(f"  {check}: {len(findings)} distinct failure{'s' if len(findings) != 1 else ''}")
            for finding in findings:
                seen = f" (seen {finding.count} times)" if finding.count > 1 else ""
                lines.append(f"    - {finding.title}{seen}")
                for line in finding.message.splitlines()[:12]:
                    lines.append(f"      {line}")
                if finding.received:
                    lines.append(f"      Received: {finding.received}")
                if finding.request is not None:
                    lines.append(f"      Reproduce: {curl(finding.request, key)}")
        lines.append("")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    for error in report.errors:
        lines.append(f"error: {error}")
    lines.append(summary(report, command))
    return redact("\n".join(lines), key) + "\n"


def summary(report: Report, command: str) -> str:
    operations = len(report.operations)
    checks = {(f.operation, f.check) for f in report.findings}
    if report.errors:
        verdict = "ERROR"
    elif report.findings:
        verdict = "FAILED"
    else:
        verdict = "PASSED"
    stopped = f", stopped early: {report.stopped}" if report.stopped else ""
    seed = f", seed {report.seed}" if report.seed is not None else ""
    return (
        f"{command} {verdict}: {len(report.findings)} distinct failure(s) in {len(checks)} check(s), "
        f"{operations} operation(s), {report.requests} request(s) to {report.base_url} "
        f"in {report.seconds:.1f} s{seed}{stopped}"
    )


def write_junit(report: Report, path: str | Path, command: str, key: str | None, checks: tuple[str, ...]) -> None:
    """One testcase per operation and check; each distinct failure is one <failure> in it."""
    suite = ET.Element("testsuite", name=f"mockserver {command}", time=f"{report.seconds:.3f}")
    cases = failures = 0
    names = list(dict.fromkeys([*checks, *(f.check for f in report.findings)]))
    for operation in report.operations or sorted({f.operation for f in report.findings}):
        for check in names:
            found = [f for f in report.findings if f.operation == operation and f.check == check]
            case = ET.SubElement(suite, "testcase", classname=operation, name=check)
            cases += 1
            for finding in found:
                failures += 1
                text = [finding.message]
                if finding.received:
                    text.append(f"Received: {finding.received}")
                if finding.request is not None:
                    text.append(f"Reproduce: {curl(finding.request, key)}")
                failure = ET.SubElement(case, "failure", message=redact(finding.title, key), type=check)
                failure.text = redact("\n".join(text), key)
    for error in report.errors:
        case = ET.SubElement(suite, "testcase", classname="run", name="run")
        ET.SubElement(case, "error", message=redact(error, key))
        cases += 1
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", str(len(report.errors)))
    root = ET.Element("testsuites")
    root.append(suite)
    data = ET.tostring(root, encoding="unicode")
    Path(path).write_text(redact('<?xml version="1.0" encoding="utf-8"?>\n' + data, key) + "\n", encoding="utf-8")


def write_cassette(report: Report, path: str | Path, command: str, key: str | None) -> int:
    """The failing scenarios as a VCR cassette (`st replay` reads it); returns how many."""
    buffer = io.StringIO()
    engine.write_vcr(report.recorders, buffer, report.seed, command)
    # Sanitisation already filters credential-looking headers; the key can still hide elsewhere (an echoed body)
    Path(path).write_text(redact(buffer.getvalue(), key), encoding="utf-8")
    return len(report.recorders)


class ProgressDisplay:
    """One self-rewriting line on a terminal; a plain line per phase otherwise (CI logs)."""

    def __init__(self, stream: IO[str] | None = None, interactive: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.phase = ""
        self.last = 0.0

    def __call__(self, progress: Progress) -> None:
        text = (
            f"{progress.phase or 'done'}: {progress.requests} requests, {progress.findings} failures, "
            f"{progress.seconds:.0f} s"
        )
        if self.interactive:
            now = time.monotonic()
            if now - self.last >= 0.1:
                self.last = now
                self.stream.write("\r\x1b[K" + text)
                self.stream.flush()
        elif progress.phase != self.phase:
            self.stream.write(text + "\n")
            self.stream.flush()
        self.phase = progress.phase

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


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
