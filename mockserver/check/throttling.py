"""The HTTP session every check and fuzz request goes through: pacing, 429 waits, and hard bounds on each answer.

Rules: requests are paced to `rate` per second across all workers; a 429 is waited out as its `Retry-After` says
(never past the run's deadline) and retried a few times; a body is read in full here, and reading stops with an
error once it passes `max_body` bytes or `timeout` seconds in total (urllib3's timeout is per socket read, so a
server trickling bytes would otherwise hold a worker forever). Once `max_requests` have gone out, nothing more does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

MAX_BODY = 8 * 1024 * 1024  # bytes of one response body we read before giving up on it
RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER = 30.0  # seconds; a server asking for longer is reported, not waited for


class BodyTooLarge(requests.exceptions.ContentDecodingError):
    """The body passed `max_body` bytes; the connection is dropped."""


class TooSlow(requests.exceptions.ReadTimeout):
    """Headers and body together took longer than the request timeout."""


class BudgetSpent(requests.exceptions.ConnectionError):
    """`max_requests` already went out, or the run was stopped; the request was not sent."""


@dataclass
class Counters:
    """What the session saw, shared by every worker thread."""

    sent: int = 0
    rate_limited: int = 0  # 429 answers seen (waited out or not)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Pacer:
    """Spaces requests `1 / rate` seconds apart, whichever thread sends them."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait(self, stopped: Callable[[], bool]) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        _sleep(slot - now, stopped)


@dataclass
class Limits:
    rate: float | None = None  # requests per second; None = as fast as the server answers
    timeout: float = 10.0  # seconds for one whole answer
    max_body: int = MAX_BODY
    max_requests: int | None = None
    deadline: float | None = None  # time.monotonic() after which no wait starts and nothing new is sent
    stopped: Callable[[], bool] = lambda: False
    on_budget_spent: Callable[[], None] = lambda: None


Adopt = Callable[[requests.Response, bytes], None]  # hands a body read here to `requests` (engine.adopt_body)


class GuardedAdapter(HTTPAdapter):
    def __init__(self, limits: Limits, counters: Counters, pacer: Pacer, adopt: Adopt) -> None:
        super().__init__(max_retries=0)
        self.limits = limits
        self.counters = counters
        self.pacer = pacer
        self.adopt = adopt

    def send(  # type: ignore[override]  # same call, looser annotations
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any
    ) -> Any:
        limits = self.limits
        timeout = limits.timeout if timeout is None else timeout
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            self.take_slot(request)
            started = time.monotonic()
            response = super().send(request, stream=True, timeout=timeout, **kwargs)
            self.read_body(response, started)
            if response.status_code != 429:
                return response
            with self.counters.lock:
                self.counters.rate_limited += 1
            delay = retry_after(response.headers.get("Retry-After"))
            if delay is None or attempt == RATE_LIMIT_RETRIES or not self.can_wait(delay):
                return response
            _sleep(delay, limits.stopped)
        return response  # pragma: no cover - the loop always returns

    def take_slot(self, request: requests.PreparedRequest) -> None:
        limits = self.limits
        if limits.stopped() or (limits.deadline is not None and time.monotonic() >= limits.deadline):
            raise BudgetSpent(RuntimeError("the run is over; request not sent"), request=request)
        with self.counters.lock:
            if limits.max_requests is not None and self.counters.sent >= limits.max_requests:
                spent = True
            else:
                spent = False
                self.counters.sent += 1
        if spent:
            limits.on_budget_spent()
            raise BudgetSpent(RuntimeError(f"--max-requests {limits.max_requests} reached; not sent"), request=request)
        self.pacer.wait(limits.stopped)

    def can_wait(self, delay: float) -> bool:
        deadline = self.limits.deadline
        return delay <= MAX_RETRY_AFTER and (deadline is None or time.monotonic() + delay < deadline)

    def read_body(self, response: requests.Response, started: float) -> None:
        limits = self.limits
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.raw.stream(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > limits.max_body:
                    raise BodyTooLarge(
                        f"response body larger than {limits.max_body} bytes; stopped reading",
                        request=response.request,
                        response=response,
                    )
                if time.monotonic() - started > limits.timeout:
                    # Worded like urllib3's own timeout, which Schemathesis parses
                    message = f"Read timed out. Response not complete in time. (read timeout={limits.timeout:g})"
                    inner = ReadTimeoutError(None, response.url, message)  # type: ignore[arg-type]
                    raise TooSlow(inner, request=response.request)
                chunks.append(chunk)
        except (BodyTooLarge, TooSlow):
            response.close()
            raise
        except Exception as exc:
            response.close()
            # urllib3's errors become the requests errors the engine knows how to report
            raise requests.exceptions.ConnectionError(exc, request=response.request) from exc
        self.adopt(response, b"".join(chunks))
        response.raw.release_conn()


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def make_session(limits: Limits, counters: Counters, pacer: Pacer, adopt: Adopt,
                 base: requests.Session | None = None) -> Any:  # fmt: skip
    session = base if base is not None else requests.Session()
    adapter = GuardedAdapter(limits, counters, pacer, adopt)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _sleep(seconds: float, stopped: Callable[[], bool]) -> None:
    # In slices, so Ctrl-C and --duration cut a long wait short
    end = time.monotonic() + seconds
    while not stopped():
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.1))
