"""What the mock remembers and prints about requests: a bounded journal and one log line each, secrets redacted.

Rules: the journal's entries live in the store (store.py: a bounded deque in memory, a trimmed list in Redis shared
by every worker), each entry clipped, whatever comes in. A credential is redacted by name (the contract's security
parameters, Authorization, Cookie, anything named like a key or token, in headers, query and JSON bodies) and by
value (every credential the request carried, wherever else it shows up). What only a reader needs (the ISO-8601
time, the body excerpt as text) is worked out when the journal is read, not per request, unless the store is
shared. A forwarded request's entry lists what it broke of the contract (`violations`: severity, direction, JSON
pointer, reason; redacted before they get here). The log line is requestlog.py's: written in batches.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, unquote

from ..contract.verdicts import MIN_SECRET, REDACTED, secret_name
from .requestlog import RequestLog as RequestLog  # the log line's home; imported from here too
from .store import MemoryStore, Store

_MAX_FIELD = 2048
_MAX_ITEMS = 100
EXCERPT_BYTES = 512
MAX_VIOLATIONS = 20  # per entry
# "api_key": "..." in a JSON body: the value goes, whatever the contract calls it
_SECRET_MEMBER = re.compile(
    r'("[^"]*(?:auth|key|token|secret|passw|session|cookie|credential)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*"', re.I
)


_DECODED: list[str] = ["", ""]  # the last text percent-decoded by `Redactor._scrub`, and what it decoded to


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_FIELD else text[:_MAX_FIELD] + f"…(+{len(text) - _MAX_FIELD} chars)"


class Redactor:
    def __init__(self, names: set[str], api_key: str | None) -> None:
        self.names = names
        self.api_key = api_key
        self._verdicts: dict[str, bool] = {}
        self._bytes: dict[str, bytes] = {}
        self._forms: dict[tuple[str, ...], list[str]] = {}
        self._searched: dict[tuple[str, ...], list[str]] = {}
        self._pairs: dict[tuple[tuple[tuple[str, str], ...], tuple[str, ...]], list[list[str]]] = {}

    def secret(self, name: str) -> bool:
        verdict = self._verdicts.get(name)
        if verdict is None:
            verdict = name.lower() in self.names or secret_name(name)
            if len(self._verdicts) < 10_000:  # header names repeat; hostile ones must not grow the cache for ever
                self._verdicts[name] = verdict
        return verdict

    def forms(self, secrets: tuple[str, ...]) -> list[str]:
        """The credentials a request carried, as sent and percent-encoded (how they show in a path or query).
        Remembered per tuple: a frontend sends the same key on every request, and quoting costs a microsecond."""
        if not secrets:
            return []
        found = self._forms.get(secrets)
        if found is None:
            found = [*secrets, *(quote(s, safe="") for s in secrets)]
            if len(self._forms) < 1000:
                self._forms[secrets] = found
        return found

    def searched(self, secrets: tuple[str, ...]) -> list[str]:
        """`active(forms(secrets))`: what to search a request's texts for, worked out once per set of credentials
        (a frontend sends the same key on every request). The caller does not change the list."""
        found = self._searched.get(secrets)
        if found is None:
            found = self.active(self.forms(secrets))
            if len(self._searched) < 1000:
                self._searched[secrets] = found
        return found

    def encoded(self, secret: str) -> bytes:
        found = self._bytes.get(secret)
        if found is None:
            found = secret.encode("utf-8", "replace")
            if len(self._bytes) < 1000:  # a request's key repeats; a flood of new ones must not grow this
                self._bytes[secret] = found
        return found

    def text(self, value: str, secrets: list[str]) -> str:
        return self._scrub(value, self.active(secrets))

    def active(self, secrets: list[str]) -> list[str]:
        """The values worth searching for: the request's credentials and the configured key, if long enough."""
        found = [s for s in secrets if len(s) >= MIN_SECRET] if secrets else []
        if self.api_key and len(self.api_key) >= MIN_SECRET:
            found.append(self.api_key)
        return found

    def pairs(self, items: list[tuple[str, str]], active: list[str]) -> list[list[str]]:
        """Name/value pairs, clipped, with secrets redacted; `active` comes from `active()`, once per request."""
        if not active:  # the common case: only names to look at
            return [[_clip(k), REDACTED if self.secret(k) else _clip(v)] for k, v in items[:_MAX_ITEMS]]
        scrub = self._scrub
        return [
            [_clip(scrub(k, active)), REDACTED if self.secret(k) else _clip(scrub(v, active))]
            for k, v in items[:_MAX_ITEMS]
        ]

    def header_pairs(self, items: tuple[tuple[str, str], ...], active: list[str]) -> list[list[str]]:
        """`pairs()` of a request's headers, remembered per headers and credentials: a client sends the same ones
        on every request. Journal entries share the result, which nobody changes."""
        key = (items, tuple(active))
        found = self._pairs.get(key)
        if found is None:
            found = self.pairs(list(items), active)
            if len(self._pairs) >= 256:  # the oldest goes
                del self._pairs[next(iter(self._pairs))]
            self._pairs[key] = found
        return found

    @staticmethod
    def _scrub(value: str, active: list[str]) -> str:
        for secret in active:
            if secret in value:
                value = value.replace(secret, REDACTED)
        # percent-encoded, with any mix of escapes; also where the plain form was there too. Decoded once, not once
        # per credential: a path with an escape in it would otherwise cost a decode per form of the key.
        if "%" in value and active:
            last = _DECODED  # the log line and the journal scrub the same path, one after the other
            if last[0] != value:
                last[:] = [value, unquote(value)]
            decoded = last[1]
            if any(secret in decoded for secret in active):
                for secret in active:
                    decoded = decoded.replace(secret, REDACTED)
                value = decoded
        return value


class Journal:
    def __init__(self, size: int, redactor: Redactor, store: Store | None = None) -> None:
        self.store: Store = store if store is not None else MemoryStore(size)
        self.capacity = size
        self.redactor = redactor
        self.worker = os.getpid()
        self.shared = self.store.shared
        self._raw = self.store.raw_entries  # keeps the tuple as it is: rendered when read
        self._keep = self.store.record  # bound once: the per-request call

    @property
    def total(self) -> int:
        return self.store.journal(0)[0]

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The entries kept, oldest first, as a reader sees them."""
        return [render(e) for e in self.store.journal()[1]]

    def record(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Sequence[tuple[str, str]],
        status: int,
        source: str,
        operation: str,
        ms: float,
        secrets: list[str],
        note: str = "",
        fixture: str = "",
        override: str = "",
        body: bytes = b"",
        media: str | None = None,
        violations: Sequence[dict[str, str]] = (),
        active: list[str] | None = None,
        sent: bytes = b"",
        clean_path: bool = False,
    ) -> None:
        """One entry; `active`, when given, is `redactor.active(secrets)` worked out already (and `clean_path`: the
        path is scrubbed with it already). Headers given as a tuple (the same object for every request that sent the
        same headers) are redacted once for all of them."""
        if self.capacity == 0:
            self.store.record({})  # counted, not kept
            return
        redact = self.redactor
        if active is None:
            active = redact.active(secrets)
        head = body if len(body) <= EXCERPT_BYTES else body[:EXCERPT_BYTES]  # bytes are immutable: no copy
        excerpt: bytes | str = head
        head_sent = sent if len(sent) <= EXCERPT_BYTES else sent[:EXCERPT_BYTES]
        request: bytes | str = head_sent
        if active:
            if head:
                known = redact._bytes  # `encoded()`, its cache asked first: a lookup instead of a call
                for secret in active:
                    if (known.get(secret) or redact.encoded(secret)) in head:  # echoed: scrubbed now, not at reading
                        excerpt = redact._scrub(head.decode("utf-8", "replace"), active)
                        break
            if head_sent:
                request = redact._scrub(head_sent.decode("utf-8", "replace"), active)
            if not clean_path:
                path = redact._scrub(path, active)
            if note:  # the usual note holds no credential and no escape: no call to scrub it
                for secret in active:
                    if secret in note:
                        note = redact._scrub(note, active)
                        break
                else:
                    if "%" in note:
                        note = redact._scrub(note, active)
        entry = (
            time.time(), method if len(method) <= 32 else method[:32], path if len(path) <= _MAX_FIELD else _clip(path),
            redact.pairs(query, active) if query else [],
            redact._pairs.get((headers, tuple(active))) or redact.header_pairs(headers, active)  # type: ignore[arg-type]
            if type(headers) is tuple else redact.pairs(list(headers), active),  # header_pairs' cache asked first
            status, source, operation, note if len(note) <= _MAX_FIELD else _clip(note), fixture or None,
            override or None, media, excerpt, len(body), ms, self.worker,  # ms rounded when read (`render`)
            [{k: _clip(v) for k, v in item.items()} for item in violations[:MAX_VIOLATIONS]] if violations else [],
            request, len(sent),
        )  # fmt: skip
        # a tuple is a third of a dict's cost per request; a shared store gets the readable form it keeps
        self._keep(entry if self._raw else render(entry))

    def snapshot(
        self, limit: int | None = None, match: Callable[[dict[str, Any]], bool] | None = None
    ) -> dict[str, Any]:
        """The entries kept (newest last): `count` of them match, the last `limit` of those are listed."""
        total, entries = self.store.journal(None if match is not None else limit)
        found = [render(e) for e in entries]
        if match is not None:
            found = [e for e in found if match(e)]
        count = len(found)
        if limit is not None:
            found = found[-limit:] if limit > 0 else []
        return {"total": total, "capacity": self.capacity, "shared": self.store.shared, "count": count,
                "requests": found}  # fmt: skip

    def forget(self, match: Callable[[dict[str, Any]], bool]) -> int:
        """Removes the entries that match; how many."""
        _, entries = self.store.journal()
        kept = [e for e in entries if not match(render(e))]
        self.store.keep_journal(kept)
        return len(entries) - len(kept)

    def clear(self) -> None:
        self.store.clear_journal()


FIELDS = ("time", "method", "path", "query", "headers", "status", "source", "operation", "note", "fixture", "override",
          "media", "response", "size", "ms", "worker", "violations", "body", "body_size")  # fmt: skip


def render(entry: Any) -> dict[str, Any]:
    """An entry as a reader sees it (a dict of FIELDS): ISO-8601 time, the body excerpts (`response`, and the
    request's `body`) as text with members named like secrets redacted. Idempotent: a shared store keeps rendered
    entries."""
    if isinstance(entry, dict):
        return entry
    out = dict(zip(FIELDS, entry, strict=True))
    out["ms"] = round(out["ms"], 3)
    out["time"] = datetime.fromtimestamp(out["time"], timezone.utc).isoformat(timespec="milliseconds")
    out["time"] = out["time"].replace("+00:00", "Z")
    excerpt = out["response"]
    text = excerpt.decode("utf-8", "replace") if isinstance(excerpt, bytes) else excerpt
    if text:
        text = _SECRET_MEMBER.sub(lambda m: m.group(1) + '"' + REDACTED + '"', text)
        if out["size"] > EXCERPT_BYTES:
            text += f"…(+{out['size'] - EXCERPT_BYTES} bytes)"
    out["response"] = text
    sent = out["body"]
    text = sent.decode("utf-8", "replace") if isinstance(sent, bytes) else sent
    if text:  # the request's body, as the response's: members named like secrets redacted
        text = _SECRET_MEMBER.sub(lambda m: m.group(1) + '"' + REDACTED + '"', text)
        if out["body_size"] > EXCERPT_BYTES:
            text += f"…(+{out['body_size'] - EXCERPT_BYTES} bytes)"
    out["body"] = text
    return out
