"""The socket.io server: Engine.IO v4 / Socket.IO v5 (python-socketio's ASGI server) playing the stream fixtures.

Rules: the handshake always succeeds unless a fault refuses it; the matching stream (none: a quiet connection) is
replayed from the resume parameter, in a task per connection, each step after its delay; a client event is answered
by the first scripted reply whose `when` its payload contains. Every connection and frame goes to the `sink` (the
journal). A client that sends what Socket.IO cannot decode is disconnected; nothing a client sends raises out of
here. Faults come from the stream itself or from the overrides (faults.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import socketio

from . import faults
from .faults import OverrideStore
from .frames import Frame, Sink
from .streams import Emit, EventStreams, Resource, Stream

ENGINE_PARAMS = frozenset({"EIO", "transport", "t", "sid", "j", "b64"})
MAX_MESSAGE_BYTES = 1_000_000
_sleep = asyncio.sleep  # one seam for tests
_ENGINE_TYPES = frozenset("0123456")  # open, close, ping, pong, message, upgrade, noop
# python-socketio logs a client's malformed packets with tracebacks; a client's mistake is journaled, not printed
_QUIET = logging.getLogger("mockserver.events.socketio")
_QUIET.setLevel(logging.CRITICAL + 1)
_QUIET.propagate = False
# Set by `SocketServer.__call__` for its connection: a garbage frame ends the WebSocket itself, not only the session
_HANG_UP: contextvars.ContextVar[asyncio.Event | None] = contextvars.ContextVar("hang_up", default=None)


@dataclass
class _Connection:
    sid: str
    path: str
    query: dict[str, list[str]]
    pairs: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    transport: str
    stream: Stream | None
    next_id: int
    fault: dict[str, Any] | None = None
    version: int = -1  # the overrides' version this connection last looked at
    sent: int = 0
    closing: bool = False
    ended: dict[str, Any] | None = None  # the fault that ended the connection
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class _Server(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server, but a message it cannot decode ends that client's session, not in a traceback."""

    garbage: Callable[[str, Exception], Awaitable[None]] | None = None

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except Exception as exc:  # a malformed Socket.IO packet (its decoder raises ValueError, TypeError...)
            if self.garbage is not None:
                await self.garbage(eio_sid, exc)


class SocketServer:
    """An ASGI app for the socket.io path; `MockApp` hands it every request and WebSocket under that path."""

    def __init__(self, streams: EventStreams, sink: Sink | None = None, store: OverrideStore | None = None,
                 cors_origins: list[str] | str = "*", resource: Resource | None = None) -> None:  # fmt: skip
        self.streams = streams
        self.resource = resource  # the mock's answer to a stream's `operation`, for streams with a `state`
        self.sink = sink
        self.store = store
        self.connections: dict[str, _Connection] = {}
        self.sio = _Server(async_mode="asgi", cors_allowed_origins=cors_origins or "*", logger=_QUIET,
                           engineio_logger=_QUIET, max_http_buffer_size=MAX_MESSAGE_BYTES)  # fmt: skip
        self.sio.garbage = self._garbage
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("*", self._event)
        self.app = socketio.ASGIApp(self.sio, socketio_path=None)

    def use(self, streams: EventStreams) -> None:
        """New fixtures (--watch): connections opened from now on play them."""
        self.streams = streams

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            hang_up = asyncio.Event()
            _HANG_UP.set(hang_up)
            path = scope.get("path", "")
            receive = _guard(
                receive, hang_up, lambda note: self._record(Frame("garbage", "", path, (), (), "", note=note))
            )
        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # an Engine.IO packet that does not parse ends that connection, not the server
            frame = Frame("garbage", "", scope.get("path", ""), (), (), scope.get("type", ""),
                          note=f"undecodable Engine.IO packet: {type(exc).__name__}; connection closed")  # fmt: skip
            self._record(frame)

    # --- the socket.io side -------------------------------------------------------------------------------------

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        scope = environ.get("asgi.scope", {})
        pairs = tuple(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        query: dict[str, list[str]] = {}
        for k, v in pairs:
            query.setdefault(k, []).append(v)
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ()))
        stream = self.streams.find(query, self.resource)
        transport = (query.get("transport") or ["polling"])[-1]
        conn = _Connection(sid, scope.get("path", self.streams.path), query, pairs, headers, transport, stream,
                           stream.next_id if stream else 0)  # fmt: skip
        fault = self._lookup(conn)
        first = stream.events[0] if stream and stream.events else None
        if fault is not None and fault["fault"] == "error" or first is not None and first.fault == "error":
            message = (fault or {}).get("message") or (first.message if first else "") or "refused by the mock"
            self._record(self._frame(conn, "refuse", fault=fault or {"fault": "error"}, note=message))
            raise socketio.exceptions.ConnectionRefusedError(message)
        self.connections[sid] = conn
        self._record(self._frame(conn, "connect", fault=fault))
        self._start(conn, self._replay(conn))

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        conn = self.connections.pop(sid, None)
        if conn is None:
            return
        conn.closing = True
        current = asyncio.current_task()
        for task in list(conn.tasks):
            if task is not current:
                task.cancel()
        ended = conn.ended or {}
        why = "" if ended else str(reason or "")  # a fault is named by the entry's fault
        self._record(self._frame(conn, "close", fault=ended or None, note=why))

    async def _event(self, event: str, sid: str, *args: Any) -> Any:
        conn = self.connections.get(sid)
        if conn is None:
            return None
        data = args[0] if len(args) == 1 else list(args) if args else None
        self._record(self._frame(conn, "receive", event=event, data=data))
        if await self._live_fault(conn):
            return None
        reply = conn.stream.reply(event, data) if conn.stream else None
        if reply is None:
            return None
        scope = {"data": data, "query": {k: v[-1] for k, v in conn.query.items()}}
        if reply.emit:
            self._start(conn, self._play(conn, reply.emit, scope))
        return reply.ack.render({**scope, "next_id": conn.next_id}) if reply.ack is not None else None

    async def _garbage(self, eio_sid: str, exc: Exception) -> None:
        sid = self.sio.manager.sid_from_eio_sid(eio_sid, "/") or ""
        conn = self.connections.get(sid)
        note = f"undecodable Socket.IO packet ({type(exc).__name__}): client disconnected"
        if conn is not None:
            self._record(self._frame(conn, "garbage", note=note))
        else:
            self._record(Frame("garbage", sid, self.streams.path, (), (), "", note=note))
        with contextlib.suppress(Exception):
            await self.sio.eio.disconnect(eio_sid)
        hang_up = _HANG_UP.get()
        if hang_up is not None:
            hang_up.set()

    # --- playing steps ------------------------------------------------------------------------------------------

    def _start(self, conn: _Connection, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        conn.tasks.add(task)
        task.add_done_callback(conn.tasks.discard)

    async def _replay(self, conn: _Connection) -> None:
        # The CONNECT packet goes first, and the session must be fully connected: python-socketio ignores a
        # disconnect of a session still connecting (a fault after 0 events would be lost).
        for _ in range(500):
            if self.sio.manager.is_connected(conn.sid, "/") or conn.closing:
                break
            await asyncio.sleep(0.01)
        steps = conn.stream.replay(conn.query) if conn.stream else []
        scope = {"data": None, "query": {k: v[-1] for k, v in conn.query.items()}}
        await self._play(conn, steps, scope)

    async def _play(
        self, conn: _Connection, steps: list[Emit] | tuple[Emit, ...], scope: MutableMapping[str, Any]
    ) -> None:
        for step in steps:
            if step.delay_ms:
                await _sleep(step.delay_ms / 1000)
            if conn.closing or await self._live_fault(conn):
                return
            if step.fault:
                await self._fault(conn, {"fault": step.fault, "message": step.message})
                return
            data = None
            if step.data is not None:
                data = step.data.render({**scope, "next_id": conn.next_id})
                if "next_id" in step.data.names:
                    conn.next_id += 1
            if data is None:
                await self.sio.emit(step.event, to=conn.sid)
            else:
                await self.sio.emit(step.event, data, to=conn.sid)
            conn.sent += 1
            self._record(self._frame(conn, "send", event=step.event, data=data))
            fault = conn.fault
            if fault is not None and fault["fault"] != "error" and conn.sent >= fault.get("after", 0):
                await self._fault(conn, fault)
                return

    async def _fault(self, conn: _Connection, fault: dict[str, Any]) -> None:
        if conn.closing:
            return
        conn.closing = True
        conn.ended = fault  # the close entry (`_disconnect`) says which fault ended it
        if fault["fault"] == "drop":  # the transport goes away: a client reconnects by itself
            eio_sid = self.sio.manager.eio_sid_from_sid(conn.sid, "/")
            if eio_sid is not None:
                await self.sio.eio.disconnect(eio_sid)
        else:  # the server ends the session: a socket.io client does not reconnect
            await self.sio.disconnect(conn.sid)

    # --- faults from the overrides ------------------------------------------------------------------------------

    def _lookup(self, conn: _Connection) -> dict[str, Any] | None:
        """The override fault for a connection, counting one use of it (at connect only)."""
        if self.store is None:
            return None
        version, items = self.store.overrides()
        conn.version = version
        for item in faults.find(items, conn.stream.name if conn.stream else "", conn.query):
            if self.store.use_override(str(item["id"])):
                conn.fault = item
                return item
        return None

    async def _live_fault(self, conn: _Connection) -> bool:
        """Overrides added while a connection is open: a disconnect or drop fault applies to it at its next frame."""
        if self.store is None or self.store.overrides_version() == conn.version:
            return False
        if conn.fault is None:
            self._lookup(conn)
        fault = conn.fault
        if fault is not None and fault["fault"] != "error" and conn.sent >= fault.get("after", 0):
            await self._fault(conn, fault)
            return True
        return False

    # --- the journal --------------------------------------------------------------------------------------------

    def _frame(self, conn: _Connection, kind: str, event: str = "", data: Any = None,
               fault: dict[str, Any] | None = None, note: str = "") -> Frame:  # fmt: skip
        return Frame(kind, conn.sid, conn.path, tuple(p for p in conn.pairs if p[0] not in ENGINE_PARAMS),
                     conn.headers, conn.transport, conn.stream.name if conn.stream else "", event, data,
                     (fault or {}).get("fault", ""), str((fault or {}).get("id", "")), note)  # fmt: skip

    def _record(self, frame: Frame) -> None:
        if self.sink is not None:
            with contextlib.suppress(Exception):  # the journal must never take a connection down
                self.sink(frame)


def _guard(receive: Callable[[], Awaitable[dict[str, Any]]], hang_up: asyncio.Event,
           garbage: Callable[[str], None]) -> Callable[..., Any]:  # fmt: skip
    """`receive` for a WebSocket, but a text frame that is no Engine.IO packet (its type is a digit 0-6), or any
    frame once `hang_up` is set, reads as the client leaving: Engine.IO then closes the WebSocket."""

    async def wrapped() -> dict[str, Any]:
        if hang_up.is_set():
            return {"type": "websocket.disconnect", "code": 1008}
        message = asyncio.ensure_future(receive())
        stop = asyncio.ensure_future(hang_up.wait())
        done, _ = await asyncio.wait({message, stop}, return_when=asyncio.FIRST_COMPLETED)
        if message not in done:
            message.cancel()
            return {"type": "websocket.disconnect", "code": 1008}
        stop.cancel()
        found = message.result()
        text = found.get("text") if found.get("type") == "websocket.receive" else None
        if text is not None and (not text or text[0] not in _ENGINE_TYPES):
            garbage(f"undecodable Engine.IO packet {text[:20]!r}: connection closed")
            hang_up.set()
            return {"type": "websocket.disconnect", "code": 1008}
        return found

    return wrapped
