"""The HTTP session every check and fuzz request goes through: pacing, 429 waits, and hard bounds on each answer.

Rules: requests are paced to `rate` per second across all workers; a 429, or a 503 with `Retry-After`, is never
handed to the checker: it is waited out as `Retry-After` says (a 429 without it: 1, 2, 4 ... s) and sent again, for
up to `max_wait` seconds per request and never past the run's deadline; a request that still gets one raises
`RateLimited`, so its operation is reported untested instead of passed. A body is read in full here, and reading
stops with an error once it passes `max_body` bytes or `timeout` seconds in total (urllib3's timeout is per socket
read, so a server trickling bytes would otherwise hold a worker forever). Once `max_requests` have gone out, nothing
more does. Waits go through a `Clock`, so tests can pass time without sleeping.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

MAX_BODY = 8 * 1024 * 1024  # bytes of one response body we read before giving up on it
MAX_WAIT = 120.0  # seconds one request may spend waiting out 429/503 answers before its operation is untested
BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # waits after a 429 that says nothing about when to come back
MIN_WAIT = 0.5  # seconds; "Retry-After: 0" on every answer must not turn into a flood
CASE_HEADER = "X-Schemathesis-TestCaseId"  # the checker names each case it sends


class BodyTooLarge(requests.exceptions.ContentDecodingError):
    """The body passed `max_body` bytes; the connection is dropped."""


class TooSlow(requests.exceptions.ReadTimeout):
    """Headers and body together took longer than the request timeout."""


class BudgetSpent(requests.exceptions.ConnectionError):
    """`max_requests` already went out, or the run was stopped; the request was not sent."""


class RateLimited(requests.exceptions.ConnectionError):
    """The server kept answering 429 (or 503 with Retry-After) longer than we may wait: no answer to check."""


class OffTarget(requests.exceptions.ConnectionError):
    """A request (a redirect, most likely) to a host other than BASE_URL's; not sent, so no credential leaves."""


class Clock:
    """Time for pacing and waiting; tests pass one whose `sleep` only moves `now` on."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, stopped: Callable[[], bool]) -> None:
        # In slices, so Ctrl-C and --duration cut a long wait short
        end = time.monotonic() + seconds
        while not stopped():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.1))


REAL_CLOCK = Clock()


@dataclass
class Counters:
    """What the session saw, shared by every worker thread."""

    sent: int = 0  # the one count of requests: taken here, where they leave, for every attempt
    rate_limited: int = 0  # 429 (and 503 + Retry-After) answers seen, waited out or not
    targets: set[tuple[str, str]] = field(default_factory=set)  # (method, raw path) sent: the operations reached
    cases: set[str] = field(default_factory=set)  # the checker's case ids sent (its X-Schemathesis-TestCaseId)
    waited: float = 0.0  # seconds spent waiting them out
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class Pacer:
    """Spaces requests `1 / rate` seconds apart, whichever thread sends them."""

    def __init__(self, rate: float | None, clock: Clock = REAL_CLOCK) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_slot = 0.0
        self.clock = clock
        self.lock = threading.Lock()

    def wait(self, stopped: Callable[[], bool]) -> None:
        if not self.interval:
            return
        with self.lock:
            now = self.clock.now()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        self.clock.sleep(slot - now, stopped)


class Stop:
    """One run's stop signal, shared by the session (nothing new is sent, no wait starts) and the engine (no new
    case): set once, with the first reason given kept ("" for a planned end, such as --duration spent)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""
        self.lock = threading.Lock()

    def set(self, reason: str = "") -> None:
        with self.lock:
            if reason and not self.reason:
                self.reason = reason
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()


@dataclass
class Limits:
    rate: float | None = None  # requests per second; None = as fast as the server answers
    timeout: float = 10.0  # seconds for one whole answer
    max_body: int = MAX_BODY
    max_requests: int | None = None
    deadline: float | None = None  # time.monotonic() after which no wait starts and nothing new is sent
    max_wait: float = MAX_WAIT
    clock: Clock = REAL_CLOCK
    origin: str | None = None  # scheme://host:port every request must go to; None = anywhere
    stop: Stop = field(default_factory=Stop)  # set when `max_requests` is spent, with that as its reason


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
        waited = 0.0
        for attempt in itertools.count():
            self.take_slot(request)
            started = time.monotonic()
            response = super().send(request, stream=True, timeout=timeout, **kwargs)
            self.read_body(response, started)
            delay = come_back_in(response, attempt)
            if delay is None:
                return response
            with self.counters.lock:
                self.counters.rate_limited += 1
            if waited + delay > limits.max_wait or not self.can_wait(delay):
                raise RateLimited(
                    f"{response.status_code} after waiting {waited:g} s (Retry-After: "
                    f"{response.headers.get('Retry-After') or 'none'}); no other answer within the time allowed",
                    request=request,
                    response=response,
                )
            limits.clock.sleep(delay, limits.stop.is_set)
            waited += delay
            with self.counters.lock:
                self.counters.waited += delay
        raise AssertionError("unreachable")  # pragma: no cover - itertools.count() never ends

    def take_slot(self, request: requests.PreparedRequest) -> None:
        limits = self.limits
        if limits.origin is not None and origin(str(request.url)) != limits.origin:
            raise OffTarget(f"not sent to {origin(str(request.url))}: only {limits.origin} gets requests",
                            request=request)  # fmt: skip
        if limits.stop.is_set() or (limits.deadline is not None and time.monotonic() >= limits.deadline):
            raise BudgetSpent(RuntimeError("the run is over; request not sent"), request=request)
        with self.counters.lock:
            if limits.max_requests is not None and self.counters.sent >= limits.max_requests:
                spent = True
            else:
                spent = False
                self.counters.sent += 1
                self.counters.targets.add((str(request.method), str(request.path_url).split("?", 1)[0]))
                case = request.headers.get(CASE_HEADER)
                if case:
                    self.counters.cases.add(str(case))
        if spent:
            limits.stop.set(f"--max-requests {limits.max_requests} reached")
            raise BudgetSpent(RuntimeError(f"--max-requests {limits.max_requests} reached; not sent"), request=request)
        self.pacer.wait(limits.stop.is_set)

    def can_wait(self, delay: float) -> bool:
        limits = self.limits
        if limits.stop.is_set():
            return False
        return limits.deadline is None or time.monotonic() + delay < limits.deadline

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


def come_back_in(response: requests.Response, attempt: int) -> float | None:
    """Seconds to wait before sending again, when the answer says "not now" (429, or 503 with Retry-After)."""
    status = response.status_code
    if status not in (429, 503):
        return None
    delay = retry_after(response.headers.get("Retry-After"))
    if delay is None:
        return BACKOFF[min(attempt, len(BACKOFF) - 1)] if status == 429 else None
    return max(delay, MIN_WAIT)


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


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def why_unreachable(exc: requests.RequestException) -> str:
    """What a user needs from a failed first request, without urllib3's nested reprs."""
    text = repr(exc) + " " + " ".join(repr(e) for e in _chain(exc))
    if isinstance(exc, requests.Timeout):
        return "no answer in time (--request-timeout)"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed (wrong scheme, or a certificate this machine does not trust?)"
    if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
        return "host name not found"
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused (is the server running, on that port?)"
    if "Network is unreachable" in text or "No route to host" in text:
        return "network unreachable"
    if "Connection reset" in text or "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was closed without an answer"
    return type(exc).__name__


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: Any = exc
    while current is not None and len(found) < 10:
        inner = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = inner or current.__cause__ or current.__context__ or getattr(current, "reason", None)
        if isinstance(current, BaseException):
            found.append(current)
        else:
            break
    return found


def make_session(limits: Limits, counters: Counters, pacer: Pacer, adopt: Adopt,
                 base: requests.Session | None = None) -> Any:  # fmt: skip
    session = base if base is not None else requests.Session()
    adapter = GuardedAdapter(limits, counters, pacer, adopt)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
