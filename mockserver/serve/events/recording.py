"""A relayed socket.io session written as a stream fixture (`mockserver proxy --record DIR`): `DIR/_streams/NAME.yaml`.

Rules: the server's events before the client's first event are the stream's `events` (each with the delay since
the previous one); what the server sent after each client event, until the next, is the scripted reply to that
event (`on:`, with `when:` the payload the client sent). The match is the handshake's query without Engine.IO's
parameters, empty values, credentials, and a resume parameter (a name like `latest_event_id`), which becomes the
stream's `resume` when the events carry whole-number `id`s. Nothing secret is written: members named like
credentials are redacted by name, and every credential the client sent (query or headers) by value. The same
handshake query always lands in the same file; the last session wins. The document is parsed by the stream loader
before it is written.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

import yaml

from ...contract import documents
from ...contract.documents import DocumentError
from ...contract.spec import Spec
from ...contract.verdicts import REDACTED, redact, secret_name
from .streams import RESERVED, parse_stream

FOLDER = "_streams"
ENGINE_PARAMS = frozenset({"EIO", "transport", "t", "sid", "j", "b64"})
_RESUME = re.compile(r"(latest|last|since|after|cursor|resume|offset)", re.I)
MAX_EVENTS = 10_000


class StreamRecording:
    def __init__(self, folder: Path, path: str, query: list[tuple[str, str]], secrets: list[str],
                 spec: Spec | None = None) -> None:  # fmt: skip
        self.folder = folder
        self.path = path
        self.spec = spec
        self.secrets = [*secrets, *(v for k, v in query if secret_name(k))]
        kept = [(k, v) for k, v in query if k not in ENGINE_PARAMS and v and not secret_name(k)]
        self.resume = next((k for k, _ in kept if _RESUME.search(k)), None)
        self.match = {k: v for k, v in kept if k != self.resume}
        self.events: list[dict[str, Any]] = []
        self.replies: list[tuple[str, Any, list[dict[str, Any]]]] = []  # (client event, payload, server events)
        self._last = time.monotonic()

    def server_event(self, event: str, args: list[Any]) -> None:
        now = time.monotonic()
        step: dict[str, Any] = {"event": event}
        if args:
            step["data"] = self._clean(args[0] if len(args) == 1 else args)
        delay = int((now - self._last) * 1000)
        if delay >= 1:
            step["delay_ms"] = min(delay, 600_000)
        self._last = now
        if event in RESERVED or len(self.events) + sum(len(r[2]) for r in self.replies) >= MAX_EVENTS:
            return
        (self.replies[-1][2] if self.replies else self.events).append(step)

    def client_event(self, event: str, args: list[Any]) -> None:
        self._last = time.monotonic()
        if event not in RESERVED:
            self.replies.append((event, self._clean(args[0] if len(args) == 1 else args or None), []))

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"stream": self.name(), "path": self.path}
        if self.match:
            doc["match"] = {"query": dict(self.match)}
        ids = [e["data"].get("id") for e in self.events if isinstance(e.get("data"), dict)]
        if self.resume and any(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            doc["resume"] = {"query": self.resume, "field": "id"}
        doc["events"] = self.events
        on: dict[str, list[dict[str, Any]]] = {}
        for event, payload, emitted in self.replies:
            reply: dict[str, Any] = {"emit": emitted}
            if payload is not None:
                reply = {"when": payload, **reply}
            if reply not in on.setdefault(event, []):
                on[event].append(reply)
        if on:
            doc["on"] = on
        return doc

    def name(self) -> str:
        if not self.match:
            return "stream"
        text = "-".join(f"{v}" for v in self.match.values())
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "stream"
        digest = hashlib.sha256(repr(sorted(self.match.items())).encode()).hexdigest()[:8]
        return slug if len(self.match) == 1 and slug == text else f"{slug}--{digest}"

    def write(self) -> Path | None:
        """The fixture file (None when the session sent nothing worth replaying)."""
        if not self.events and not self.replies:
            return None
        doc = self.document()
        target = self.folder / FOLDER / f"{doc['stream']}.yaml"
        try:
            parse_stream(doc, str(target), "", self.spec if doc.get("operation") else None, self.path)
        except DocumentError as exc:  # a bug of ours: say so rather than write what will not load
            raise RuntimeError(f"recorded stream does not load: {exc}") from None
        query = "&".join(f"{k}={v}" for k, v in self.match.items())
        comment = (f"# Recorded by mockserver proxy from a socket.io session at {self.path}?{query}: "
                   f"{len(self.events)} events on connect, {len(self.replies)} client events answered")  # fmt: skip
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
        documents.write_atomically(target, f"{comment}\n{text}")
        return target

    def _clean(self, value: Any, name: str = "") -> Any:
        """Secrets out; `{{` is a template in a stream fixture, so a recorded one is written `{ {`."""
        if isinstance(value, dict):
            return {str(k): self._clean(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._clean(v) for v in value]
        if isinstance(value, str):
            if value and secret_name(name):
                return REDACTED
            return redact(value, self.secrets).replace("{{", "{ {")
        if isinstance(value, (bytes, bytearray)):
            return "[binary attachment not recorded]"
        return value
