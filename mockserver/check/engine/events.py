"""What the engine tells the run, as plain data: no Schemathesis object leaves the engine.

Rules: the run (`conformance.run`) is the only reader that writes the `Report` from these; outputs (progress,
cassettes) are handlers of the same events. A failing scenario comes with its findings and its cassette entry
already rendered, so nothing reaches back into the engine for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import Finding, Progress


@dataclass(frozen=True)
class Failed:
    """A scenario that failed: its findings, and its interactions as a VCR cassette entry (`cassette.write`)."""

    findings: tuple[Finding, ...]
    cassette: str


@dataclass(frozen=True)
class Found:
    """A finding without a recorded scenario: a transport error, a probe's answer, the engine's own verdict."""

    finding: Finding


@dataclass(frozen=True)
class Untested:
    operation: str
    reason: str


@dataclass(frozen=True)
class Warned:
    text: str


@dataclass(frozen=True)
class Errored:
    """The run could not do part of its job: exit 2."""

    text: str


@dataclass(frozen=True)
class Stopped:
    """Why the run ended early (the first reason given wins)."""

    reason: str


Event = Failed | Found | Untested | Warned | Errored | Stopped | Progress
