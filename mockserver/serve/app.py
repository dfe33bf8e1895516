"""The ASGI adapter: HTTP in, a `MockRequest` to the core, bytes out; CORS, latency, the journal and the log line.

Rules: the only module that sees ASGI (and the only one that imports Starlette). One raw ASGI endpoint, because
framework Request/Response objects cost more than the whole mock on a fast request. Each request is read (bounded
headers, query and body), answered (admin route, rate limit, remembered answer or the core), delivered (delay,
CORS, HEAD) and recorded (journal, log line); a CORS preflight is answered and recorded too. An answer is
remembered only while no override is active and when it does not depend on state. `create_app()` with no argument
reads `MOCKSERVER_*` variables, so `uvicorn --factory mockserver.serve.app:create_app` works; `--watch` swaps in a
new core (`MockApp.reload`) when the contract or fixtures change. With an upstream (`Config.upstream`), a `Forwarder`
(forward/proxy.py) answers every request (`mockserver proxy`) or those the mock answers with neither a fixture nor an
override (hybrid); this module only hands it the request.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
import time
import traceback
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING

from starlette.requests import cookie_parser
from starlette.types import Receive, Scope, Send

from ..contract import security
from . import faults
from .admin import Admin
from .config import Config
from .cors import Cors, load_policy
from .journal import Journal, Redactor, RequestLog
from .pipeline import problems
from .pipeline.answer import Answer, problem_answer
from .pipeline.core import Mock, MockRequest, Outcome, build_mock, fixtures_folders
from .pipeline.negotiation import NEVER
from .store import StateError
from .wire import Read, Reader, query_of

if TYPE_CHECKING:  # imported when there is an upstream: httpx costs a plain `serve` 50-250 ms of start-up
    from .events.mount import Mount
    from .forward.proxy import Forwarder

# Answers remembered for repeated requests. Few: a frontend polls a handful of URLs, and a flood of new ids must not
# grow the heap the garbage collector walks (4096 entries cost 25 MB and 2x the p99 on generated answers, bench/).
MEMO_ENTRIES = 256
MEMO_BODY_BYTES = 16_384
_NOISE = frozenset({b"/favicon.ico", b"/apple-touch-icon.png", b"/apple-touch-icon-precomposed.png"})  # unrouted
_sleep = asyncio.sleep  # one seam for tests, without patching asyncio for everyone
_clock = time.perf_counter


class MockApp:
    def __init__(self, mock: Mock, config: Config, journal: Journal, log: RequestLog | None, cors: Cors | None,
                 admin: Admin | None, forwarder: Forwarder | None = None) -> None:  # fmt: skip
        self.mock = mock
        self.config = config
        self.journal = journal
        self.log = log
        self.cors = cors
        self.admin = admin
        self.admin_prefix = config.admin_prefix
        self._admin_bytes = config.admin_prefix.encode()
        self._latency = config.latency if config.latency[1] > 0 else None
        self.redactor = journal.redactor
        self.rng = random.Random()
        self.forwarder = forwarder
        self.state = SimpleNamespace(mock=mock, journal=journal, forwarder=forwarder)
        # The same request always gets the same answer (that is the design), so a repeated one (a frontend polling
        # one resource) is answered from memory. Not with --error-rate, whose faults are drawn per request.
        self.answers: dict[tuple[object, bytes], Outcome] | None = {} if config.error_rate == 0 else None
        self.watcher: object | None = None
        self._sockets: Mount | None = None
        self._socket_bare = "\x00"  # the socket.io path without its slash ("\x00": starts no path, when none)
        reader = Reader(config.max_body_bytes, cookie_parser)  # its bound methods: no extra lookup per request
        self._read, self._read_body = reader.read, reader.read_body
        self._fixed: dict[tuple[str, str | None], list[tuple[bytes, bytes]]] = {}
        self._store_failing = False

    @property
    def sockets(self) -> Mount | None:
        """socket.io at --socketio-path: streams, or the relay with `proxy`."""
        return self._sockets

    @sockets.setter
    def sockets(self, sockets: Mount | None) -> None:
        self._sockets = sockets
        self._socket_bare = sockets.path[:-1] if sockets is not None else "\x00"

    def reload(self, mock: Mock) -> None:
        """Serve a new core (--watch): the store, and so items, overrides and the journal, carry over."""
        self.mock = mock
        self.state.mock = mock
        if self.admin is not None:
            self.admin.mock = mock
        if self.forwarder is not None:
            self.forwarder.use(mock)
        if self.answers is not None:
            self.answers = {}  # a new dict, not clear(): the event loop may be reading the old one
        if self.sockets is not None:
            self.sockets.use(mock.streams)

    def close(self) -> None:
        stop = getattr(self.watcher, "stop", None)
        if stop is not None:
            stop()
        self.flush()
        self.mock.store.close()

    def flush(self) -> None:
        """The log lines buffered (requestlog.py), written now: at shutdown and when closed."""
        for log in (self.log, self.forwarder.log if self.forwarder is not None else None):
            if log is not None:
                log.flush()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One coroutine per request: the request path is a few microseconds, and each extra frame costs (bench/)
        if scope["type"] != "http" or scope["path"].startswith(self._socket_bare) and self._socket(scope):
            if scope["type"] == "lifespan":
                await _lifespan(receive, send, self.forwarder, self.flush)
            elif self._sockets is not None and scope["type"] in ("http", "websocket"):
                await self._sockets(scope, receive, send)  # socket.io (serve/events/); a WebSocket elsewhere: 403
            return
        start = _clock()
        try:
            request = self._read(scope)
            headers = request.headers
            if "content-length" in headers or "transfer-encoding" in headers:
                request = await self._read_body(request, receive)
            origin = headers.get("origin")
            if origin is not None and self.cors is not None and request.method == "OPTIONS" \
                    and "access-control-request-method" in headers:  # fmt: skip
                await self._preflight(request, origin, send, start)
                return
            if self.admin is not None and request.raw_path.startswith(self._admin_bytes):
                admin = self._admin(request)
                if admin is not None:
                    await self._deliver(send, admin, request.method == "HEAD", origin, delay=False)
                    return
            forwarder = self.forwarder
            if forwarder is not None and forwarder.everything and request.refused is None:
                outcome = await forwarder.forward(self._core(request), request.query_string, request.raw_headers)
            else:
                limited = self._limited() if self.config.rate_limit else None
                outcome = limited if limited is not None else self._answer(request)
                if limited is None and forwarder is not None and request.refused is None:
                    core = self._core(request)
                    if forwarder.takes(outcome, request.headers, core.query):
                        outcome = await forwarder.forward(core, request.query_string, request.raw_headers)
            answer = outcome.answer
            if answer.delay_ms is None and self._latency is None and answer.fault is None:  # at once, as it is
                await send({"type": "http.response.start", "status": answer.status,
                            "headers": self._headers(answer, origin)})  # fmt: skip
                await send({"type": "http.response.body", "body": b"" if request.method == "HEAD" else answer.body})
            else:
                await self._deliver(send, answer, request.method == "HEAD", origin, delay=True, receive=receive)
            if outcome.operation or request.raw_path not in _NOISE:  # a browser's own asking, not the app's
                self._record(request, outcome, (_clock() - start) * 1000)
        except BaseException as exc:  # a bug, a failed send, a task cancelled at shutdown: the line is still written
            if self.log is not None:
                path = (scope.get("raw_path") or b"").decode("latin-1") or scope.get("path", "")
                path = self.redactor._scrub(path, self.redactor.active([]))
                ms = (_clock() - start) * 1000
                self.log.write(f"{scope['method']} {path} 500 crashed {ms:.2f}ms ({type(exc).__name__})\n")
            raise

    def _socket(self, scope: Scope) -> bool:  # under the socket.io path (`Mount.takes`)
        return self._sockets is not None and self._sockets.takes(scope)

    async def _preflight(self, request: Read, origin: str, send: Send, start: float) -> None:
        """A CORS preflight, answered and recorded (not for the admin endpoints)."""
        assert self.cors is not None
        wanted = request.headers["access-control-request-method"]
        status, headers, body = self.cors.preflight(
            origin, wanted, request.headers.get("access-control-request-headers")
        )
        if self._admin_path(request.raw_path) and not self._trusted(origin, request.headers.get("host", "")):
            status, headers, body = 403, [(b"vary", b"Origin")], b"Disallowed CORS origin for the admin endpoints"
        headers = headers + [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"text/plain; charset=utf-8"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        if not request.raw_path.startswith(self._admin_bytes):
            verdict = "allowed" if status == 200 else body.decode()
            note = f"CORS preflight for {wanted[:32]} from {origin[:200]}: {verdict}"
            answer = Answer(status, body, "cors", "text/plain; charset=utf-8")
            self._record(request, Outcome(answer, note=note), (_clock() - start) * 1000)

    def _admin_path(self, raw_path: bytes) -> bool:
        prefix = self._admin_bytes
        # /__mockery is a path of the contract's, not an admin route
        return self.admin is not None and (raw_path == prefix or raw_path.startswith(prefix + b"/"))

    def _admin(self, request: Read) -> Answer | None:
        if self.admin is None or not self._admin_path(request.raw_path):
            return None
        sub = request.raw_path[len(self.admin_prefix) :].decode("latin-1")
        if request.refused is not None:
            if request.refused.status == 413:  # an admin request is JSON a person or script wrote: one clear 400
                limit = self.config.max_body_bytes
                return problem_answer(problems.BAD_ADMIN, f"the body is larger than {limit} bytes (--max-body-bytes)",
                                      field="(body)")  # fmt: skip
            return request.refused
        origin = request.headers.get("origin")
        if origin is not None and not self._trusted(origin, request.headers.get("host", "")):
            return problem_answer(problems.ADMIN_CROSS_ORIGIN, f"{origin[:200]} may not use the admin endpoints")
        return self.admin.handle(request.method, sub, query_of(request.query_pairs), request.body, request.headers)

    def _trusted(self, origin: str, host: str) -> bool:
        """Whether a page from `origin` may steer the mock: its own pages (the dashboard) and --cors-origin ones.
        Any other site the developer visits could otherwise reset the mock or add overrides from the browser."""
        return origin.split("://", 1)[-1] == host or origin in self.config.cors_origins

    def _limited(self) -> Outcome | None:
        """`--rate-limit N/s`: past N mocked requests in the current second (across replicas with a shared store),
        a 429 that says when to come back."""
        now = time.time()
        try:
            count = self.mock.store.hit(int(now))
        except StateError as exc:
            self._store_error(exc)
            return None
        if count <= self.config.rate_limit:
            return None
        retry = max(1, math.ceil(int(now) + 1 - now))
        answer = problem_answer(
            problems.RATE_LIMITED,
            f"more than {self.config.rate_limit} requests per second (--rate-limit); retry after {retry} s",
            headers=(("Retry-After", str(retry)),),
        )
        return Outcome(answer, note=f"rate limit {self.config.rate_limit}/s", reuse=NEVER)

    def _answer(self, request: Read) -> Outcome:
        if request.refused is not None:
            return Outcome(
                request.refused,
                note=problems.HEADERS_TOO_LARGE.title if request.refused.status == 431 else problems.TOO_LARGE.title,
            )
        try:
            overridden = self.mock.overrides.refresh()
        except StateError as exc:
            self._store_error(exc)
            return Outcome(problem_answer(problems.STATE_DOWN, str(exc)), note="state store unavailable")
        memo = shape = None
        if not request.body and request.heads is not None:  # requests of one shape differ only in their path
            shape = (request.method, request.query_string, request.heads)
            answers = self.answers
            if answers is not None and not overridden:
                memo = (shape, request.raw_path)
                found = answers.get(memo)
                if found is not None:
                    return found
        try:
            mock = self.mock
            quick, match = mock.quick(request.method, request.raw_path, request.headers, shape) \
                if shape is not None and not request.query_pairs else (None, None)  # fmt: skip
            outcome = quick or mock.handle(self._core(request, shape), overrides_read=True, match=match)
        except StateError as exc:
            self._store_error(exc)
            outcome = Outcome(problem_answer(problems.STATE_DOWN, str(exc)), note="state store unavailable")
        except Exception:  # a bug of ours must not take the server down: say so, and keep serving
            traceback.print_exc()
            outcome = Outcome(
                problem_answer(problems.INTERNAL, "internal error in the mock server (a bug: please report it)")
            )
        if outcome.reuse == NEVER:
            return outcome
        answers = self.answers
        if memo is not None and answers is not None and len(outcome.answer.body) <= MEMO_BODY_BYTES:
            if len(answers) >= MEMO_ENTRIES:  # the oldest goes: O(1), no pause when the memory is full
                del answers[next(iter(answers))]
            answers[memo] = outcome
        return outcome

    def _core(self, request: Read, shape: tuple[str, bytes, int] | None = None) -> MockRequest:
        if shape is None and request.heads is not None and not request.body:
            shape = (request.method, request.query_string, request.heads)
        query = query_of(request.query_pairs) if request.query_pairs else {}
        return MockRequest(request.method, request.raw_path, query, request.headers, request.cookies, request.body,
                           request.too_many_query, shape)  # fmt: skip

    def _store_error(self, exc: StateError) -> None:
        """One line when the shared store fails, one when it is back; never a traceback per request."""
        if not self._store_failing:
            self._store_failing = True
            print(f"mockserver: error: {exc}", file=sys.stderr, flush=True)

    async def _deliver(self, send: Send, answer: Answer, head: bool, origin: str | None, delay: bool,
                       receive: Receive | None = None) -> None:  # fmt: skip
        wait = answer.delay_ms
        if wait is None and delay and self._latency is not None:
            wait = self.rng.randint(*self._latency)
        if wait:
            await _sleep(wait / 1000)
        headers = self._headers(answer, origin)
        if answer.fault is not None and receive is not None:
            await faults.deliver(answer.fault, send, receive, answer.status, headers, answer.body)
            return
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else answer.body})

    def _headers(self, answer: Answer, origin: str | None) -> list[tuple[bytes, bytes]]:
        if origin is None:  # the same few header lines for every answer of a source and media type: made once
            fixed = self._fixed.get((answer.source, answer.media))
            if fixed is None:
                fixed = self._fixed_headers(answer, None)
                if len(self._fixed) < 256:
                    self._fixed[(answer.source, answer.media)] = fixed
            headers = [(b"content-length", str(len(answer.body)).encode()), *fixed]
        else:
            headers = [(b"content-length", str(len(answer.body)).encode()), *self._fixed_headers(answer, origin)]
        if answer.headers:
            for name, value in answer.headers:
                clean = value if value.isprintable() else "".join(c for c in value if c >= " " and c != "\x7f")
                headers.append((name.lower().encode("latin-1", "replace"), clean.encode("latin-1", "replace")))
        return headers

    def _fixed_headers(self, answer: Answer, origin: str | None) -> list[tuple[bytes, bytes]]:
        headers = [(b"x-mock-source", answer.source.encode())]
        if self.cors is not None:
            headers.extend(self.cors.simple(origin) if origin is not None else [(b"vary", b"Origin")])
        if answer.media is not None:
            headers.append((b"content-type", answer.media.encode("latin-1", "replace")))
        return headers

    def _record(self, request: Read, outcome: Outcome, ms: float) -> None:
        answer = outcome.answer
        secrets = outcome.secrets
        redactor = self.redactor
        active = redactor.searched(secrets)
        path = request.raw_path.decode("latin-1")
        if active:  # once for the log line and the journal
            path = redactor._scrub(path, active)
        if self.log is not None:
            self.log.write(f"{request.method} {path} {answer.status} {answer.source} {ms:.2f}ms\n")
        try:
            self.journal.record(request.method, path, request.query_pairs, request.pairs, answer.status, answer.source,
                                outcome.operation, ms, [], outcome.note,  # `active` below is what it searches
                                outcome.fixture, outcome.override, answer.body, answer.media, outcome.violations,
                                active, request.body, True)  # fmt: skip
        except StateError as exc:
            self._store_error(exc)
            return
        if self._store_failing:
            self._store_failing = False
            print("mockserver: the state store answers again", file=sys.stderr, flush=True)


async def _lifespan(receive: Receive, send: Send, forwarder: Forwarder | None, flush: Callable[[], None]) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if forwarder is not None:  # the upstream client's connections belong to this loop
                await forwarder.aclose()
            flush()  # uvicorn's graceful shutdown (SIGTERM, SIGINT) in every worker: no buffered log line is lost
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(config: Config | None = None, mock: Mock | None = None, forwarder: Forwarder | None = None) -> MockApp:
    config = config or Config.from_env()
    mock = mock or build_mock(config)
    if forwarder is None and config.upstream is not None:
        from .forward.proxy import Forwarder

        forwarder = Forwarder(config, mock)
    journal = Journal(
        config.journal_size,
        Redactor(security.secret_names(mock.spec.security_schemes.values()), config.api_key),
        mock.store,
    )
    cors = None
    if config.cors:
        exposed = {
            "X-Mock-Source",
            "Retry-After",
            "Location",
            *(h for op in mock.spec.operations for r in op.responses.values() for h in r.headers),
            *(("X-Contract-Violations",) if config.violations_header and forwarder is not None else ()),
        }
        cors = Cors(config.cors_origins, exposed, policy=load_policy(fixtures_folders(config)))  # a recorded one
    admin = Admin(mock, journal, config.admin_prefix) if config.admin else None
    app = MockApp(mock, config, journal, RequestLog() if config.request_log else None, cors, admin, forwarder)
    from .events.mount import mount

    app.sockets = mount(config, mock.streams, mock.store, journal, app.log, forwarder is not None, lambda: app.mock)
    if config.watch:
        from .watch import Watcher

        app.watcher = Watcher(config, app)
        app.watcher.start()
    return app
