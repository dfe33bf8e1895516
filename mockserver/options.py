"""Options on the command line: a dataclass field's `cli` metadata (`Config`'s for serve and proxy, `Plan`'s for check
and fuzz) becomes one argparse argument, with the field name as its destination and its `type` named in the
metadata and looked up in `CODECS` (a new kind of value is one entry there).

Metadata beyond argparse's own keywords: `commands` (the commands that take it), `per_command` (argparse keywords
for one command only: its own help, `required`), `shown` (the default in the user's terms, for --help). A codec may
accept an old spelling and return `Hinted(value, hint)`: the value is stored and the hint collected in the namespace's
`hints`, which the command line prints as one line each.

Rules: a value that cannot be read is argparse's usage error (exit 2, one line); nothing here knows a command.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .check import shards
from .serve.config import ConfigError, parse_latency, parse_rate_limit


def _latency(raw: str) -> tuple[int, int]:
    try:
        return parse_latency(raw)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate_limit(raw: str) -> int:
    try:
        return parse_rate_limit(raw)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(frozen=True)
class Hinted:
    """A value read from an old spelling, and the one-line hint that says how to write it now."""

    value: Any
    hint: str


def hints(namespace: argparse.Namespace) -> list[str]:
    """The hints collected while parsing (and added by the commands): one line each on stderr."""
    found: list[str] = namespace.__dict__.setdefault("hints", [])
    return found


class _Store(argparse.Action):
    """argparse's `store`, unwrapping a `Hinted` value and keeping its hint."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:  # fmt: skip
        if isinstance(values, Hinted):
            hints(namespace).append(values.hint)
            values = values.value
        setattr(namespace, self.dest, values)


def _per_second(raw: str) -> float | Hinted:
    """`N/s` (N may have a fraction: 0.5/s); a bare number is the old spelling of check and fuzz."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(/\s*s(?:ec(?:ond)?)?)?\s*", raw)
    if not found or not float(found.group(1)) > 0:
        raise argparse.ArgumentTypeError(f"expected N/s (requests per second, N > 0), got {raw!r}")
    value = float(found.group(1))
    if found.group(2):
        return value
    return Hinted(value, f"--rate-limit {raw} is read as {value:g}/s; write --rate-limit {value:g}/s")


def per_second(value: float) -> str:
    return f"{value:g}/s"


def _rate(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {raw!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {raw!r}")
    return value


def _port(raw: str) -> int:
    if not raw.isdigit() or int(raw) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0..65535, got {raw!r}")
    return int(raw)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


CODECS: dict[str, Callable[[str], Any]] = {
    "latency": _latency, "rate": _rate, "rate_limit": _rate_limit, "port": _port, "positive_int": _positive_int,
    "positive_float": positive_float, "shard": shards.argument, "per_second": _per_second,
}  # fmt: skip

# How --help shows a default of that type, in the user's terms (10.0 seconds is "10", a rate "10/s")
SHOWN: dict[str, Callable[[Any], str]] = {"positive_float": lambda v: f"{v:g}", "per_second": per_second}


def add_options(parser: argparse.ArgumentParser, cls: type, command: str | None = None,
                defaults: dict[str, Any] | None = None) -> None:  # fmt: skip
    """One argument per field of `cls` that has `cli` metadata (and takes `command`), destination = field name."""
    for f in dataclasses.fields(cls):
        spec = dict(f.metadata.get("cli") or {})
        if not spec or (command is not None and command not in spec.pop("commands", (command,))):
            continue
        spec.update(spec.pop("per_command", {}).get(command, {}))
        flags = spec.pop("flags")
        kind = spec.get("type")
        if isinstance(kind, str):
            spec["type"] = CODECS[kind]
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        shown = spec.pop("shown", None)  # the field's default in words; a command's own default is shown as is
        if defaults and f.name in defaults:
            default, shown = defaults[f.name], None
        if shown is None and default not in (None, False, True, [], ""):
            shown = SHOWN[kind](default) if isinstance(kind, str) and kind in SHOWN else str(default)
        if "help" in spec and shown and "default:" not in spec["help"]:
            spec["help"] += f" (default: {shown})"
        if flags and "action" not in spec:
            spec["action"] = _Store
        if flags:
            parser.add_argument(*flags, dest=f.name, default=default, **spec)
        elif spec.get("nargs") == "?":
            parser.add_argument(f.name, default=default, **spec)
        else:
            parser.add_argument(f.name, **spec)


def from_args(cls: type, args: argparse.Namespace, **extra: Any) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names}, **extra)
