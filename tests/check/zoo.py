"""Small servers for the OpenHands get-conversation contract: each has exactly one defect, or none. Two more serve
`AUTH_CONTRACT` (one operation per Authorization scheme: bearer, basic, oauth2): one checks credentials, one ignores
them.

One ASGI app serves them all under /zoo/NAME, so a test session starts a single loopback server.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

KEY = "zoo-key-4f1c9a7e"
PREFIX = "/api/conversations/"


def full(cid: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "title": "Fix the flaky test",
        "last_updated_at": "2025-01-02T03:04:05Z",
        "status": "RUNNING",
        "runtime_status": "STATUS$READY",
        "selected_repository": "octo/repo",
        "selected_branch": "main",
        "git_provider": "github",
        "trigger": "gui",
        "num_connections": 2,
        "url": "http://localhost:3000/conversations/1",
        "session_api_key": None,
        "created_at": "2025-01-01T00:00:00Z",
        "pr_number": [12, 13],
    }


def _json(body: Any, status: int = 200, media: str = "application/json") -> Response:
    return JSONResponse(body, status_code=status, media_type=media)


def _without(name: str) -> Callable[[str], Response]:
    return lambda cid: _json({k: v for k, v in full(cid).items() if k != name})


def _with(name: str, value: Any) -> Callable[[str], Response]:
    return lambda cid: _json({**full(cid), name: value})


def _chokes_on_unusual_ids(cid: str) -> Response:
    if len(cid) > 1000 or not cid.isascii() or any(ch in cid for ch in "?#[]@!$&'()*+,;=% "):
        return Response("Internal Server Error", status_code=500, media_type="text/plain")
    return _json(full(cid))


def _openhands_0_53(cid: str) -> Response:
    # Real OpenHands 0.53.0: a NUL byte in the id, or an id over 255 bytes, is a 500 in plain text
    if "\x00" in cid or len(cid.encode("utf-8", "surrogateescape")) > 255:
        return Response("Internal Server Error", status_code=500, media_type="text/plain")
    return _json(None)  # an unknown id: 200 null


# name -> (answer for an authenticated request, the check that must flag it; "" for a valid variant)
DEFECTS: dict[str, tuple[Callable[[str], Response], str]] = {
    "required_field_missing": (_without("title"), "response_schema_conformance"),
    "wrong_type": (_with("num_connections", "two"), "response_schema_conformance"),
    "value_outside_enum": (_with("status", "PAUSED"), "response_schema_conformance"),
    "bad_date_time": (_with("created_at", "yesterday"), "response_schema_conformance"),
    "non_nullable_null": (_with("status", None), "response_schema_conformance"),
    "undocumented_status": (lambda cid: _json({"detail": "Not Found"}, 404), "status_code_conformance"),
    "wrong_content_type": (lambda cid: _json(full(cid), media="text/html"), "content_type_conformance"),
    "server_error_on_unusual_ids": (_chokes_on_unusual_ids, "not_a_server_error"),
    "openhands_0_53_ids": (_openhands_0_53, "not_a_server_error"),
    "auth_ignored": (lambda cid: _json(full(cid)), "ignored_auth"),
    "wrong_shape": (lambda cid: _json([full(cid)]), "response_schema_conformance"),
}
VALID: dict[str, Callable[[str], Response]] = {
    "full_body": lambda cid: _json(full(cid)),
    "body_null": lambda cid: _json(None),
    "only_required": lambda cid: _json({"conversation_id": cid, "title": "t"}),
    "optional_fields_null": lambda cid: _json(
        {"conversation_id": cid, "title": "t", **{k: None for k, v in full(cid).items() if k in _NULLABLE}}
    ),
    "extra_property": lambda cid: _json({**full(cid), "undocumented": {"any": ["thing"]}}),
}
_NULLABLE = {
    "last_updated_at",
    "runtime_status",
    "selected_repository",
    "selected_branch",
    "git_provider",
    "trigger",
    "url",
    "session_api_key",
}

# The key in each Authorization header; basic takes a key without a colon as the password of an empty user
AUTHORIZATION = {
    "bearer": f"Bearer {KEY}",
    "basic": "Basic " + base64.b64encode(f":{KEY}".encode()).decode(),
    "oauth": f"Bearer {KEY}",
}
AUTH_VARIANTS = {"http_auth": "", "http_auth_ignored": "ignored_auth"}  # name -> the check that must flag it
AUTHORIZED: Counter[str] = Counter()  # scheme -> requests that carried the right credentials, to prove they arrive
_THING = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
_REJECTED = {"type": "object"}
AUTH_CONTRACT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "zoo auth", "version": "1"},
    "paths": {
        f"/{scheme}/{{id}}": {
            "get": {
                "operationId": f"get_{scheme}",
                "security": [{scheme: ["read"] if scheme == "oauth" else []}],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "the thing", "content": {"application/json": {"schema": _THING}}},
                    "401": {"description": "no credentials", "content": {"application/json": {"schema": _REJECTED}}},
                },
            }
        }
        for scheme in AUTHORIZATION
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "basic": {"type": "http", "scheme": "basic"},
            "oauth": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {"tokenUrl": "http://127.0.0.1/token", "scopes": {"read": "read things"}}
                },
            },
        }
    },
}

# Misbehaving servers for fuzz's time bound: they answer an authenticated request badly
HANGS = ("hang", "slow_trickle", "gigantic", "reset")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    request = Request(scope, receive)
    _, zoo, name, *rest = (scope["path"] + "/").split("/", 3) + [""]
    path = "/" + (rest[0] if rest else "")
    if zoo == "zoo" and name in AUTH_VARIANTS:
        await _auth_app(name, path, request)(scope, receive, send)
        return
    if zoo != "zoo" or not path.startswith(PREFIX) or len(path) <= len(PREFIX):
        await Response("Not Found", status_code=404, media_type="text/plain")(scope, receive, send)
        return
    cid = path[len(PREFIX) :].removesuffix("/")
    if request.method not in ("GET", "HEAD"):
        await _json({"detail": "Method Not Allowed"}, 405)(scope, receive, send)
        return
    if name in HANGS:
        await _misbehave(name, scope, receive, send)
        return
    if name != "auth_ignored" and request.headers.get("x-session-api-key") != KEY:
        await _json({"detail": "Unauthorized"}, 401)(scope, receive, send)
        return
    answer = DEFECTS[name][0] if name in DEFECTS else VALID[name]
    await answer(cid)(scope, receive, send)


def _auth_app(name: str, path: str, request: Request) -> Response:
    scheme, _, thing = path.strip("/").partition("/")
    if scheme not in AUTHORIZATION or not thing or request.method not in ("GET", "HEAD"):
        return _json({"detail": "Not Found"}, 404)
    if request.headers.get("authorization") == AUTHORIZATION[scheme]:
        AUTHORIZED[scheme] += 1
    elif name != "http_auth_ignored":
        return _json({"detail": "Unauthorized"}, 401)
    return _json({"id": thing})


async def _misbehave(name: str, scope: dict[str, Any], receive: Any, send: Any) -> None:
    if name == "hang":
        await asyncio.sleep(3600)
    headers = [(b"content-type", b"application/json")]
    if name == "reset":
        # Promise a body, send part of it, then fail: uvicorn drops the connection mid-answer
        await send({"type": "http.response.start", "status": 200, "headers": [*headers, (b"content-length", b"100")]})
        await send({"type": "http.response.body", "body": b'{"title": ', "more_body": True})
        raise RuntimeError("connection dropped on purpose")
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if name == "slow_trickle":
        for _ in range(3600):
            await send({"type": "http.response.body", "body": b" ", "more_body": True})
            await asyncio.sleep(0.2)
    else:  # gigantic: an endless JSON string, fast
        await send({"type": "http.response.body", "body": b'{"title": "', "more_body": True})
        chunk = b"x" * 65536
        for _ in range(100_000):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


# A contract with every method, and a server that counts what it gets: the read-only rule's witness
_ITEM = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _answers(status: str) -> dict[str, Any]:
    return {status: {"description": "ok", "content": {"application/json": {"schema": _ITEM}}}}


_BODY = {"required": True, "content": {"application/json": {"schema": _ITEM}}}
METHODS_CONTRACT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "zoo methods", "version": "1"},
    "paths": {
        "/items": {
            "get": {"operationId": "list", "responses": _answers("200")},
            "post": {"operationId": "create", "requestBody": _BODY, "responses": _answers("201")},
        },
        "/items/{id}": {
            "get": {"operationId": "read", "parameters": _ID, "responses": _answers("200")},
            "put": {"operationId": "replace", "parameters": _ID, "requestBody": _BODY, "responses": _answers("200")},
            "patch": {"operationId": "change", "parameters": _ID, "requestBody": _BODY, "responses": _answers("200")},
            "delete": {"operationId": "remove", "parameters": _ID, "responses": {"204": {"description": "gone"}}},
        },
    },
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class MethodCounter:
    """An ASGI app for METHODS_CONTRACT that answers everything validly and counts requests by method."""

    def __init__(self) -> None:
        self.methods: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.methods[scope["method"]] += 1
        if scope["method"] == "DELETE":
            response: Response = Response(status_code=204)
        else:
            status = 201 if scope["method"] == "POST" else 200
            response = _json({"id": scope["path"].rsplit("/", 1)[-1]}, status)
        await response(scope, receive, send)

    def unsafe(self) -> int:
        return sum(self.methods[m] for m in UNSAFE)


class FakeClock:
    """Time for the checker and a server at once: `sleep` moves it on at once, so waits cost nothing."""

    def __init__(self) -> None:
        import time

        self.start = time.monotonic()
        self.offset = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        import time

        return time.monotonic() + self.offset

    def sleep(self, seconds: float, stopped: Callable[[], bool]) -> None:
        self.slept.append(seconds)
        self.offset += max(seconds, 0.0)

    def elapsed(self) -> float:
        return self.now() - self.start


class RealClock:
    def __init__(self) -> None:
        import time

        self.start = time.monotonic()

    def elapsed(self) -> float:
        import time

        return time.monotonic() - self.start


class RateLimited:
    """The OpenHands contract's server that answers 429 (or `status`) + Retry-After to everything for `seconds` (by
    `clock`) from its request number `after` on, then answers as real OpenHands 0.53 does (with `long_id_500`) or as a
    healthy server. With `only_without_key`, only requests without the key are told to wait."""

    def __init__(self, clock: Any, seconds: float = 3.0, long_id_500: bool = True, retry_after: str = "1",
                 after: int = 0, status: int = 429, only_without_key: bool = False) -> None:  # fmt: skip
        self.clock = clock
        self.seconds = seconds
        self.long_id_500 = long_id_500
        self.retry_after = retry_after
        self.after = after
        self.status = status
        self.only_without_key = only_without_key
        self.requests = 0
        self.window: float | None = None  # clock.elapsed() when the 429s began
        self.limited = 0
        self.statuses: Counter[int] = Counter()

    def limiting(self, has_key: bool) -> bool:
        self.requests += 1
        if self.requests > self.after and self.window is None:
            self.window = self.clock.elapsed()
        if self.window is None or (self.only_without_key and has_key):
            return False
        return self.clock.elapsed() - self.window < self.seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        if self.limiting(request.headers.get("x-session-api-key") == KEY):
            self.limited += 1
            response = _json({"detail": "Too Many Requests"}, self.status)
            response.headers["Retry-After"] = self.retry_after
        elif not scope["path"].startswith(PREFIX) or len(scope["path"]) <= len(PREFIX):
            response = _json({"detail": "Not Found"}, 404)
        elif request.headers.get("x-session-api-key") != KEY:
            response = _json({"detail": "Unauthorized"}, 401)
        else:
            cid = scope["path"][len(PREFIX) :]
            long_id = len(cid.encode("utf-8", "surrogateescape")) > 255
            response = _openhands_0_53(cid) if self.long_id_500 and long_id else _json(full(cid))
        self.statuses[response.status_code] += 1
        await response(scope, receive, send)
