"""What the mock remembers and prints about requests: a bounded journal and one log line each, secrets redacted.

Rules: memory is bounded by `deque(maxlen)` and per-entry truncation, whatever comes in. A credential is redacted by
name (the contract's security parameters, Authorization, Cookie, anything named like a key or token) and by value
(every credential the request carried, wherever else it shows up). Log lines are buffered and written once per
event-loop turn: one write for many requests, which is what keeps logging cheap under load.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections import deque
from typing import Any, TextIO
from urllib.parse import unquote

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"auth|key|token|secret|passw|session|cookie|credential", re.I)
_MAX_FIELD = 2048
MIN_SECRET = 4  # shorter values are redacted by name only: "k" would otherwise eat every "k" in the journal
_MAX_ITEMS = 100


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_FIELD else text[:_MAX_FIELD] + f"…(+{len(text) - _MAX_FIELD} chars)"


class Redactor:
    def __init__(self, names: set[str], api_key: str | None) -> None:
        self.names = names
        self.api_key = api_key
        self._verdicts: dict[str, bool] = {}

    def secret(self, name: str) -> bool:
        verdict = self._verdicts.get(name)
        if verdict is None:
            verdict = name.lower() in self.names or bool(_SECRET_NAME.search(name))
            if len(self._verdicts) < 10_000:  # header names repeat; hostile ones must not grow the cache for ever
                self._verdicts[name] = verdict
        return verdict

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

    @staticmethod
    def _scrub(value: str, active: list[str]) -> str:
        for secret in active:
            if secret in value:
                value = value.replace(secret, REDACTED)
            # percent-encoded, with any mix of escapes; also where the plain form was there too
            if "%" in value and secret in unquote(value):
                value = unquote(value).replace(secret, REDACTED)
        return value


class Journal:
    def __init__(self, size: int, redactor: Redactor) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)
        self.redactor = redactor
        self.total = 0

    def record(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: list[tuple[str, str]],
        status: int,
        source: str,
        operation: str,
        ms: float,
        secrets: list[str],
        note: str = "",
    ) -> None:
        self.total += 1
        if self.entries.maxlen == 0:
            return
        redact = self.redactor
        active = redact.active(secrets)
        self.entries.append(
            {
                "time": time.time(),
                "method": method[:32],
                "path": _clip(redact._scrub(path, active)),
                "query": redact.pairs(query, active) if query else [],
                "headers": redact.pairs(headers, active),
                "status": status,
                "source": source,
                "operation": operation,
                "note": _clip(redact._scrub(note, active)) if note else "",
                "ms": round(ms, 3),
            }
        )

    def snapshot(self, limit: int | None = None) -> dict[str, Any]:
        entries = list(self.entries)
        if limit is not None:
            entries = entries[-limit:] if limit > 0 else []
        return {"total": self.total, "capacity": self.entries.maxlen, "requests": entries}


class RequestLog:
    """Buffered one-line-per-request log: `GET /path 200 fixture 0.42ms`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.lines: list[str] = []
        self.scheduled = False

    def write(self, line: str) -> None:
        self.lines.append(line)
        if not self.scheduled:
            self.scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        self.scheduled = False
        if self.lines:
            data = "".join(self.lines)
            self.lines.clear()
            try:
                self.stream.write(data)
                self.stream.flush()
            except (OSError, ValueError):
                pass
