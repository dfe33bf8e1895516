"""What the core takes and gives: a `MockRequest` in (plain data, no HTTP server's objects), an `Outcome` out."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import NamedTuple

from . import negotiation
from .answer import Answer


@dataclass
class MockRequest:
    method: str
    raw_path: bytes
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    cookies: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    too_many_query: bool = False  # more query parameters than the mock reads
    # Requests of one shape differ only in their path (same method, query and headers, no body); None: unknown.
    # The adapter says so, and the core answers a new path of a known shape with less work (`_Recipe`).
    shape: Hashable | None = None


class Outcome(NamedTuple):
    """An answer and what the journal and log say of it. A named tuple: immutable, and built on every request for
    a fraction of a frozen dataclass's cost."""

    answer: Answer
    operation: str = ""  # "METHOD /path" of the matched operation, "" when none matched
    secrets: tuple[str, ...] = ()  # credential values the request carried, for redaction
    note: str = ""  # the fixture or example used, or why the request was refused
    fixture: str = ""  # the fixture's name when one answered
    override: str = ""  # the override's id when one applied
    reuse: int = negotiation.PER_REQUEST  # the decision's: NEVER when it depends on run-time state (override, item,
    # sequence position, fault) or on the clock (rate limit)
    # what a forwarded exchange broke of the contract (forward/proxy.py): {"severity", "direction", "pointer", "reason"}
    violations: tuple[dict[str, str], ...] = ()
