"""The cassette output: a handler of the run's events that keeps each failing scenario's entry (rendered by the
engine), and writes them as one VCR cassette for `mockserver replay`.

Rules: a cassette never holds the key: each wire form of it becomes its placeholder (`${MOCKSERVER_API_KEY}`,
`...:url}`, `...:form}`, `...:basic}`) so `replay` can put the key back, and whatever else looks like it is redacted;
the names that carry the key (the run's `credentials`) are kept by the engine's sanitizing, so the placeholder has a
place to be. A cassette's folder is created when missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, quote_plus

from ..contract import security
from . import engine
from .engine.events import Event, Failed
from .findings import Report
from .reporting import redact


class Cassette:
    """Keeps the cassette entry of every failing scenario the run reports."""

    def __init__(self) -> None:
        self.entries: list[str] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, Failed):
            self.entries.append(event.cassette)

    def write(self, report: Report, path: str | Path, command: str, key: str | None, spec: str | None) -> int:
        """The failing scenarios as a VCR cassette; returns how many."""
        text = (f"mockserver:\n  base_url: {json.dumps(report.base_url)}\n  spec: {json.dumps(spec)}\n"
                + engine.vcr.header(report.seed, command) + "".join(self.entries))  # fmt: skip
        if key:
            for form, placeholder in placeholders(key):
                text = text.replace(form, placeholder)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Whatever else looks like the key (an echoed body, an odd encoding) goes too
        target.write_text(redact(text, key), encoding="utf-8")
        return len(self.entries)


def placeholders(key: str) -> list[tuple[str, str]]:
    """(wire form of the key, its cassette placeholder), longest form first."""
    names: dict[str, str] = {}
    # The raw key last: when an encoding changes nothing, the placeholder says "as is"
    for form, name in ((security.basic_token(key), ":basic"), (quote_plus(key, safe=""), ":form"),
                       (quote(key, safe=""), ":url"), (key, "")):  # fmt: skip
        names[form] = name
    ordered = sorted(names.items(), key=lambda item: len(item[0]), reverse=True)
    return [(form, "${MOCKSERVER_API_KEY" + name + "}") for form, name in ordered if form]
