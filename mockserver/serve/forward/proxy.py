"""Forwarding to a real server: `mockserver proxy` (every request) and `serve --upstream` (what no fixture answers).

Rules: requests go only to the URL the user gave (`--upstream`), never to a contract's `servers`; the raw path and query
are passed on byte for byte (`%2F` stays `%2F`, `/a/..` is not folded: `exact_url`), with the client's headers minus
hop-by-hop ones and `Host`. Nothing blocks the event loop: one `httpx.AsyncClient` (no environment proxies, no cookie
jar, no redirects followed), the answer streamed in under a byte bound and the whole exchange under a deadline; a large
body is checked in a thread. An upstream that is down, slow, resets or sends too much gives the client a 502/504 problem
and one log line, and nothing is recorded. The answer goes back unchanged but for hop-by-hop headers, a `Location`
pointing at the upstream (made relative, so the client stays on the proxy), CORS (the proxy's own unless `--no-cors`)
and, when asked, `X-Contract-Violations`. Both directions are checked against the contract (drift.py); every finding is
printed (redacted, capped per distinct finding), journaled and tallied for the exit summary and JUnit XML.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import itertools
import sys
import zlib
from dataclasses import dataclass, replace
from typing import TextIO
from urllib.parse import urlsplit

import httpx

from ...contract import security, words
from ...contract.routing import FULL
from ..config import Config
from ..journal import Redactor, RequestLog
from ..pipeline import problems
from ..pipeline.answer import Answer, problem_answer
from ..pipeline.core import Mock, MockRequest, Outcome
from ..pipeline.preferences import CONTROL
from ..pipeline.validation import TOO_MANY_QUERY
from .drift import VIOLATION, Checker, Drift, Report, judging, request_drift, response_views, unmatched
from .recorder import Exchange, Recorder

FROM_UPSTREAM = "upstream"  # X-Mock-Source of a forwarded answer
# In hybrid mode (serve --upstream) these answers stay local (fixtures, runtime overrides, --stateful items: each as
# deliberate as the other); everything else is forwarded.
LOCAL_SOURCES = frozenset({"fixture", "override", "state"})
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
    "proxy-authorization", "proxy-authenticate",
})  # fmt: skip
_NOT_FORWARDED = _HOP_BY_HOP | {"host", "content-length", "expect", "accept-encoding"}
OFFLOAD_BYTES = 256 * 1024  # bodies larger than this are validated in a thread
# httpcore's pool checks every idle connection (a poll and a getpeername system call each) on every request
# (encode/httpcore#924, #1035), so one pool's cost grows with its size. Small pools used in turn keep that scan
# short: 16 pools of 4 kept-alive connections cost a third of the CPU per request of one pool of 64 (measured).
POOLS, KEPT_ALIVE, CONNECTIONS = 16, 4, 16  # per pool
MAX_HEADER_VALUE = 2000  # X-Contract-Violations is clipped here
MAX_TARGET = 160  # a request as findings name it


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class Received:
    status: int
    headers: list[tuple[str, str]]  # as received, names in lower case
    body: bytes  # as received (still content-coded, if the upstream ignored `Accept-Encoding: identity`)


@dataclass(frozen=True)
class UpstreamError:
    problem: problems.Problem  # BAD_GATEWAY or GATEWAY_TIMEOUT
    reason: str


def exact_url(base: httpx.URL, target: bytes) -> httpx.URL:
    """`base` with its request target `target`, byte for byte: httpx folds dot segments (`/a/..` becomes `/`), which
    would send another request than the client's, so its parsed form gets the path and query as sent."""
    url = base.copy_with(raw_path=target)
    if url.raw_path == target or not target.isascii():
        return url
    path, mark, query = target.decode("ascii").partition("?")
    url._uri_reference = url._uri_reference._replace(path=path, query=query if mark else None)  # private: see above
    return url


class Upstream:
    """The real server: one async client, bounded in time and bytes."""

    def __init__(self, url: str, timeout: float, max_bytes: int,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:  # fmt: skip
        self.url = url.rstrip("/")
        self.base = httpx.URL(url)
        self.prefix = self.base.raw_path.split(b"?")[0].rstrip(b"/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        # no cookie jar: a proxy must not keep one client's cookies, nor grow with every Set-Cookie it passes on
        no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=KEPT_ALIVE)
        self.clients = [
            httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=False,
                              trust_env=False, cookies=no_cookies, limits=limits)
            for _ in range(POOLS if transport is None else 1)
        ]  # fmt: skip
        self._next = itertools.cycle(self.clients)

    async def send(self, method: str, raw_path: bytes, query_string: bytes, headers: list[tuple[bytes, bytes]],
                   body: bytes) -> Received | UpstreamError:  # fmt: skip
        target = self.prefix + raw_path + (b"?" + query_string if query_string else b"")
        request = httpx.Request(method, exact_url(self.base, target), headers=outgoing(headers),
                                content=body or None)  # fmt: skip
        try:
            return await asyncio.wait_for(self._exchange(request), self.timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            return UpstreamError(problems.GATEWAY_TIMEOUT, f"no whole answer from {self.url} within {self.timeout:g} s")
        except _TooLarge:
            return UpstreamError(problems.BAD_GATEWAY, f"the answer from {self.url} is over {self.max_bytes} bytes")
        except httpx.ConnectError as exc:
            return UpstreamError(problems.BAD_GATEWAY, f"cannot connect to {self.url}: {exc or type(exc).__name__}")
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            return UpstreamError(problems.BAD_GATEWAY,
                                 f"{self.url} broke off the exchange: {exc or type(exc).__name__}")  # fmt: skip
        except httpx.HTTPError as exc:
            return UpstreamError(problems.BAD_GATEWAY, f"{self.url}: {type(exc).__name__}: {exc}")

    async def _exchange(self, request: httpx.Request) -> Received:
        response = await next(self._next).send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise _TooLarge
            chunks, size = [], 0
            whole = response.is_stream_consumed  # a transport that hands over a body already read and decoded
            if whole:
                chunks = [response.content]
                size = len(response.content)
            else:
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _TooLarge
                    chunks.append(chunk)
            if size > self.max_bytes:
                raise _TooLarge
        finally:
            await response.aclose()
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw]
        if whole:
            headers = [(k, v) for k, v in headers if k != "content-encoding"]
        return Received(response.status_code, headers, b"".join(chunks))

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def outgoing(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The client's headers for the upstream: hop-by-hop ones (and those `Connection` names) dropped, `Host` set by
    the URL, and `Accept-Encoding: identity` so that the answer can be checked and recorded as it is passed on."""
    named = {t.strip().lower() for k, v in headers if k.lower() == b"connection"
             for t in v.decode("latin-1").split(",")}  # fmt: skip
    kept = [(k, v) for k, v in headers
            if (name := k.decode("latin-1").lower()) not in _NOT_FORWARDED and name not in named]  # fmt: skip
    return [*kept, (b"accept-encoding", b"identity")]


def decoded(body: bytes, coding: str, limit: int) -> bytes | None:
    """The body without its content coding (gzip, deflate), at most `limit` bytes; None when it cannot be had."""
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        return None
    for wbits in (31,) if "gzip" in coding else (15, -15):  # deflate: zlib-wrapped, or raw as some servers send it
        try:
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        return out if len(out) <= limit and not inflater.unconsumed_tail else None
    return None


def checker(mock: Mock) -> Checker:
    """Both directions judged as a real server's traffic: requests by the mock's validators, answers by the RESPONSE
    view (a nullable writeOnly secret answered null passes, a value is a leak)."""
    return Checker(mock.validators, judging(mock.generator.validator), response_views(mock.producer.schemas))


class Forwarder:
    """The seam the ASGI adapter calls: every request (`everything`, the proxy) or those it `takes` (hybrid) go to
    `forward`; `finish` writes the summary, the JUnit file and pending recordings when the server has stopped."""

    def __init__(self, config: Config, mock: Mock, upstream: Upstream | None = None,
                 stream: TextIO | None = None) -> None:  # fmt: skip
        assert config.upstream is not None
        self.everything = config.proxy
        self.command = "proxy" if config.proxy else "serve"
        self.unwritten = False  # a report file could not be written: exit 2
        self.router = mock.router
        self.api_key = config.api_key
        self.header = config.violations_header
        self.own_cors = config.cors
        self.schemes = [s for s in mock.spec.security_schemes.values() if s.type != "mutualTLS"]
        self.redactor = Redactor(security.secret_names(self.schemes), config.api_key)
        self.checker = checker(mock)
        self.report = Report([op.key for op in mock.spec.operations])
        self.recorder = Recorder(config.record, mock.spec, self.checker, self.redactor) if config.record else None
        self.upstream = upstream or Upstream(config.upstream, config.upstream_timeout, config.max_upstream_bytes)
        self.max_bytes = config.max_upstream_bytes
        parts = urlsplit(config.upstream)
        self.origin = f"{parts.scheme}://{parts.netloc}".lower()
        self.log = RequestLog(stream or sys.stderr)  # findings and upstream errors: printed even with --no-request-log

    def takes(self, outcome: Outcome, headers: dict[str, str], query: dict[str, list[str]]) -> bool:
        """Hybrid mode: whether an answer of the mock's goes to the upstream instead. Fixtures, overrides and state
        stay, and so does anything a client asked the mock for (`Prefer`, `?__code=`...)."""
        if outcome.answer.source in LOCAL_SOURCES or "prefer" in headers:
            return False
        return not any(name.startswith(CONTROL) for name in query)

    def use(self, mock: Mock) -> None:
        """A new core (`--watch`): its routes and validators from now on; the tally and the recording carry on."""
        self.router = mock.router
        self.checker = checker(mock)
        self.report.operations = [op.key for op in mock.spec.operations]
        if self.recorder is not None:
            self.recorder.use(mock.spec, self.checker)

    async def forward(self, request: MockRequest, query_string: bytes,
                      raw_headers: list[tuple[bytes, bytes]]) -> Outcome:  # fmt: skip
        method, path = request.method, request.raw_path.decode("latin-1")
        match = self.router.match(method, request.raw_path)
        op = match.operation if match.kind == FULL else None
        secrets = [v for s in self.schemes if (v := s.credential(request.headers, request.query, request.cookies))]
        target = self.redactor.text(f"{method} {path}", secrets)
        if len(target) > MAX_TARGET:  # for the findings' lines and summary; the journal keeps the path
            target = f"{target[:MAX_TARGET]}...(+{len(target) - MAX_TARGET} chars)"
        drifts: list[Drift] = []
        if op is not None:
            drifts = self.checker.request(op, match.params, match.bad_params, request.query, request.headers,
                                          request.cookies, request.body)  # fmt: skip
            if request.too_many_query:
                drifts += request_drift(op, [TOO_MANY_QUERY])
        received = await self.upstream.send(method, request.raw_path, query_string, raw_headers, request.body)
        key = op.key if op is not None else ""
        if isinstance(received, UpstreamError):
            reason = self.redactor.text(received.reason, secrets)
            self.report.error(reason)
            self._tally(key, drifts, target, secrets)
            self.log.write(f"mockserver: upstream error: {target}: {reason} (answered {received.problem.status})\n")
            answer = problem_answer(received.problem, reason)
            return Outcome(answer, key, tuple(secrets), reason, violations=tuple(d.as_dict() for d in drifts))
        headers = [(k, self._relative(v) if k in ("location", "content-location") else v) for k, v in received.headers]
        joined: dict[str, str] = {}
        for name, value in headers:
            joined[name] = f"{joined[name]}, {value}" if name in joined else value
        ok = op is None or security.satisfied(op.security, request.headers, request.query, request.cookies,
                                              self.api_key)[0]  # fmt: skip

        def judge() -> tuple[bytes | None, list[Drift]]:
            body = decoded(received.body, joined.get("content-encoding", ""), self.max_bytes)
            if op is None:
                return body, [unmatched(method, received.status)]
            return body, self.checker.response(op, method, received.status, joined, body, ok)

        # decoding and validating a large body takes milliseconds: not on the event loop (nor inflating a small one)
        heavy = len(received.body) > OFFLOAD_BYTES or "content-encoding" in joined
        body, found = await asyncio.to_thread(judge) if heavy else judge()
        drifts += found
        drifts = self._tally(key, drifts, target, secrets)
        if self.recorder is not None:
            self.recorder.submit(Exchange(method, path, op, match.params if op else {}, request.query,
                                          request.headers, received.status, headers, body, tuple(secrets),
                                          op is not None and bool(secrets) and ok))  # fmt: skip
        answer = Answer(received.status, received.body, FROM_UPSTREAM, None, tuple(self._passed_on(headers, drifts)), 0)
        note = f"upstream {received.status}" + (f", {words.count(len(drifts), 'finding')}" if drifts else "")
        return Outcome(answer, key, tuple(secrets), note, violations=tuple(d.as_dict() for d in drifts))

    def _tally(self, key: str, drifts: list[Drift], target: str, secrets: list[str]) -> list[Drift]:
        """Redacts the findings, counts them and prints those not printed too often already."""
        text = self.redactor.text
        drifts = [replace(d, pointer=text(d.pointer, secrets), reason=text(d.reason, secrets)) for d in drifts]
        for drift in self.report.add(key, drifts, target):
            self.log.write(f"mockserver: {drift.severity}: {drift.line()} [{target}]\n")
        return drifts

    def _relative(self, location: str) -> str:
        """A URL on the upstream, as a path on the proxy: a redirect keeps the client on the proxy."""
        rest = location[len(self.origin) :]
        if not location.lower().startswith(self.origin) or rest[:1] not in ("", "/", "?", "#"):
            return location  # elsewhere (http://host:30000 is not http://host:3000)
        prefix = self.upstream.prefix.decode("latin-1")
        if prefix:  # the proxy's paths are the upstream's under its base path; anything else stays absolute
            if rest != prefix and not rest.startswith((prefix + "/", prefix + "?")):
                return location
            rest = rest[len(prefix) :]
        return rest if rest.startswith("/") else "/" + rest

    def _passed_on(self, headers: list[tuple[str, str]], drifts: list[Drift]) -> list[tuple[str, str]]:
        out = [(k, v) for k, v in headers
               if k not in _HOP_BY_HOP and k != "content-length"
               and not (self.own_cors and k.startswith("access-control-"))]  # fmt: skip
        violations = [d.line() for d in drifts if d.severity == VIOLATION]
        if self.header and violations:
            value = "; ".join(violations)
            clipped = value if len(value) <= MAX_HEADER_VALUE else value[:MAX_HEADER_VALUE] + "..."
            out.append(("X-Contract-Violations", clipped))
        return out

    async def aclose(self) -> None:
        await self.upstream.aclose()

    def finish(self, command: str, junit: str | None) -> list[str]:
        """After the server stopped: pending recordings written, JUnit XML written (its folder made when missing);
        the summary lines. A file that cannot be written is one error line and exit 2, never a traceback."""
        lines = self.report.summary(command)
        if self.recorder is not None:
            try:
                self.recorder.close()
            except OSError as exc:
                lines.append(self._unwritten("the recording", exc))
            lines += self.recorder.summary()
        if junit:
            try:
                self.report.write_junit(junit, command)
                lines.append(f"mockserver: wrote JUnit XML to {junit}")
            except OSError as exc:
                lines.append(self._unwritten("JUnit XML", exc))
        return lines

    def _unwritten(self, what: str, exc: OSError) -> str:
        self.unwritten = True
        return f"mockserver {self.command}: error: cannot write {what}: {exc.strerror or exc}: {exc.filename or ''}"

    @property
    def failed(self) -> bool:
        return bool(self.report.of(VIOLATION))

    @property
    def exit_code(self) -> int:
        """1 once a violation was seen (a file left unwritten never hides it), else 2 for a file left unwritten."""
        return 1 if self.failed else 2 if self.unwritten else 0
