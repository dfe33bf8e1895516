"""The log line of each request (`GET /path 200 fixture 0.31ms`), written in batches: no system call per request.

Rules: a line goes into a buffer; the buffer is written, in one `write`, by a timer on the running event loop
`INTERVAL` seconds after its first line, at once when it holds `MAX_LINES` lines, and at once outside an event loop.
Nothing buffered is lost when the server stops: the adapter flushes at lifespan shutdown (uvicorn's graceful
shutdown on SIGTERM/SIGINT, in every worker) and when it closes, and every log is flushed at interpreter exit. A
stream that fails (closed, full disk) loses the lines, never a request. Writers may be on other threads (the proxy
judges large bodies in one): the buffer is only ever appended to, and a flush removes what it wrote.
"""

from __future__ import annotations

import asyncio
import atexit
import sys
import threading
import weakref
from typing import TextIO

INTERVAL = 0.005  # seconds: a log line shows within a few milliseconds, and a busy server writes ~200 times a second
MAX_LINES = 1024  # a burst larger than this is written at once: the buffer stays small

_LOGS: weakref.WeakSet[RequestLog] = weakref.WeakSet()


class RequestLog:
    """Buffered one-line-per-request log: `GET /path 200 fixture 0.42ms`."""

    def __init__(self, stream: TextIO | None = None, interval: float = INTERVAL) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.lines: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flushing = threading.Lock()  # two flushes at once (a thread, the loop) would write lines twice
        _LOGS.add(self)

    def write(self, line: str) -> None:
        lines = self.lines
        lines.append(line)
        # the common case asks its own loop, not the running one: CPython 3.11's `_get_running_loop` costs a
        # getpid() system call, which no other part of a request makes
        loop = self._loop  # a timer is only ever set together with its loop
        if self._timer is not None and loop is not None and not loop.is_closed():
            if len(lines) >= MAX_LINES:
                self.flush()
            return  # the common case: a timer is due
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a command's own messages, a thread): at once
            self.flush()
            return
        if self._loop is not None and self._loop is not loop:
            self.flush()  # a timer on a loop that is gone (tests run one loop after another) never fires
        self._loop = loop
        self._timer = loop.call_later(self.interval, self._due)

    def _due(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        """Writes what is buffered, in one `write`."""
        lines = self.lines
        if not lines:
            return
        with self._flushing:  # in order, and never twice
            count = len(lines)
            data = "".join(lines[:count])
            del lines[:count]  # lines appended meanwhile (another thread) stay for the next flush
            try:
                self.stream.write(data)
                self.stream.flush()
            except (OSError, ValueError):  # a closed or failing stream: losing log lines beats a 500
                pass


def flush_all() -> None:
    """Every log's buffered lines, written now (shutdown, exit)."""
    for log in list(_LOGS):
        log.flush()


atexit.register(flush_all)
