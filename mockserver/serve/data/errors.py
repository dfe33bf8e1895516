"""The mock's own errors (401, 404, 405, 415, 422) in the shape a contract documents for them: the usual shapes of
an error body, tried in turn, and a generated body whose message- and code-like fields are made to say what happened.
Rules: a field is changed only where the whole body stays valid (the caller passes the validator)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MESSAGE_KEYS = frozenset({"message", "detail", "error", "title", "description", "reason", "msg", "error_description"})
_CODE_KEYS = frozenset({"code", "status", "status_code", "statuscode", "http_status", "error_code"})


def error_shapes(problem: dict[str, Any], status: int, message: str, errors: Any) -> list[dict[str, Any]]:
    """The usual shapes of an error body, most specific first: FastAPI's, RFC 9457's, `{code, message}`, ..."""
    shapes: list[dict[str, Any]] = []
    problem = {**problem, "status": status}
    if errors is not None:
        shapes += [{"detail": errors}, {**problem, "errors": errors}, {"message": message, "errors": errors}]
    return shapes + [
        {"detail": message}, problem, {"code": status, "message": message}, {"message": message},
        {"error": message}, {"title": problem["title"], "status": status, "detail": message},
        {"error": {"code": status, "message": message}}, {"status": status, "message": message},
        {"code": str(status), "message": message}, {"error": message, "error_description": message},
    ]  # fmt: skip


def fill_error(value: Any, status: int, message: str, valid: Callable[[Any], bool]) -> Any:
    """A generated error body with its message-like fields saying `message` and code-like ones `status`, one field
    at a time, each kept only where the body stays valid."""
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key, current in value.items():
        lowered = key.lower()
        candidates: list[Any] = []
        if lowered in _MESSAGE_KEYS and isinstance(current, str):
            candidates = [message]
        elif lowered in _CODE_KEYS and isinstance(current, (int, str)) and not isinstance(current, bool):
            candidates = [status] if isinstance(current, int) else [str(status)]
        elif isinstance(current, dict):
            candidates = [fill_error(current, status, message, _inside(valid, out, key))]
        for candidate in candidates:
            if valid({**out, key: candidate}):
                out[key] = candidate
                break
    return out


def _inside(valid: Callable[[Any], bool], body: dict[str, Any], key: str) -> Callable[[Any], bool]:
    """`valid` for a value of `body[key]`, judged in the whole body."""
    return lambda value: valid({**body, key: value})
