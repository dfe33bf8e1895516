"""Stream faults through the runtime overrides API: `POST /__mock/overrides` with a `stream` member.

Rules: checked when added, like an HTTP override (`check` raises `FaultError` naming the member at fault); kept in
the same store list, so `GET`/`DELETE /__mock/overrides`, `times` and `/__mock/reset` work for both, and replicas
share them. The HTTP side skips these items (they have no `prefer`). A connection looks a fault up when it opens,
and again whenever the overrides change while it is open. The most specific fault wins (a named stream over `*`,
then more params), then the newest.
"""

from __future__ import annotations

from typing import Any, Protocol

from .streams import FAULTS, EventStreams

ANY = "*"
_KEYS = {"stream", "fault", "params", "after", "message", "times"}


class OverrideStore(Protocol):
    """The part of the mock's store the streams read (serve's `Store` has these methods)."""

    def overrides_version(self) -> int: ...
    def overrides(self) -> tuple[int, list[dict[str, Any]]]: ...
    def use_override(self, override_id: str) -> bool: ...


class FaultError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def is_fault(body: Any) -> bool:
    return isinstance(body, dict) and "stream" in body


def check(body: Any, streams: EventStreams) -> dict[str, Any]:
    """A new stream fault, checked and normalised: {stream, fault, params, after, message, times}."""
    if not isinstance(body, dict):
        raise FaultError("(body)", 'expected a JSON object like {"stream": "NAME", "fault": "disconnect"}')
    unknown = set(body) - _KEYS
    if unknown:
        raise FaultError(sorted(unknown)[0], f"unknown member; a stream fault has {', '.join(sorted(_KEYS))}")
    name = body.get("stream")
    if not isinstance(name, str) or not name.strip():
        raise FaultError("stream", f"required: a stream fixture's name, or {ANY!r} for every connection")
    name = name.strip()
    if name != ANY and streams.named(name) is None:
        offered = ", ".join(s.name for s in streams.streams[:20]) or "none"
        raise FaultError("stream", f"no stream fixture named {name[:200]!r} (there are: {offered}; or {ANY!r})")
    fault = body.get("fault")
    if fault not in FAULTS:
        raise FaultError("fault", f"required: one of {', '.join(FAULTS)}")
    params = body.get("params") or {}
    if not isinstance(params, dict) or any(isinstance(v, (dict, list)) or v is None for v in params.values()):
        raise FaultError("params", "must be an object of handshake query parameters to values")
    after = body.get("after", 0)
    if not isinstance(after, int) or isinstance(after, bool) or after < 0 or (after and fault == "error"):
        raise FaultError("after", "events sent before the fault: a whole number >= 0 (an error refuses the handshake)")
    message = body.get("message", "")
    if not isinstance(message, str) or len(message) > 1000:
        raise FaultError("message", "must be a string (at most 1000 characters)")
    times = body.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 1_000_000):
        raise FaultError("times", "must be a whole number >= 1 (leave it out: until removed)")
    clean = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
    return {"stream": name, "fault": fault, "params": clean, "after": after, "message": message, "times": times}


def find(items: list[dict[str, Any]], stream: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The faults that apply to a connection, the one to use first."""
    found = [
        item
        for item in items
        if is_fault(item)
        and item.get("stream") in (stream, ANY)
        and all(v in query.get(k, ()) for k, v in (item.get("params") or {}).items())
    ]

    def rank(item: dict[str, Any]) -> tuple[int, int, int]:
        ident = str(item.get("id", ""))
        return (item.get("stream") != ANY, len(item.get("params") or {}), int(ident) if ident.isdigit() else 0)

    return sorted(found, key=rank, reverse=True)
