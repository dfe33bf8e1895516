"""What a client asks of the mock, parsed into `Preferences`: the `Prefer` header (Prism-compatible), the same
vocabulary as query controls (`?__code=500`, `?__example=NAME`, `?__dynamic=true`, Prism's), and runtime overrides
(whose `prefer` string is read by the same parser).

Rules: RFC 7240 syntax; unknown preferences are ignored, a known one with a bad value raises `PreferError` saying
why (the mock answers 400 with it). A new preference is one entry in `_PARSERS` and the step in negotiation.py
that honours it; its query control `__NAME` follows. Layers combine with `merge`: a later one that picks an
answer replaces the earlier choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

_TOKEN = re.compile(r'\s*([A-Za-z][\w-]*)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,;\s]*))?\s*')
MAX_HEADER = 4096


class PreferError(ValueError):
    pass


@dataclass(frozen=True)
class Preferences:
    code: int | None = None
    example: str | None = None
    dynamic: bool | None = None
    branch: int | None = None  # -1 means the null branch
    delay_ms: int | None = None


NONE = Preferences()


def _code(value: str, _: int) -> int:
    if not re.fullmatch(r"[1-5]\d\d", value):
        raise PreferError(f"code must be a 3-digit HTTP status, got {value[:40]!r}")
    return int(value)


def _example(value: str, _: int) -> str:
    if not value:
        raise PreferError("example needs a name: example=NAME")
    return value


def _dynamic(value: str, _: int) -> bool:
    if value not in ("true", "false"):
        raise PreferError(f"dynamic must be true or false, got {value[:40]!r}")
    return value == "true"


def _branch(value: str, _: int) -> int:
    if value == "null":
        return -1
    if value.isdigit() and len(value) < 4:
        return int(value)
    raise PreferError(f"branch must be null or a number, got {value[:40]!r}")


def _delay(value: str, max_delay_ms: int) -> int:
    if not value.isdigit():
        raise PreferError(f"delay must be a whole number of milliseconds, got {value[:40]!r}")
    return min(int(value[:12]), max_delay_ms)


# preference name -> (Preferences field, parser of its value)
_PARSERS: dict[str, tuple[str, Callable[[str, int], Any]]] = {
    "code": ("code", _code),
    "example": ("example", _example),
    "dynamic": ("dynamic", _dynamic),
    "branch": ("branch", _branch),
    "delay": ("delay_ms", _delay),
}
KNOWN = tuple(_PARSERS)


def parse_prefer(header: str | None, max_delay_ms: int) -> Preferences:
    """RFC 7240 preferences; unknown ones are ignored, known ones with a bad value raise `PreferError`."""
    if not header:
        return NONE
    if len(header) > MAX_HEADER:
        raise PreferError(f"Prefer header longer than {MAX_HEADER} characters")
    found: dict[str, Any] = {}
    for part in re.split(r"[,;]", header):
        if not part.strip():
            continue
        match = _TOKEN.fullmatch(part)
        if not match:
            raise PreferError(f"cannot parse preference {part.strip()[:80]!r}")
        name, value = match.group(1).lower(), (match.group(2) or "").strip('"')
        if name in _PARSERS:
            field_name, parse = _PARSERS[name]
            found[field_name] = parse(value, max_delay_ms)
    return replace(NONE, **found) if found else NONE


CONTROL = "__"  # query controls: `__` + a preference name; removed before validation, fixture matching and hashing


def split_query(query: dict[str, list[str]]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The query without its controls, and the controls (`{"code": "500"}`), unparsed. Cheap when there are none."""
    if not any(name.startswith(CONTROL) for name in query):
        return query, {}
    rest: dict[str, list[str]] = {}
    controls: dict[str, str] = {}
    for name, values in query.items():
        if name.startswith(CONTROL) and name[len(CONTROL) :].lower() in _PARSERS:
            controls[name[len(CONTROL) :].lower()] = values[-1]
        else:
            rest[name] = values
    return rest, controls


def parse_controls(controls: dict[str, str], max_delay_ms: int) -> Preferences:
    """Query controls as `Preferences`; a bad value raises `PreferError` naming the control."""
    found: dict[str, Any] = {}
    for name, value in controls.items():
        field_name, parse = _PARSERS[name]
        try:
            found[field_name] = parse(value, max_delay_ms)
        except PreferError as exc:
            raise PreferError(f"{CONTROL}{name}: {exc}") from None
    return replace(NONE, **found) if found else NONE


def merge(base: Preferences, top: Preferences) -> Preferences:
    """`top` over `base`: a layer that picks an answer (code, example, dynamic, branch) replaces the whole choice
    below it (`example` from one layer and `branch` from another would make an answer nobody asked for); a delay
    alone only sets the delay."""
    if top is NONE:
        return base
    if base is NONE:
        return top
    if chooses(top):
        return top if top.delay_ms is not None else replace(top, delay_ms=base.delay_ms)
    return replace(base, delay_ms=top.delay_ms)


def chooses(prefs: Preferences) -> bool:
    """Whether the preferences pick an answer (a status, example, branch or generated data), not only a delay."""
    return prefs.code is not None or prefs.example is not None or prefs.dynamic is not None or prefs.branch is not None
