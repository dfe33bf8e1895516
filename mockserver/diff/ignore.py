"""Accepted changes: an ignore file lists changes a team has agreed to (by rule and pointer), each with its reason.

Rules: the file is YAML or JSON, a list of entries `{rule, pointer, reason[, operation]}`. `pointer` matches a change
whose pointer in OLD or NEW is it, lies under it, or fits it as a glob (`*`). A mistake in the file (unknown rule, a
missing reason, an unknown key) stops the run with the file, the line and the reason: an ignore file that silently
ignores nothing is worse than none.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import yaml

from ..contract import documents
from ..contract.documents import DocumentError
from .rules import RULES, Change

_KEYS = {"rule", "pointer", "reason", "operation"}


@dataclass
class Entry:
    rule: str
    pointer: str
    reason: str
    operation: str | None
    line: int
    used: int = 0

    def matches(self, change: Change) -> bool:
        if change.rule != self.rule or (self.operation is not None and self.operation != change.operation):
            return False
        return any(_under(p, self.pointer) for p in (change.old_pointer, change.new_pointer) if p)


def _under(pointer: str, pattern: str) -> bool:
    return pointer == pattern or pointer.startswith(pattern.rstrip("/") + "/") or fnmatchcase(pointer, pattern)


def load(source: str) -> list[Entry]:
    text = documents.read_text(source)
    if not text.strip():
        return []
    data = documents.parse(text, source)
    lines = _lines(text)

    def fail(where: str, reason: str) -> DocumentError:
        line = lines.get(where)
        return DocumentError(source, f"line {line}" if line else where or "", reason)

    if isinstance(data, dict) and set(data) == {"ignore"}:
        data, prefix = data["ignore"], "/ignore"
    else:
        prefix = ""
    if not isinstance(data, list):
        raise fail(prefix, "expected a list of {rule, pointer, reason} entries")
    entries = []
    for i, item in enumerate(data):
        where = f"{prefix}/{i}"
        if not isinstance(item, dict):
            raise fail(where, "an entry must be an object with rule, pointer and reason")
        unknown = sorted(set(map(str, item)) - _KEYS)
        if unknown:
            raise fail(
                f"{where}/{unknown[0]}", f"unknown key {unknown[0]!r} (expected rule, pointer, reason, operation)"
            )
        for key in ("rule", "pointer", "reason"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise fail(where if key not in item else f"{where}/{key}", f"{key!r} must be a non-empty string")
        if item["rule"] not in RULES:
            raise fail(f"{where}/rule", f"unknown rule {item['rule']!r}")
        if not item["pointer"].startswith("/"):
            raise fail(f"{where}/pointer", f"pointer {item['pointer']!r} must be a JSON pointer (start with '/')")
        operation = item.get("operation")
        if operation is not None and not isinstance(operation, str):
            raise fail(f"{where}/operation", "'operation' must be a string like 'GET /pets/{id}'")
        entries.append(Entry(item["rule"], item["pointer"], item["reason"].strip(), operation, lines.get(where, 0)))
    return entries


def split(changes: list[Change], entries: list[Entry]) -> tuple[list[Change], list[tuple[Change, str]]]:
    """The changes no entry accepts, and the accepted ones with their reasons."""
    kept, ignored = [], []
    for change in changes:
        entry = next((e for e in entries if e.matches(change)), None)
        if entry is None:
            kept.append(change)
        else:
            entry.used += 1
            ignored.append((change, entry.reason))
    return kept, ignored


def _lines(text: str) -> dict[str, int]:
    """JSON pointer -> 1-based line of each node, for error messages (empty if the text does not compose)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    found: dict[str, int] = {}
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, pointer = stack.pop()
        if node is None:
            continue
        found.setdefault(pointer, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = f"{pointer}/{documents.escape(str(key.value))}"
                found[child] = key.start_mark.line + 1
                stack.append((value, child))  # the key's line stays: setdefault
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{pointer}/{i}") for i, item in enumerate(node.value))
    return found
