"""A request read off the ASGI wire, bounded, before the core sees it: the request line, headers decoded once per
set of headers (a client sends the same ones every time), the query split, the body read up to its limit. What is
over a limit becomes the refusal (413, 431) the adapter sends instead of asking the core."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from .pipeline import problems
from .pipeline.answer import Answer, problem_answer

# ASGI's shapes (starlette.types' aliases, spelled out: only the adapter imports Starlette)
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Cookies = Callable[[str], dict[str, str]]  # a Cookie header -> its pairs (the adapter passes Starlette's parser)

MAX_QUERY_FIELDS = 1000
MAX_HEADERS = 100  # browsers send about 15; more is an attack or a bug, and every header costs per request
MAX_HEADER_BYTES = 65_536
HEADS_ENTRIES = 256  # sets of request headers decoded and kept: a client sends the same ones on every request


class Read(NamedTuple):
    """A request as read off the wire, bounded, before the core sees it."""

    method: str
    raw_path: bytes
    query_string: bytes
    raw_headers: list[tuple[bytes, bytes]]
    pairs: tuple[tuple[str, str], ...]  # decoded header pairs, for the journal
    headers: dict[str, str]  # lower-case names, repeated headers joined with ", "
    query_pairs: list[tuple[str, str]]
    too_many_query: bool
    body: bytes
    refused: Answer | None  # 413 / 431 before the core is asked
    cookies: dict[str, str]
    heads: int | None  # the set of raw headers as a small number, the same for the same set (None: not hashable)


_new = tuple.__new__  # a Read without the named tuple's own __new__ (a Python function): one per request


class _Heads(NamedTuple):
    """What a request's raw headers decode to. A client sends the same headers on every request, so this is
    worked out once per set of headers and shared (read only) by the requests that carry them."""

    pairs: tuple[tuple[str, str], ...]  # a tuple: the journal redacts them once for every request that sends them
    headers: dict[str, str]
    cookies: dict[str, str]
    too_large: bool
    key: int | None  # a number for this set of raw headers, never another set's (None: not hashable): a cheap hash


class Reader:
    def __init__(self, max_body_bytes: int, cookies: Cookies) -> None:
        self.max_body_bytes = max_body_bytes
        self.cookies = cookies
        self._heads: dict[tuple[tuple[bytes, bytes], ...], _Heads] = {}
        self._sets = itertools.count(1)  # numbers for sets of headers: never reused, so never two sets' number

    def read(self, scope: Scope) -> Read:
        """The request line and headers (the body, when there is one, is `read_body`'s)."""
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if b"?" in raw_path:
            raw_path = raw_path.split(b"?", 1)[0]
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        oversized = len(raw_headers) > MAX_HEADERS
        if oversized:
            raw_headers = raw_headers[:MAX_HEADERS]
        key = tuple(raw_headers)
        try:
            heads = self._heads.get(key)
        except TypeError:  # an ASGI server that sends lists: decoded every time
            heads = decode_headers(raw_headers, None, self.cookies)
        else:
            if heads is None:
                heads = decode_headers(raw_headers, next(self._sets), self.cookies)
                if len(self._heads) >= HEADS_ENTRIES:
                    del self._heads[next(iter(self._heads))]
                self._heads[key] = heads
        headers = heads.headers
        refused = None
        if oversized or heads.too_large:
            refused = problem_answer(
                problems.HEADERS_TOO_LARGE, f"at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes of them"
            )
        query_string: bytes = scope["query_string"]
        if query_string:
            query_pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
            too_many = len(query_pairs) > MAX_QUERY_FIELDS  # the server's URL limit bounds the count; a 422 says it
            query_pairs = query_pairs[:MAX_QUERY_FIELDS]
        else:
            query_pairs, too_many = [], False
        return _new(Read, (method, raw_path, query_string, raw_headers, heads.pairs, headers, query_pairs, too_many,
                           b"", refused, heads.cookies, heads.key))  # fmt: skip

    async def read_body(self, request: Read, receive: Receive) -> Read:
        body, too_large = await self._body(receive)
        refused = request.refused
        if too_large and refused is None:
            refused = problem_answer(problems.TOO_LARGE, f"request body over {self.max_body_bytes} bytes")
        return request._replace(body=body, refused=refused)

    async def _body(self, receive: Receive) -> tuple[bytes, bool]:
        chunks, size, too_large = [], 0, False
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                too_large = True
            elif chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return (b"" if too_large else b"".join(chunks)), too_large


def decode_headers(raw_headers: list[tuple[bytes, bytes]], key: int | None, cookie_parser: Cookies) -> _Heads:
    pairs: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    size = 0
    for raw_name, raw_value in raw_headers:
        size += len(raw_name) + len(raw_value)
        name, value = raw_name.decode("latin-1"), raw_value[:MAX_HEADER_BYTES].decode("latin-1")  # ASGI: lower-case
        pairs.append((name, value))
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    cookies = cookie_parser(headers["cookie"]) if "cookie" in headers else {}
    return _Heads(tuple(pairs), headers, cookies, size > MAX_HEADER_BYTES, key)


def query_of(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for k, v in pairs:
        query.setdefault(k, []).append(v)
    return query
