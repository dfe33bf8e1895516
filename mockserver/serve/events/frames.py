"""What the socket.io side tells the journal: one `Frame` per connection opened, refused or closed, and per event
either way. A plain dataclass, so the journal's adapter (journaling.py) loads without python-socketio."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Frame:
    """What the journal records: a connection opening, refused or closing, or one event either way."""

    kind: str  # connect | refuse | send | receive | close | garbage
    sid: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    transport: str  # websocket | polling
    stream: str = ""  # the stream fixture's name ("" when none matched)
    event: str = ""
    data: Any = None
    fault: str = ""  # the fault applied, if any
    override: str = ""  # the override that asked for it
    note: str = ""


Sink = Callable[[Frame], None]
