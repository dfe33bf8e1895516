"""CORS for the mock: which headers an answer carries for a cross-origin request, and the answer to a preflight.

Rules: on by default for any origin, echoed back (never `*`, so credentialed requests work too) with `Vary: Origin`;
the contract's response headers and `X-Mock-Source` are exposed; preflights allow every method and mirror the
requested headers. With an origin list, other origins get no CORS headers and their preflights a 400.
"""

from __future__ import annotations

from collections.abc import Iterable

METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
_METHOD_SET = frozenset(METHODS.split(", "))
Headers = list[tuple[bytes, bytes]]


class Cors:
    def __init__(self, origins: Iterable[str], expose: Iterable[str], max_age: int = 600) -> None:
        self.origins = frozenset(origins)  # empty: any origin
        self.expose = ", ".join(sorted(set(expose))).encode("latin-1")
        self.max_age = str(max_age).encode()

    def allowed(self, origin: str) -> bool:
        return not self.origins or origin in self.origins

    def simple(self, origin: str) -> Headers:
        """Headers for an answer to a request that sent `Origin`."""
        if not self.allowed(origin):
            return [(b"vary", b"Origin")]
        headers = [(b"access-control-allow-origin", origin.encode("latin-1", "replace")),
                   (b"access-control-allow-credentials", b"true"), (b"vary", b"Origin")]  # fmt: skip
        if self.expose:
            headers.append((b"access-control-expose-headers", self.expose))
        return headers

    def preflight(self, origin: str, method: str, requested_headers: str | None) -> tuple[int, Headers, bytes]:
        """The answer to `OPTIONS` with `Origin` and `Access-Control-Request-Method`: status, headers, body."""
        headers: Headers = [
            (b"vary", b"Origin"),
            (b"access-control-allow-methods", METHODS.encode()),
            (b"access-control-max-age", self.max_age),
            (b"access-control-allow-credentials", b"true"),
        ]
        if requested_headers:
            headers.append((b"access-control-allow-headers", requested_headers.encode("latin-1", "replace")))
        failures = []
        if self.allowed(origin):
            headers.append((b"access-control-allow-origin", origin.encode("latin-1", "replace")))
        else:
            failures.append("origin")
        if method.upper() not in _METHOD_SET:
            failures.append("method")
        if failures:
            return 400, headers, ("Disallowed CORS " + ", ".join(failures)).encode()
        return 200, headers, b"OK"
