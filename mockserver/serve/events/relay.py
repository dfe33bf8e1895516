"""`mockserver proxy`: socket.io passed through to the upstream, journaled, and recorded with --record.

Rules: a WebSocket under the socket.io path is opened to the same path and query on the upstream (ws:// for
http://, wss:// for https://, the upstream's base path in front), with the client's cookies, Authorization and
Origin; only once the upstream accepts is the client's handshake accepted (an upstream that refuses or cannot be
reached: 403, journaled). Frames are passed on unchanged both ways; Socket.IO events are decoded only to journal
and record them. An HTTP request under the path (Engine.IO's polling transport) is passed on too, but not recorded.
Nothing here ever connects anywhere but the configured upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import websockets
from socketio import packet as sio_packet
from websockets.asyncio.client import connect

from ..config import Config
from .frames import Frame, Sink
from .recording import StreamRecording
from .streams import EventStreams

PASSED_HEADERS = ("cookie", "authorization", "origin", "user-agent")
MAX_FRAME = 1_000_000


class Relay:
    def __init__(self, config: Config, streams: EventStreams, sink: Sink | None) -> None:
        assert config.upstream is not None
        self.config = config
        self.path = streams.path
        self.sink = sink
        parts = urlsplit(config.upstream)
        self.base = parts.path.rstrip("/")
        self.http = f"{parts.scheme}://{parts.netloc}"
        self.ws = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
        self.record = Path(config.record) if config.record else None
        self.recorded: list[Path] = []

    def use(self, streams: EventStreams) -> None:
        pass  # the upstream answers: stream fixtures play no part

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._polling(scope, receive, send)

    def _target(self, scope: MutableMapping[str, Any], base: str) -> str:
        query = scope.get("query_string", b"").decode("latin-1")
        return f"{base}{self.base}{scope['path']}" + (f"?{query}" if query else "")

    async def _websocket(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        first = await receive()
        if first.get("type") != "websocket.connect":
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())]
        passed = [(k, v) for k, v in headers if k in PASSED_HEADERS]
        frame = Frame("connect", "", scope["path"], tuple(query), tuple(headers), "websocket", note="relayed")
        try:
            upstream = await connect(self._target(scope, self.ws), additional_headers=passed, max_size=MAX_FRAME,
                                     open_timeout=self.config.upstream_timeout, compression=None)  # fmt: skip
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
            await send({"type": "websocket.close", "code": 1008})
            self._record(Frame("refuse", "", frame.path, frame.query, frame.headers, "websocket",
                               note=f"the upstream refused or cannot be reached: {type(exc).__name__}"))  # fmt: skip
            return
        await send({"type": "websocket.accept"})
        secrets = [v for k, v in headers if k in ("cookie", "authorization")]
        recording = StreamRecording(self.record, self.path, query, secrets) if self.record else None
        session = _Session(self, frame, recording)
        up = asyncio.ensure_future(self._to_upstream(receive, upstream, session))
        down = asyncio.ensure_future(self._to_client(upstream, send, session))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            with contextlib.suppress(Exception):
                await upstream.close()
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": 1000})
            note = "relayed session ended"
            if recording is not None:
                try:
                    written = await asyncio.to_thread(recording.write)
                except (OSError, RuntimeError) as exc:
                    written, note = None, f"{note}; not recorded: {exc}"
                if written is not None:
                    self.recorded.append(written)
                    note = f"{note}; recorded into {written}"
            self._record(session.frame_of("close", note=note))

    async def _to_upstream(self, receive: Any, upstream: Any, session: _Session) -> None:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            await upstream.send(data)
            if isinstance(data, str):
                session.packet(data, inbound=True)

    async def _to_client(self, upstream: Any, send: Any, session: _Session) -> None:
        async for data in upstream:
            if isinstance(data, str):
                await send({"type": "websocket.send", "text": data})
                session.packet(data, inbound=False)
            else:
                await send({"type": "websocket.send", "bytes": data})

    async def _polling(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        import httpx

        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [
            (k, v) for k, v in scope.get("headers", ()) if k.decode("latin-1") in (*PASSED_HEADERS, "content-type")
        ]
        try:
            async with httpx.AsyncClient(timeout=self.config.upstream_timeout) as client:
                answer = await client.request(scope["method"], self._target(scope, self.http), content=body,
                                              headers=headers)  # fmt: skip
            status, content = answer.status_code, answer.content
            kept = [(k.encode(), v.encode()) for k, v in answer.headers.items() if k in ("content-type", "set-cookie")]
        except httpx.HTTPError as exc:
            status, content, kept = 502, f"upstream: {type(exc).__name__}".encode(), []
        kept.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": kept})
        await send({"type": "http.response.body", "body": content})

    def _record(self, frame: Frame) -> None:
        if self.sink is not None:
            with contextlib.suppress(Exception):
                self.sink(frame)


class _Session:
    """One relayed connection: its Engine.IO session id (from the upstream's OPEN packet) and its events."""

    def __init__(self, relay: Relay, frame: Frame, recording: StreamRecording | None) -> None:
        self.relay = relay
        self.base = frame
        self.sid = ""
        self.recording = recording

    def frame_of(self, kind: str, event: str = "", data: Any = None, note: str = "") -> Frame:
        b = self.base
        query = tuple(p for p in b.query if p[0] not in ("EIO", "transport", "t", "sid"))
        return Frame(kind, self.sid, b.path, query, b.headers, "websocket", event=event, data=data, note=note)

    def packet(self, text: str, inbound: bool) -> None:
        """An Engine.IO text frame: its OPEN packet names the session (a server may send events before Socket.IO's
        CONNECT), a Socket.IO EVENT is journaled and recorded."""
        if text.startswith("0") and not inbound and not self.sid:
            with contextlib.suppress(ValueError, AttributeError):
                self.sid = str(json.loads(text[1:]).get("sid", ""))
            self.relay._record(self.frame_of("connect", note="relayed to the upstream"))
            return
        if not text.startswith("4"):
            return
        try:
            decoded = sio_packet.Packet(encoded_packet=text[1:])
        except Exception:  # passed on as it came; the upstream judges it
            return
        if decoded.packet_type != sio_packet.EVENT or not isinstance(decoded.data, list) or not decoded.data:
            return
        event, args = str(decoded.data[0]), list(decoded.data[1:])
        data = args[0] if len(args) == 1 else args or None
        self.relay._record(self.frame_of("receive" if inbound else "send", event, data))
        if self.recording is not None:
            (self.recording.client_event if inbound else self.recording.server_event)(event, args)
