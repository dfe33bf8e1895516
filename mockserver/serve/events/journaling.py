"""Connections and frames in the request journal and the log: one entry per connection, refusal, frame and close.

Rules: an entry's method says what happened, from the server's side: `WS CONNECT` (101 over WebSocket, 200 for a
polling handshake, 403 refused by a fault), `WS OUT` (an event the server sent), `WS IN` (an event the client
sent), `WS CLOSE`, `WS GARBAGE` (400: a frame that does not decode; the client was disconnected). The operation is
`socket.io EVENT`, the fixture the stream's name, the note starts with `socket SID` (the dashboard groups frames by
it). Redaction is the journal's own (a `session_api_key` query parameter is redacted by name). The log gets one line
per connection, refusal, close and garbage frame, not per frame.
"""

from __future__ import annotations

import orjson

from ..journal import Journal, RequestLog
from .frames import Frame, Sink

METHODS = {"connect": "WS CONNECT", "refuse": "WS CONNECT", "send": "WS OUT", "receive": "WS IN",
           "close": "WS CLOSE", "garbage": "WS GARBAGE"}  # fmt: skip
JSON = "application/json"


def journal_sink(journal: Journal, log: RequestLog | None) -> Sink:
    def record(frame: Frame) -> None:
        method = METHODS.get(frame.kind, "WS")
        status = _status(frame)
        body = b"" if frame.data is None else orjson.dumps(frame.data, default=_opaque, option=orjson.OPT_NON_STR_KEYS)
        notes = [f"socket {frame.sid or '-'}"]
        if frame.kind in ("connect", "refuse"):
            notes.append(f"stream {frame.stream}" if frame.stream else "no stream matched: a quiet connection")
        if frame.fault:
            notes.append(f"fault {frame.fault}" + (f" (override {frame.override})" if frame.override else ""))
        if frame.note:
            notes.append(frame.note)
        note = "; ".join(notes)
        operation = f"socket.io {frame.event}" if frame.event else "socket.io"
        journal.record(method, frame.path, list(frame.query), frame.headers, status, "stream", operation, 0.0, [],
                       note, frame.stream, frame.override, body, JSON if body else None)  # fmt: skip
        if log is not None and frame.kind not in ("send", "receive"):
            log.write(f"{method} {frame.path} {status} {note}\n")

    return record


def _opaque(value: object) -> str:
    """A binary attachment, or anything else JSON has no form for: named, not written."""
    size = f", {len(value)} bytes" if isinstance(value, (bytes, bytearray)) else ""
    return f"<{type(value).__name__}{size}>"


def _status(frame: Frame) -> int:
    if frame.kind == "refuse":
        return 403
    if frame.kind == "garbage":
        return 400
    return 101 if frame.transport == "websocket" else 200
