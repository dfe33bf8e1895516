"""A stand-in for a real OpenHands 0.53.0 server, for the proxy's tests: the behaviours measured on the real one.

- 401 {"detail": "Unauthorized"} without the right X-Session-API-Key (the contract documents no 401);
- 200 null for an unknown conversation id;
- 307 to the path without the slash, for a trailing slash (the framework's redirect, an absolute Location);
- 404 {"detail": "Not Found"} for %2F in an id (the framework decodes it and no route matches), 405 for POST;
- 500 text/plain for an id with a NUL byte or over 255 bytes;
- 429 with Retry-After: 1 once a conversation is polled more than POLL_BUDGET times;
- `drifted`: a status the contract's enum lacks (one contract violation); `starting` a relative url, as the real
  server sends while STARTING; `echo` echoes the caller's key in `session_api_key`; Cache-Control and a session
  cookie on every answer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

KEY = "oh-real-key-7f3a9c2e51"
POLLED = "polled"
POLL_BUDGET = 3
COOKIE = "oh_session=sess-4b8e1d0c9a; Path=/; HttpOnly"


def conversation(cid: str, status: str, url: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "conversation_id": cid, "title": f"Conversation {cid}", "last_updated_at": "2026-03-12T10:02:13Z",
        "status": status, "runtime_status": "STATUS$READY" if status == "RUNNING" else None,
        "selected_repository": "acme/web-app", "selected_branch": "main", "git_provider": "github", "trigger": "gui",
        "num_connections": 1, "url": url, "session_api_key": None, "created_at": "2026-03-12T10:02:11Z",
        "pr_number": [], **extra,
    }  # fmt: skip


CONVERSATIONS = {
    "running": conversation("running", "RUNNING", "https://app.example.dev/runtime/4f2a"),
    "starting": conversation("starting", "STARTING", "/api/conversations/starting"),
    "stopped": conversation("stopped", "STOPPED"),
    "drifted": conversation("drifted", "PAUSED"),
    POLLED: conversation(POLLED, "RUNNING", "https://app.example.dev/runtime/77aa"),
}
HEADERS = {"cache-control": "no-store", "set-cookie": COOKIE}


class Upstream:
    def __init__(self) -> None:
        self.polls: Counter[str] = Counter()
        self.seen: list[tuple[str, bytes, dict[str, str]]] = []  # (method, raw path, headers) of every request

    async def get_conversation(self, request: Request) -> Response:
        cid = request.path_params["conversation_id"]
        key = request.headers.get("x-session-api-key")
        if key != KEY:
            return JSONResponse({"detail": "Unauthorized"}, 401)
        if "\x00" in cid or len(cid.encode()) > 255:
            return PlainTextResponse("Internal Server Error", 500)
        if cid == POLLED:
            self.polls[cid] += 1
            if self.polls[cid] > POLL_BUDGET:
                return JSONResponse({"detail": "Too Many Requests"}, 429, headers={"retry-after": "1"})
        if cid == "echo":
            return JSONResponse(conversation("echo", "RUNNING", session_api_key=key), headers=HEADERS)
        return JSONResponse(CONVERSATIONS.get(cid), headers=HEADERS)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)


class _Seen:
    """Notes every request as it arrived, before routing (a 404 or 307 never reaches an endpoint)."""

    def __init__(self, app: ASGIApp, state: Upstream) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            self.state.seen.append((scope["method"], scope.get("raw_path") or scope["path"].encode(), headers))
        await self.app(scope, receive, send)


def create() -> tuple[ASGIApp, Upstream]:
    state = Upstream()
    routes = [Route("/api/conversations/{conversation_id}", state.get_conversation, methods=["GET"])]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    return _Seen(app, state), state
