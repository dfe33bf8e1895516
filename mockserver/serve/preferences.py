"""What a client asks of the mock: the `Prefer` header (Prism-compatible), parsed into `Preferences`.

Rules: RFC 7240 syntax; unknown preferences are ignored, a known one with a bad value raises `PreferError` saying
why (the mock answers 400 with it). A new preference is one entry in `_PARSERS` and the step in negotiation.py
that honours it.
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
