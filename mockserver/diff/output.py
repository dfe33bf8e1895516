"""The report of a diff, in each of its forms: text for a terminal, JSON for tools, markdown for a pull request
comment, JUnit XML for CI. Each is a function of the `Result` alone.

Rules: changes are grouped by operation, ERR before WARN before INFO, each with its level, rule, reason and where it
is in OLD and NEW. "Breaking" means what fails the run: ERR, and WARN with `--fail-on warn`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..contract import verdicts
from .rules import ERR, LEVELS, WARN, Change


@dataclass
class Result:
    old: str
    new: str
    changes: list[Change]
    fail_on: str = ERR
    ignored: list[tuple[Change, str]] = field(default_factory=list)  # accepted by the ignore file, with its reason

    def __post_init__(self) -> None:
        order = {level: i for i, level in enumerate(LEVELS)}
        self.changes.sort(key=lambda c: (c.operation, order[c.level], c.rule, c.pointer, c.message))

    def breaks(self, change: Change) -> bool:
        return change.level == ERR or (self.fail_on == WARN and change.level == WARN)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if self.breaks(c)]

    @property
    def non_breaking(self) -> list[Change]:
        return [c for c in self.changes if not self.breaks(c)]

    def counts(self) -> dict[str, int]:
        return {level: sum(1 for c in self.changes if c.level == level) for level in LEVELS}

    def summary(self) -> str:
        counts = self.counts()
        verdict = f"{len(self.breaking)} breaking" if self.breaking else "no breaking change"
        parts = ", ".join(f"{counts[level]} {level}" for level in LEVELS)
        ignored = f", {len(self.ignored)} ignored" if self.ignored else ""
        return f"{verdict} ({parts}{ignored})"


def _by_operation(changes: list[Change]) -> dict[str, list[Change]]:
    grouped: dict[str, list[Change]] = {}
    for change in changes:
        grouped.setdefault(change.operation or "(document)", []).append(change)
    return grouped


def text(result: Result) -> str:
    lines = [f"mockserver diff {result.old} -> {result.new}: {result.summary()}"]
    for operation, changes in _by_operation(result.changes).items():
        lines.append("")
        lines.append(operation)
        for change in changes:
            lines.append(f"  {change.level:<4} {change.rule}: {change.message}")
            lines.append(f"       old: {change.old_pointer or '-'}  new: {change.new_pointer or '-'}")
    if result.ignored:
        lines.append("")
        lines.append("ignored (accepted in the ignore file)")
        for change, reason in result.ignored:
            lines.append(f"  {change.level:<4} {change.rule} {change.operation}: {change.message} ({reason})")
    return "\n".join(lines) + "\n"


def as_json(result: Result) -> str:
    document = {
        "breaking": [c.as_dict() for c in result.breaking],
        "non_breaking": [c.as_dict() for c in result.non_breaking],
        "ignored": [{**c.as_dict(), "reason": reason} for c, reason in result.ignored],
    }
    return json.dumps(document, indent=2) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def markdown(result: Result) -> str:
    icon = ":x:" if result.breaking else ":white_check_mark:"
    lines = [f"### {icon} API contract: {result.summary()}", "", f"`{result.old}` → `{result.new}`", ""]
    if result.breaking:
        lines += ["| level | operation | change | rule | where (new) |", "|---|---|---|---|---|"]
        for c in result.breaking:
            lines.append(
                f"| {c.level} | `{_cell(c.operation)}` | {_cell(c.message)} | `{c.rule}` | `{_cell(c.pointer)}` |"
            )
        lines.append("")
    rest = result.non_breaking
    if rest:
        lines += [f"<details><summary>{len(rest)} other change(s)</summary>", ""]
        lines += ["| level | operation | change | rule |", "|---|---|---|---|"]
        for c in rest:
            lines.append(f"| {c.level} | `{_cell(c.operation)}` | {_cell(c.message)} | `{c.rule}` |")
        lines += ["", "</details>", ""]
    if result.ignored:
        lines += [f"<details><summary>{len(result.ignored)} accepted change(s)</summary>", ""]
        for c, reason in result.ignored:
            lines.append(f"- `{c.rule}` `{_cell(c.operation)}`: {_cell(c.message)} — {_cell(reason)}")
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def suite(result: Result, exit_code: int) -> verdicts.Suite:
    """One test case per operation (classname the operation, name "compatibility"); each breaking change of it is a
    failure, the other changes its output. A diff with no change is one passing case, so CI shows it ran."""
    cases = []
    for operation, changes in _by_operation(result.changes).items():
        failures = [verdicts.Failure(f"{c.rule}: {c.message}", c.level, f"old {c.old_pointer or '-'}\nnew "
                                     f"{c.new_pointer or '-'}") for c in changes if result.breaks(c)]  # fmt: skip
        notes = "\n".join(f"{c.level} {c.rule}: {c.message}" for c in changes if not result.breaks(c))
        cases.append(verdicts.Case(operation, "compatibility", failures, output=notes or None))
    if not cases:
        cases.append(verdicts.Case(verdicts.RUN, "compatibility"))
    properties = [("old", result.old), ("new", result.new), ("fail-on", result.fail_on)]
    return verdicts.Suite("mockserver diff", exit_code, cases, properties)


FORMATS = {"text": text, "json": as_json, "markdown": markdown}
