"""Connection faults an override asks for (`"fault"`, pipeline/overrides.py), done at the ASGI level: `reset` (the
connection reset before any byte), `close` (the headers and part of the body, then the connection closed), `stall`
(the headers, then the body one byte every `STALL_SECONDS`, until the client gives up).

Rules: a reset needs the socket, which ASGI does not give: the server's transport is found behind its `send` (uvicorn's
request cycle keeps it); without one (an in-process client) a reset is a close before any body byte. A stall ends when
the client leaves (`http.disconnect`) and never lasts past `STALL_LIMIT` seconds.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
STALL_SECONDS = 1.0  # between two bytes of a stalled body: longer than any client's read timeout in a test
STALL_LIMIT = 300.0


def _transport(send: Send) -> Any:
    """The server's transport behind `send` (uvicorn: the request cycle's), or None."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if transport is not None and hasattr(transport, "abort") else None


async def deliver(fault: str, send: Send, receive: Receive, status: int, headers: list[tuple[bytes, bytes]],
                  body: bytes) -> None:  # fmt: skip
    transport = _transport(send)
    if fault == "reset" and transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # linger 0: close() sends RST, not FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        await asyncio.sleep(0)  # the server sees the connection lost before the app returns: no error logged
        return
    if len(body) < 2:  # something to cut: a body that is said to be longer than what comes
        declared = len(body) + 2
    else:
        declared = len(body)
    headers = [(b"content-length", str(declared).encode()), *(h for h in headers if h[0] != b"content-length")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if fault == "stall":
        if not await _trickle(send, receive, body, declared):
            if transport is not None:  # past the limit: the client is still there, the server gives up
                transport.close()
                await asyncio.sleep(0)
        return
    part = b"" if fault == "reset" else body[: len(body) // 2]
    if part:
        await send({"type": "http.response.body", "body": part, "more_body": True})
    if transport is not None:
        transport.close()  # what was written goes out, then FIN
        await asyncio.sleep(0)
    # without a transport, returning before the body is complete makes the server close the connection


async def _trickle(send: Send, receive: Receive, body: bytes, declared: int) -> bool:
    """The body a byte at a time; True when it ended (the client left, or every byte went)."""
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        waited = 0.0
        for i in range(len(body)):
            await send({"type": "http.response.body", "body": body[i : i + 1], "more_body": True})
            done, _ = await asyncio.wait({gone}, timeout=STALL_SECONDS)
            waited += STALL_SECONDS
            if done:
                return True
            if waited >= STALL_LIMIT:
                return False
        if declared > len(body):  # nothing more to send: wait for the client to give up
            done, _ = await asyncio.wait({gone}, timeout=max(STALL_LIMIT - waited, 0))
            return bool(done)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True
    finally:
        gone.cancel()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
