"""`mockserver report merge OUT.xml IN.xml ...`: the JUnit files of a sharded run's jobs become one file and one
verdict, from the files alone (no contract, no server).

Rules: every test case is kept as written, test suites of the same name are joined and their totals recounted from
the cases; a shard's verdict is its `exit-code` property (written by `check`/`fuzz --junit-xml`), else what its
cases say (a pytest file: a failure is 1, an error 2). The merged exit code: violations in any shard 1; else a
shard that could not run, a missing or repeated shard, or an unreadable file 2; else an inconclusive shard 3; else 0.
Nothing is written when an input cannot be read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..contract import verdicts
from ..contract.verdicts import EXIT_CODE
from ..contract.words import count
from .findings import ERROR, FAILED, INCONCLUSIVE, PASSED
from .shards import Shard, ShardError, parse

VERDICTS = {PASSED: "PASSED", FAILED: "FAILED", ERROR: "ERROR", INCONCLUSIVE: "INCONCLUSIVE"}
# How merged exit codes rank: a violation is the news, then a run that could not be trusted, then one left unfinished
_RANK = (FAILED, ERROR, INCONCLUSIVE, PASSED)

SHOWN = 50  # failures and errors listed in the text summary; the merged file has them all
# <property> names `reporting.write_junit` writes on its <testsuite>
SHARD, SEED, OPERATIONS, UNTESTED, REQUESTS = "shard", "seed", "operations", "inconclusive", "requests"


EXIT_CODES = """exit codes:
  0  every shard passed
  1  violations in any shard
  2  else: a shard exited 2, a shard is missing or repeated, or an input cannot be read
  3  else: a shard was inconclusive (some operation could not be tested)"""


class MergeError(Exception):
    """A file that cannot be read as JUnit, or written: `str(exc)` names the file and the reason."""


@dataclass
class Part:
    """One input file: its test suites and what its properties say."""

    path: str
    suites: list[ET.Element]
    shard: Shard | None = None
    seed: str | None = None
    exit_code: int = PASSED
    operations: int | None = None
    requests: int | None = None  # what left for the server, counted by the session
    untested: list[str] = field(default_factory=list)
    cases: int = 0
    failures: int = 0
    errors: int = 0

    @property
    def label(self) -> str:
        return f"shard {self.shard}" if self.shard else Path(self.path).name


@dataclass
class Merged:
    root: ET.Element
    parts: list[Part]
    exit_code: int
    problems: list[str]  # each makes the merge exit 2 at least
    warnings: list[str]


def read(path: str) -> Part:
    try:
        root = ET.parse(path).getroot()
    except OSError as exc:
        raise MergeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ET.ParseError as exc:
        raise MergeError(f"{path}: line {exc.position[0]}: not well-formed XML ({exc})") from None
    if root.tag == "testsuite":
        suites = [root]
    elif root.tag == "testsuites":
        suites = root.findall("testsuite")
    else:
        raise MergeError(f"{path}: /{root.tag}: not a JUnit report (expected <testsuites> or <testsuite>)")
    part = Part(path, suites)
    for suite in suites:
        for prop in suite.iterfind("properties/property"):
            _read_property(part, prop.get("name", ""), prop.get("value", ""))
        for case in suite.iter("testcase"):
            part.cases += 1
            part.failures += len(case.findall("failure"))
            part.errors += len(case.findall("error"))
    codes = [int(p.get("value", "")) for s in suites for p in s.iterfind("properties/property")
             if p.get("name") == EXIT_CODE and p.get("value", "").isdigit()]  # fmt: skip
    if codes:
        part.exit_code = _worst(codes)
    elif part.failures:
        part.exit_code = FAILED
    elif part.errors:
        part.exit_code = ERROR
    return part


def _read_property(part: Part, name: str, value: str) -> None:
    if name == SHARD:
        try:
            part.shard = parse(value)
        except ShardError as exc:
            raise MergeError(f"{part.path}: property {SHARD}: {exc}") from None
    elif name == SEED:
        part.seed = value
    elif name == OPERATIONS and value.isdigit():
        part.operations = (part.operations or 0) + int(value)
    elif name == REQUESTS and value.isdigit():
        part.requests = (part.requests or 0) + int(value)
    elif name == UNTESTED and value:
        part.untested.append(value)


def _worst(codes: list[int]) -> int:
    for code in _RANK:
        if code in codes:
            return code
    return ERROR  # a code we do not know (a crash, a signal) is not a pass


def merge(parts: list[Part]) -> Merged:
    parts = sorted(parts, key=_order)
    problems: list[str] = []
    warnings: list[str] = []
    sharded = [p for p in parts if p.shard is not None]
    totals = sorted({p.shard.total for p in sharded if p.shard})
    if len(totals) > 1:
        cuts = ", ".join(map(str, totals))
        problems.append(f"the files come from runs cut into different numbers of shards: {cuts}")
    elif totals:
        seen = Counter(p.shard.index for p in sharded if p.shard)
        twice = [f"{i}/{totals[0]}" for i, n in sorted(seen.items()) if n > 1]
        missing = [f"{i}/{totals[0]}" for i in range(1, totals[0] + 1) if i not in seen]
        if twice:
            problems.append(f"shard {', '.join(twice)} given more than once")
        if missing:
            problems.append(f"shard {', '.join(missing)} missing: its operations were not checked")
    if sharded and len(sharded) < len(parts):
        names = ", ".join(p.path for p in parts if p.shard is None)
        warnings.append(f"merged with files that are not shards of a run: {names}")
    seeds = {p.seed for p in parts}
    if len(seeds) > 1:
        listed = ", ".join(f"{p.label} seed {p.seed or '(none)'}" for p in parts)
        warnings.append(f"the shards ran with different seeds ({listed}): pass the same --seed to every job")
    root, duplicated = _join(parts)
    if duplicated:
        verb = "appears" if duplicated == 1 else "appear"
        warnings.append(f"{count(duplicated, 'test case')} {verb} in more than one file: were the shards run with "
                        "the same contract and options?")  # fmt: skip
    codes = [p.exit_code for p in parts] + ([ERROR] if problems else [])
    exit_code = _worst(codes)
    for suite in root.iter("testsuite"):
        _set_properties(suite, parts, exit_code, seeds)
    return Merged(root, parts, exit_code, problems, warnings)


def _join(parts: list[Part]) -> tuple[ET.Element, int]:
    """One <testsuite> per suite name (`verdicts.join`); a run-level error is one per shard, told apart by it."""
    return verdicts.join([(part.suites, f"shard {part.shard}" if part.shard is not None else "") for part in parts])


def _order(part: Part) -> tuple[int, str]:
    return (part.shard.index if part.shard else 0, part.path)


def _set_properties(suite: ET.Element, parts: list[Part], exit_code: int, seeds: set[str | None]) -> None:
    props = suite.find("properties")
    assert props is not None
    totals = {p.shard.total for p in parts if p.shard}
    if len(totals) == 1:
        ET.SubElement(props, "property", name="shards", value=str(totals.pop()))
    if len(seeds) == 1 and None not in seeds:
        ET.SubElement(props, "property", name=SEED, value=str(next(iter(seeds))))
    counted = [p.operations for p in parts if p.operations is not None]
    if counted:
        ET.SubElement(props, "property", name=OPERATIONS, value=str(sum(counted)))
    sent = [p.requests for p in parts if p.requests is not None]
    if sent:
        ET.SubElement(props, "property", name=REQUESTS, value=str(sum(sent)))
    ET.SubElement(props, "property", name=EXIT_CODE, value=str(exit_code))
    for part in parts:
        for operation in part.untested:
            ET.SubElement(props, "property", name=UNTESTED, value=operation)


def render(merged: Merged, out: str) -> str:
    lines = []
    for part in merged.parts:
        operations = f"{count(part.operations, 'operation')}, " if part.operations is not None else ""
        seed = f", seed {part.seed}" if part.seed else ""
        lines.append(
            f"{part.label}: {VERDICTS.get(part.exit_code, f'exit {part.exit_code}')}, {operations}"
            f"{count(part.cases, 'test case')}, {count(part.failures, 'failure')}, {count(part.errors, 'error')}{seed} "
            f"({part.path})"
        )
    failed = [
        (case, problem)
        for case in merged.root.iter("testcase")
        for problem in [*case.findall("failure"), *case.findall("error")]
    ]
    if failed:
        lines.append("")
    for case, problem in failed[:SHOWN]:
        where = " ".join(x for x in (case.get("classname", ""), case.get("name", "")) if x)
        lines.append(f"{problem.tag}: {where}: {problem.get('message', '').strip() or '(no message)'}")
    if len(failed) > SHOWN:
        lines.append(f"... and {len(failed) - SHOWN} more failures and errors: every one is in {out}")
    untested = [op for part in merged.parts for op in part.untested]
    if untested:
        lines.append(f"inconclusive: {count(len(untested), 'operation')} left untested: {', '.join(untested)}")
    lines.extend(f"warning: {warning}" for warning in merged.warnings)
    lines.extend(f"error: {problem}" for problem in merged.problems)
    cases = sum(p.cases for p in merged.parts)
    failures = sum(p.failures for p in merged.parts)
    shards = {p.shard.total for p in merged.parts if p.shard}
    total = shards.pop() if len(shards) == 1 else None
    where = f"{len(merged.parts)} of {count(total, 'shard')}" if total else count(len(merged.parts), "file")
    seeds = {p.seed for p in merged.parts}
    seed = f", seed {seeds.pop()}" if len(seeds) == 1 and None not in seeds else ""
    lines.append(
        f"mockserver report merge {VERDICTS.get(merged.exit_code, 'ERROR')}: {count(failures, 'failure')} in "
        f"{count(cases, 'test case')} from {where}{seed}; wrote {out} (exit {merged.exit_code})"
    )
    return "\n".join(lines) + "\n"


def write(merged: Merged, out: str | Path) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(merged.root)
    data = ET.tostring(merged.root, encoding="unicode")
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + data + "\n", encoding="utf-8")


def main(out: str, inputs: list[str]) -> tuple[int, str]:
    """Merge `inputs` into `out`: the exit code and the text summary. `MergeError` when nothing could be written."""
    if any(Path(out).resolve() == Path(name).resolve() for name in inputs):
        raise MergeError(f"{out} is also an input: write the merged report elsewhere")
    merged = merge([read(name) for name in inputs])
    try:
        write(merged, out)
    except OSError as exc:
        raise MergeError(f"{out}: cannot write: {exc.strerror or exc}") from None
    return merged.exit_code, render(merged, out)
