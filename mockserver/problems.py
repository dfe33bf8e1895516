"""The mock's own error answers, as data: RFC 9457 problem documents built from constants.

Rules: these are used only where the contract documents nothing better (a documented 401/422 schema wins, see
negotiation.py). Every body says what the contract offers, so a frontend developer can fix the request.
"""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"

NO_PATH = ("no-path", 404, "Not Found", "No operation in the contract matches this path.")
NO_METHOD = ("no-method", 405, "Method Not Allowed", "The contract does not offer this method on this path.")
UNAUTHORIZED = ("unauthorized", 401, "Unauthorized", "The operation requires credentials that were not sent or are wrong.")
INVALID_REQUEST = ("invalid-request", 422, "Unprocessable Entity", "The request does not match the contract.")
BAD_PREFER = ("bad-prefer", 400, "Bad Request", "The Prefer header asks for something the contract cannot give.")
NO_FIXTURE = ("no-fixture", 404, "Not Found", "No fixture matches this request and --fixtures-only is on.")
HEADERS_TOO_LARGE = ("headers-too-large", 431, "Request Header Fields Too Large", "Too many or too large request headers.")
TOO_LARGE = ("too-large", 413, "Content Too Large", "The request body is larger than the mock accepts.")
INJECTED = ("injected", 500, "Injected Error", "Error injected by --error-rate.")
INTERNAL = ("internal", 500, "Internal Server Error", "The mock server could not answer (a bug: please report it).")
UNAVAILABLE = ("injected", 503, "Service Unavailable", "Error injected by --error-rate.")


def problem(kind: tuple[str, int, str, str], detail: str | None = None, **extra: Any) -> tuple[int, dict[str, Any]]:
    name, status, title, default = kind
    body = {"type": f"https://mockserver.invalid/problems/{name}", "title": title, "status": status}
    body["detail"] = detail or default
    body.update(extra)
    return status, body
