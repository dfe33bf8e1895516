"""What `MockApp` mounts at the socket.io path: the stream server (`serve`), or the relay to the upstream
(`mockserver proxy`, which records the streams with --record).

Rules: only requests and WebSockets under the path come here; a WebSocket anywhere else is refused (403 before
the handshake), not left to fail in the ASGI server.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import orjson

from ..config import Config
from ..journal import Journal, RequestLog
from .streams import EventStreams, Resource, normal_path

if TYPE_CHECKING:
    from ..pipeline.core import Mock


class Sockets(Protocol):
    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None: ...
    def use(self, streams: EventStreams) -> None: ...


class Mount:
    """The socket.io app, made on first use: python-socketio costs a start-up 0.2 s to import, and most runs of
    `serve` never see a socket.io client."""

    def __init__(self, path: str, make: Callable[[EventStreams], Sockets], streams: EventStreams) -> None:
        self.path = normal_path(path)
        self.make = make
        self.streams = streams
        self.app: Sockets | None = None

    def takes(self, scope: MutableMapping[str, Any]) -> bool:
        path: str = scope.get("path", "")
        return path.startswith(self.path) or path == self.path[:-1]

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if self.takes(scope):
            if self.app is None:
                self.app = self.make(self.streams)
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    def use(self, streams: EventStreams) -> None:
        self.streams = streams
        if self.app is not None:
            self.app.use(streams)


def mount(config: Config, streams: EventStreams, store: Any, journal: Journal, log: RequestLog | None,
          upstream: bool = False, core: Callable[[], Mock] | None = None) -> Mount:  # fmt: skip
    from .journaling import journal_sink

    sink = journal_sink(journal, log)
    if upstream and config.proxy:

        def relay(streams: EventStreams) -> Sockets:
            from .relay import Relay

            return Relay(config, streams, sink)

        return Mount(config.socketio_path, relay, streams)

    def server(streams: EventStreams) -> Sockets:
        from .server import SocketServer

        origins: list[str] | str = list(config.cors_origins) if config.cors_origins else "*"
        return SocketServer(streams, sink, store, origins, _resource(core, config) if core is not None else None)

    return Mount(config.socketio_path, server, streams)


def _resource(core: Callable[[], Mock], config: Config) -> Resource:
    """A stream's `state` is matched against what a client would be answered now: the current core (--watch swaps
    it) asked in process, unjournaled, with the configured key in the header the contract names."""
    from ..pipeline.core import MockRequest

    def answer(operation: str, params: dict[str, str]) -> Any:
        mock = core()
        op = mock.spec.find(operation)
        if op is None:
            return None
        path = op.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        headers = {"accept": "application/json"}
        key = config.api_key or "mockserver-streams"  # without --api-key any credential passes
        for scheme in (s for alternative in op.security[:1] for s in alternative):
            if scheme.location == "header" and scheme.fillable:
                headers[scheme.parameter.lower()] = scheme.wire_value(key)
        try:
            outcome = mock.handle(MockRequest("GET", (mock.spec.prefix + path).encode(), {}, headers))
            return orjson.loads(outcome.answer.body) if 200 <= outcome.answer.status < 300 else None
        except Exception:  # no answer, a broken store, a non-JSON body: no state to match
            return None

    return answer
