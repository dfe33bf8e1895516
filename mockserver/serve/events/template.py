"""Templates in stream fixtures: `{{data.args.content}}` in a reply takes the client's message, `{{next_id}}` the
next event id, `{{query.NAME}}` a handshake parameter, `{{now}}` the time (UTC, ISO 8601).

Rules: compiled once at load (an unknown name is a load error, with its pointer), rendered per event. A string that
is one placeholder takes the value's type (an id stays a number, an object an object); a placeholder inside a longer
string is written as text. A missing member renders as null (alone) or "" (inside text). Nothing is evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from ...contract.documents import escape

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
STREAM_ROOTS = ("data", "query")  # stream fixtures: the client's event (`data`) and the handshake query
_NAMES: dict[tuple[str, ...], re.Pattern[str]] = {}


class TemplateError(ValueError):
    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{pointer}: {reason}")
        self.pointer = pointer
        self.reason = reason


@dataclass(frozen=True)
class Template:
    value: Any  # the JSON value as written
    names: frozenset[str]  # the placeholders in it (none: `render` returns `value` itself)

    @property
    def dynamic(self) -> bool:
        return bool(self.names)

    def render(self, scope: Mapping[str, Any]) -> Any:
        return _render(self.value, scope) if self.dynamic else self.value


def compile_value(value: Any, pointer: str = "", roots: tuple[str, ...] = STREAM_ROOTS) -> Template:
    """`roots`: the names a placeholder may start with (`data.args.content`), besides `next_id` and `now`."""
    pattern = _NAMES.get(roots)
    if pattern is None:
        pattern = _NAMES[roots] = re.compile(rf"({'|'.join(roots)})(\.[^.\s]+)*|next_id|now")
    names: set[str] = set()
    _check(value, pointer, names, pattern, ", ".join(f"{r}.NAME" for r in roots) + ", next_id or now")
    return Template(value, frozenset(names))


def _check(value: Any, pointer: str, names: set[str], pattern: re.Pattern[str], roots: str) -> None:
    if isinstance(value, str):
        found = _PLACEHOLDER.findall(value)
        for name in found:
            if not pattern.fullmatch(name):
                raise TemplateError(pointer, f"unknown template name {{{{{name}}}}}; use {roots}")
        if "{{" in value and not found:
            raise TemplateError(pointer, "an unclosed {{ ... }}")
        names.update(found)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check(v, f"{pointer}/{escape(str(k))}", names, pattern, roots)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check(v, f"{pointer}/{i}", names, pattern, roots)


def _render(value: Any, scope: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return _lookup(whole.group(1), scope)
        return _PLACEHOLDER.sub(lambda m: _text(_lookup(m.group(1), scope)), value)
    if isinstance(value, dict):
        return {k: _render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, scope) for v in value]
    return value


def _lookup(name: str, scope: Mapping[str, Any]) -> Any:
    if name == "now":  # the scope may fix it (a delayed state step happens at its own moment)
        given = scope.get("now")
        return (
            given
            if isinstance(given, str)
            else datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
    head, *rest = name.split(".")
    found = scope.get(head)
    for part in rest:
        if isinstance(found, dict):
            found = found.get(part)
        elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
            found = found[int(part)]
        else:
            return None
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
