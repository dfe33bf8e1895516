"""The mock's own error answers, as data: RFC 9457 problem documents built from constant `Problem`s.

Rules: used only where the contract documents nothing better: a schema the operation documents for the status (exact,
its range or `default`) wins, filled with the same message (see negotiation.own_error).
Every body says what the contract offers, so a frontend developer can fix the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Problem:
    name: str
    status: int
    title: str
    default: str

    def body(self, detail: str | None = None, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://mockserver.invalid/problems/{self.name}",
            "title": self.title,
            "status": self.status,
            "detail": detail or self.default,
        }
        body.update(extra)
        return body


NO_PATH = Problem("no-path", 404, "Not Found", "No operation in the contract matches this path.")
NO_METHOD = Problem("no-method", 405, "Method Not Allowed", "The contract does not offer this method on this path.")
UNAUTHORIZED = Problem(
    "unauthorized", 401, "Unauthorized", "The operation requires credentials that were not sent or are wrong."
)
INVALID_REQUEST = Problem("invalid-request", 422, "Unprocessable Entity", "The request does not match the contract.")
UNSUPPORTED_MEDIA = Problem(
    "unsupported-media-type", 415, "Unsupported Media Type", "The body's media type is not one the operation documents."
)
BAD_PREFER = Problem("bad-prefer", 400, "Bad Request", "The Prefer header asks for something the contract cannot give.")
NO_FIXTURE = Problem("no-fixture", 404, "Not Found", "No fixture matches this request and --fixtures-only is on.")
HEADERS_TOO_LARGE = Problem(
    "headers-too-large", 431, "Request Header Fields Too Large", "Too many or too large request headers."
)
TOO_LARGE = Problem("too-large", 413, "Content Too Large", "The request body is larger than the mock accepts.")
INJECTED = Problem("injected", 500, "Injected Error", "Error injected by --error-rate.")
UNAVAILABLE = Problem("injected", 503, "Service Unavailable", "Error injected by --error-rate.")
INTERNAL = Problem(
    "internal", 500, "Internal Server Error", "The mock server could not answer (a bug: please report it)."
)
UNSERVABLE = Problem(
    "unservable-operation", 501, "Not Implemented",
    "The contract describes this operation in a way the mock cannot serve (see `pointer` and `reason`).",
)  # fmt: skip
NO_ITEM = Problem("no-item", 404, "Not Found", "No such item in this collection (--stateful).")
RATE_LIMITED = Problem("rate-limited", 429, "Too Many Requests", "Simulated rate limit (--rate-limit) exceeded.")
BAD_ADMIN = Problem("bad-admin-request", 400, "Bad Request", "The admin request is not what the endpoint takes.")
ADMIN_CROSS_ORIGIN = Problem(
    "admin-cross-origin",
    403,
    "Forbidden",
    "Only the mock's own pages and --cors-origin origins may use the admin endpoints.",
)
ADMIN_NOT_FOUND = Problem("admin-not-found", 404, "Not Found", "No such admin resource.")
STATE_DOWN = Problem("state-unavailable", 503, "Service Unavailable", "The shared state store cannot be reached.")

# Forwarding (forward/): the upstream could not be reached, reset the connection or sent too much; or it was too slow
BAD_GATEWAY = Problem("bad-gateway", 502, "Bad Gateway", "The upstream server did not send a usable answer.")
GATEWAY_TIMEOUT = Problem("gateway-timeout", 504, "Gateway Timeout", "The upstream server did not answer in time.")


def forced(status: int) -> Problem:
    """The document for a status a runtime override forces where the contract documents none."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Forced Status"
    return Problem("forced", status, title, "Answer forced by a runtime override (/__mock/overrides).")
