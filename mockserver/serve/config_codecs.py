"""The `MOCKSERVER_*` codecs of serve's `Config` (config.py): each value's text form, read and written, chosen by
its option metadata; the parsers of the values that have one (latency, rate limit), shared with the command line."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any


class ConfigError(ValueError):
    pass


def _codec(metadata: Mapping[str, Any], python_type: object) -> str:
    """A field's `MOCKSERVER_*` codec, named by its option metadata (its `type`, `append` for a list), else by its
    Python type; never by the field's name."""
    cli = metadata.get("cli") or {}
    listed = cli.get("action") == "append" or cli.get("nargs") == "*"
    kind = cli.get("type") if cli.get("type") in _ENV else "append" if listed else python_type
    return kind if isinstance(kind, str) and kind in _ENV else ""


# (read(raw, field name), write(value)) per codec name
_ENV: dict[str, tuple[Callable[[str, str], Any], Callable[[Any], str]]] = {
    "latency": (lambda raw, _: parse_latency(raw), lambda value: f"{value[0]}-{value[1]}"),
    "rate_limit": (lambda raw, _: parse_rate_limit(raw), str),
    "append": (lambda raw, _: [o.strip() for o in raw.split(",") if o.strip()], ",".join),
    "bool": (lambda raw, _: raw.strip().lower() in ("1", "true", "yes", "on"), str),
    "int": (lambda raw, name: _number(int, raw, name), str),
    "float": (lambda raw, name: _number(float, raw, name), str),
    "": (lambda raw, _: raw, str),
}


def _number(kind: type, raw: str, name: str) -> object:
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"MOCKSERVER_{name.upper()} must be a number, got {raw!r}") from None


def parse_latency(raw: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", raw)
    if not match:
        raise ConfigError(f"latency must be MS or MIN-MAX in milliseconds, got {raw!r}")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if high < low:
        raise ConfigError(f"latency range {raw!r} has MIN > MAX")
    return low, high


def parse_rate_limit(raw: str) -> int:
    """`N/s` or `N` (requests per second); 0 turns the limit off."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*(?:/\s*s(?:ec(?:ond)?)?)?\s*", raw)
    if not match:
        raise ConfigError(f"rate limit must be N/s (requests per second), got {raw!r}")
    return int(match.group(1))
