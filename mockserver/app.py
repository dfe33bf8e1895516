"""The Starlette adapter: ASGI in, `MockRequest` to the core, bytes out; CORS, latency, journal, log, admin routes.

Rules: the only module that sees HTTP. The mock endpoint is a raw ASGI callable (Starlette's Request/Response
objects cost more than the whole mock on a fast request). `create_app()` with no argument reads `MOCKSERVER_*`
variables, so `uvicorn --factory mockserver.app:create_app` works.
"""

from __future__ import annotations

import asyncio
import random
import time
import traceback
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from . import problems
from .config import Config
from .fixtures import load_fixtures
from .generation import dumps
from .journal import Journal, Redactor, RequestLog, secret_names
from .mock import Answer, Mock, MockRequest, problem_answer
from .spec import Spec, builtin, load_spec

MAX_QUERY_FIELDS = 1000
MAX_HEADERS = 100  # browsers send about 15; more is an attack or a bug, and every header costs per request
MAX_HEADER_BYTES = 65_536
# Answers remembered for repeated requests. Few: a frontend polls a handful of URLs, and a flood of new ids must not
# grow the heap the garbage collector walks (4096 entries cost 25 MB and 2x the p99 on generated answers, bench/).
MEMO_ENTRIES = 256
MEMO_BODY_BYTES = 16_384
_sleep = asyncio.sleep  # one seam for tests, without patching asyncio for everyone


def fixtures_folder(config: Config) -> str | None:
    if config.fixtures is not None:
        return config.fixtures or None
    return builtin()[1] if config.spec is None else None


def build_mock(config: Config) -> Mock:
    """Loads and checks everything the server needs; raises DocumentError/ConfigError for a user's mistake."""
    spec = load_spec(config.spec)
    return Mock(spec, load_fixtures(fixtures_folder(config), spec), config)


class MockEndpoint:
    def __init__(
        self, mock: Mock, config: Config, journal: Journal, log: RequestLog | None, cors: CORSMiddleware | None = None
    ) -> None:
        self.mock = mock
        self.config = config
        self.journal = journal
        self.log = log
        self.redactor = journal.redactor
        self.rng = random.Random()
        self.cors = cors  # set when this endpoint is served outside Starlette's middleware stack (see _MockApp)
        # The same request always gets the same answer (that is the design), so a repeated one (a frontend polling
        # one resource) is answered from memory. Not with --error-rate, whose faults are drawn per request.
        self.answers: dict[tuple[object, ...], Answer] | None = {} if config.error_rate == 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        start = time.perf_counter()
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        raw_path = raw_path.split(b"?", 1)[0]
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        oversized = len(raw_headers) > MAX_HEADERS
        if oversized:
            raw_headers = raw_headers[:MAX_HEADERS]
        pairs: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        size = 0
        for raw_name, raw_value in raw_headers:
            size += len(raw_name) + len(raw_value)
            name, value = raw_name.decode("latin-1"), raw_value[:MAX_HEADER_BYTES].decode("latin-1")  # ASGI: lower-case
            pairs.append((name, value))
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        oversized = oversized or size > MAX_HEADER_BYTES
        vary = False
        if self.cors is not None:
            origin = headers.get("origin")
            if origin is not None and method == "OPTIONS" and "access-control-request-method" in headers:
                await self.cors.preflight_response(request_headers=Headers(scope=scope))(scope, receive, send)
                return
            if origin is None:
                vary = True  # all CORS adds to an answer without Origin; no need for the middleware's machinery
            else:
                send = self._cors_send(send, scope)
        answer: Answer | None = None
        if oversized:
            answer = problem_answer(problems.HEADERS_TOO_LARGE, f"at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes of them")
        query_string: bytes = scope["query_string"]
        query_pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace") if query_string else []
        too_many = len(query_pairs) > MAX_QUERY_FIELDS  # the server's URL limit bounds the count; the contract's 422 says it
        query_pairs = query_pairs[:MAX_QUERY_FIELDS]
        body, too_large = await self._body(receive, headers)
        if too_large and answer is None:
            answer = problem_answer(problems.TOO_LARGE, f"request body over {self.config.max_body_bytes} bytes")
        memo = None
        if answer is None and self.answers is not None and not body:
            memo = (method, raw_path, query_string, tuple(raw_headers))
            answer = self.answers.get(memo)
        if answer is None:
            query: dict[str, list[str]] = {}
            for k, v in query_pairs:
                query.setdefault(k, []).append(v)
            cookies = cookie_parser(headers["cookie"]) if "cookie" in headers else {}
            request = MockRequest(method, raw_path, query, headers, cookies, body, too_many)
            try:
                answer = self.mock.handle(request)
            except Exception:  # a bug of ours must not take the server down: say so, and keep serving
                traceback.print_exc()
                answer = problem_answer(problems.INTERNAL, "internal error in the mock server (a bug: please report it)")
            if memo is not None and self.answers is not None and len(answer.body) <= MEMO_BODY_BYTES:
                if len(self.answers) >= MEMO_ENTRIES:  # the oldest goes: O(1), no pause when the memory is full
                    del self.answers[next(iter(self.answers))]
                self.answers[memo] = answer
        delay = answer.delay_ms
        if delay is None and self.config.latency[1] > 0:
            delay = self.rng.randint(*self.config.latency)
        if delay:
            await _sleep(delay / 1000)
        await self._send(send, answer, method == "HEAD", vary)
        ms = (time.perf_counter() - start) * 1000
        secrets = [*answer.secrets, *(quote(s, safe="") for s in answer.secrets)] if answer.secrets else answer.secrets
        path = raw_path.decode("latin-1")
        if self.log is not None:
            self.log.write(f"{method} {self.redactor.text(path, secrets)} {answer.status} {answer.source} {ms:.2f}ms\n")
        self.journal.record(
            method, path, query_pairs, pairs, answer.status, answer.source, answer.operation, ms, secrets,
        )  # fmt: skip

    async def _body(self, receive: Receive, headers: dict[str, str]) -> tuple[bytes, bool]:
        if "content-length" not in headers and "transfer-encoding" not in headers:
            return b"", False
        chunks, size, too_large = [], 0, False
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.config.max_body_bytes:
                too_large = True
            elif chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return (b"" if too_large else b"".join(chunks)), too_large

    def _cors_send(self, send: Send, scope: Scope) -> Send:
        """CORS headers on an answer to a request with an Origin, exactly as Starlette's CORSMiddleware adds them."""
        cors = self.cors
        assert cors is not None

        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await cors.send(message, send, Headers(scope=scope))
                return
            await send(message)

        return cors_send

    @staticmethod
    async def _send(send: Send, answer: Answer, head: bool, vary: bool) -> None:
        headers = [(b"content-length", str(len(answer.body)).encode()), (b"x-mock-source", answer.source.encode())]
        if vary:
            headers.append((b"vary", b"Origin"))
        if answer.media is not None:
            headers.append((b"content-type", answer.media.encode("latin-1", "replace")))
        for name, value in answer.headers:
            clean = "".join(c for c in value if c >= " " and c != "\x7f")
            headers.append((name.lower().encode("latin-1", "replace"), clean.encode("latin-1", "replace")))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else answer.body})



def _admin_routes(prefix: str, mock: Mock, journal: Journal) -> list[Route]:
    spec: Spec = mock.spec

    async def health(request: Request) -> Response:
        body = {
            "status": "ok",
            "spec": spec.source.rsplit("/", 1)[-1],
            "operations": len(spec.operations),
            "fixtures": sum(len(index.by_name) for index in mock.fixtures.values()),
            "warnings": spec.warnings[:50],
        }
        return Response(dumps(body), media_type="application/json")

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            journal.entries.clear()
            return Response(status_code=204)
        limit = request.query_params.get("limit")
        snapshot = journal.snapshot(int(limit) if limit and limit.isdigit() else None)
        return Response(dumps(snapshot), media_type="application/json")

    return [Route(prefix + "/health", health), Route(prefix + "/requests", requests, methods=["GET", "DELETE"])]


class _MockApp(Starlette):
    """Requests outside the admin prefix go straight to the mock endpoint, which adds CORS headers itself:
    Starlette's middleware stack and router cost about as much as the whole mock on a fast request (bench/)."""

    endpoint: MockEndpoint
    admin_prefix: str | None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not (self.admin_prefix and scope["path"].startswith(self.admin_prefix)):
            scope["app"] = self
            await self.endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(config: Config | None = None, mock: Mock | None = None) -> Starlette:
    config = config or Config.from_env()
    mock = mock or build_mock(config)
    journal = Journal(config.journal_size, Redactor(secret_names(mock.spec), config.api_key))
    log = RequestLog() if config.request_log else None
    middleware: list[Middleware] = []
    if config.cors:
        exposed = sorted({"X-Mock-Source", *(h for op in mock.spec.operations for r in op.responses.values() for h in r.headers)})
        middleware.append(
            Middleware(
                CORSMiddleware,  # type: ignore[arg-type]
                allow_origins=config.cors_origins or ["*"],
                allow_methods=["*"],
                allow_headers=["*"],
                allow_credentials=True,
                expose_headers=exposed,
                max_age=600,
            )
        )
    routes = _admin_routes(config.admin_prefix, mock, journal) if config.admin else []
    app = _MockApp(routes=routes, middleware=middleware)
    app.router.default = MockEndpoint(mock, config, journal, log)  # under the admin prefix, inside the middleware
    cors = CORSMiddleware(app.router, **middleware[0].kwargs) if middleware else None  # type: ignore[arg-type]
    app.endpoint = MockEndpoint(mock, config, journal, log, cors)
    app.admin_prefix = config.admin_prefix if config.admin else None
    app.router.redirect_slashes = False
    app.state.mock = mock
    app.state.journal = journal
    return app
