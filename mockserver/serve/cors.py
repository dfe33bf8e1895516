"""CORS for the mock: which headers an answer carries for a cross-origin request, and the answer to a preflight.

Rules: on by default for any origin, echoed back (never `*`, so credentialed requests work too) with `Vary: Origin`;
the contract's response headers and `X-Mock-Source` are exposed; preflights allow every method and mirror the
requested headers. With an origin list, other origins get no CORS headers and their preflights a 400. A real
server's policy, recorded by `--record` into `POLICY_FILE` of a fixtures folder (`Policy`), replaces those defaults
when that folder is served: its origins (and any other port of their hosts, unless seen refused), what it sent to a
refused origin, its credentials, methods, headers and max age.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..contract import documents
from ..contract.documents import DocumentError

METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
_METHOD_SET = frozenset(METHODS.split(", "))
MIRROR = "mirror"  # a policy's `headers`: the requested ones are allowed, echoed back
POLICY_FILE = "_cors.yaml"  # in a fixtures folder: the upstream's CORS policy (`cors:`), written by the recorder
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Policy:
    """A real server's CORS policy as seen by the recorder (docs/record.md)."""

    allowed: frozenset[str] = frozenset()  # origins it allowed (echoed back)
    refused: frozenset[str] = frozenset()  # origins it refused
    any_origin: bool = False  # it answered `*`
    credentials: bool = True  # Access-Control-Allow-Credentials: true to an allowed origin
    credentials_refused: bool = False  # ... and to a refused one too (Starlette's CORSMiddleware does)
    expose: str = ""  # its Access-Control-Expose-Headers
    methods: str = METHODS  # its preflights' Access-Control-Allow-Methods
    headers: str = MIRROR  # ... Access-Control-Allow-Headers: MIRROR or a fixed list
    max_age: str | None = "600"
    others: tuple[tuple[str, str], ...] = ()  # the other headers of its preflight answers (Cache-Control ...)

    @cached_property
    def hosts(self) -> frozenset[str]:  # once per policy, not per request
        return frozenset(_host(origin) for origin in self.allowed)

    def allows(self, origin: str) -> bool:
        if self.any_origin or origin in self.allowed:
            return True
        return origin not in self.refused and _host(origin) in self.hosts  # another port of an allowed host

    def document(self) -> dict[str, Any]:
        return {"cors": {
            "allowed": sorted(self.allowed), "refused": sorted(self.refused), "any_origin": self.any_origin,
            "credentials": self.credentials, "credentials_refused": self.credentials_refused, "expose": self.expose,
            "methods": self.methods, "headers": self.headers, "max_age": self.max_age, "others": dict(self.others),
        }}  # fmt: skip


def load_policy(folders: Iterable[str]) -> Policy | None:
    """The policy recorded in the first of `folders` that has one; a file that is not one is a `DocumentError`."""
    for folder in folders:
        path = Path(folder) / POLICY_FILE
        if not path.is_file():
            continue
        data = documents.load(str(path))
        raw = data.get("cors") if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            raise DocumentError(str(path), "/cors", "required: the recorded CORS policy (a mapping)")
        fields: dict[str, Any] = {}
        for name, value in raw.items():
            kind = _FIELDS.get(name)
            if kind is None:
                raise DocumentError(str(path), f"/cors/{name}", f"unknown key; expected one of {sorted(_FIELDS)}")
            if name == "max_age" and (value is None or isinstance(value, int) and not isinstance(value, bool)):
                value = None if value is None else str(value)
                kind = type(value)
            elif kind is dict:
                if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                    raise DocumentError(str(path), f"/cors/{name}", "must be a mapping of header names to strings")
                value = tuple((str(k).lower(), v) for k, v in value.items())
                kind = tuple
            elif kind is list:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise DocumentError(str(path), f"/cors/{name}", "must be a list of origins")
                value = frozenset(value)
            if not isinstance(value, frozenset if kind is list else kind):
                raise DocumentError(str(path), f"/cors/{name}", f"must be a {kind.__name__}")
            fields[name] = value
        return Policy(**fields)
    return None


_FIELDS: dict[str, type] = {"allowed": list, "refused": list, "any_origin": bool, "credentials": bool,
                            "credentials_refused": bool, "expose": str, "methods": str, "headers": str, "max_age": str,
                            "others": dict}  # fmt: skip


def _host(origin: str) -> str:
    try:
        return urlsplit(origin).hostname or ""
    except ValueError:
        return ""


class Cors:
    def __init__(self, origins: Iterable[str], expose: Iterable[str], max_age: int = 600,
                 policy: Policy | None = None) -> None:  # fmt: skip
        self.origins = frozenset(origins)  # empty: any origin
        self._base = (frozenset(expose), max_age)  # what `with_policy` starts from again
        self.policy = policy = None if self.origins else policy  # --cors-origin wins over a recorded policy
        exposed = set(expose) | ({h.strip() for h in policy.expose.split(",") if h.strip()} if policy else set())
        self.expose = ", ".join(sorted(exposed)).encode("latin-1")
        self.max_age = str(max_age).encode() if policy is None else (policy.max_age or "").encode()
        self.methods = (METHODS if policy is None else policy.methods).encode("latin-1")
        self.credentials = policy is None or policy.credentials
        # the rest of a recorded policy, as its answers need it: worked out once, not per request
        self._any_origin = policy is not None and policy.any_origin
        self._method_set = _METHOD_SET if policy is None else {m.strip() for m in policy.methods.split(",")}
        fixed = policy is not None and policy.headers != MIRROR
        self._fixed_headers = policy.headers.encode("latin-1", "replace") if policy is not None and fixed else None
        self._header_set = {h.strip().lower() for h in policy.headers.split(",")} if policy is not None else set()
        self._others: Headers = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in policy.others] \
            if policy is not None else []  # fmt: skip

    def with_policy(self, policy: Policy | None) -> Cors:
        """The same settings with another recorded policy (`--watch` read a changed `POLICY_FILE`): a new object, so
        that a request never sees half of one policy and half of the other."""
        expose, max_age = self._base
        return Cors(self.origins, expose, max_age, policy)

    def allowed(self, origin: str) -> bool:
        if self.policy is not None:
            return self.policy.allows(origin)
        return not self.origins or origin in self.origins

    def simple(self, origin: str) -> Headers:
        """Headers for an answer to a request that sent `Origin`."""
        if not self.allowed(origin):
            refused = self.policy is not None and self.policy.credentials_refused
            return [(b"access-control-allow-credentials", b"true")] if refused else [(b"vary", b"Origin")]
        echoed = b"*" if self._any_origin else origin.encode("latin-1", "replace")
        headers = [(b"access-control-allow-origin", echoed), (b"vary", b"Origin")]
        if self.credentials:
            headers.insert(1, (b"access-control-allow-credentials", b"true"))
        if self.expose:
            headers.append((b"access-control-expose-headers", self.expose))
        return headers

    def preflight(self, origin: str, method: str, requested_headers: str | None) -> tuple[int, Headers, bytes]:
        """The answer to `OPTIONS` with `Origin` and `Access-Control-Request-Method`: status, headers, body."""
        headers: Headers = [(b"vary", b"Origin"), (b"access-control-allow-methods", self.methods)]
        if self.max_age:
            headers.append((b"access-control-max-age", self.max_age))
        if self.credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        fixed = self._fixed_headers
        if fixed is not None:
            headers.append((b"access-control-allow-headers", fixed))
        elif requested_headers:
            headers.append((b"access-control-allow-headers", requested_headers.encode("latin-1", "replace")))
        failures = []
        if self.allowed(origin):
            headers.append((b"access-control-allow-origin", origin.encode("latin-1", "replace")))
        else:
            failures.append("origin")
        allowed_methods = self._method_set
        if method.upper() not in allowed_methods and "*" not in allowed_methods:
            failures.append("method")
        if fixed is not None and requested_headers:
            allowed_headers = self._header_set
            if "*" not in allowed_headers and any(h.strip().lower() not in allowed_headers
                                                  for h in requested_headers.split(",")):  # fmt: skip
                failures.append("headers")
        headers += self._others
        if failures:
            return 400, headers, ("Disallowed CORS " + ", ".join(failures)).encode()
        return 200, headers, b"OK"
