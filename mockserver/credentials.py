"""Where the API key goes in a request and what it looks like there, for each kind of security scheme.

Rules: an apiKey scheme gets the key as is (header, query or cookie); HTTP bearer, oauth2 and openIdConnect get
`Authorization: Bearer KEY`; HTTP basic reads the key as `user:password` when it holds a colon, else as the password
with an empty user. Other schemes (digest, mutualTLS) get nothing. `secrets` lists every form the key takes on the
wire, so that redaction can find each of them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus


@dataclass(frozen=True)
class Scheme:
    name: str  # its key in components.securitySchemes
    kind: str  # "apiKey" | "bearer" | "basic"
    location: str  # "header" | "query" | "cookie"
    parameter: str  # the header, query parameter or cookie that carries the key


def schemes(document: dict[str, Any]) -> list[Scheme]:
    """The contract's security schemes that the key can fill."""
    found = []
    for name, scheme in ((document.get("components") or {}).get("securitySchemes") or {}).items():
        if not isinstance(scheme, dict):
            continue
        kind, http = scheme.get("type"), str(scheme.get("scheme", "")).lower()
        if kind == "apiKey" and scheme.get("name"):
            found.append(Scheme(str(name), "apiKey", str(scheme.get("in", "header")), str(scheme["name"])))
        elif kind in ("oauth2", "openIdConnect") or (kind == "http" and http == "bearer"):
            found.append(Scheme(str(name), "bearer", "header", "Authorization"))
        elif kind == "http" and http == "basic":
            found.append(Scheme(str(name), "basic", "header", "Authorization"))
    return found


def basic_user(key: str) -> tuple[str, str]:
    """(user, password) for HTTP basic: `user:password` splits at the first colon, anything else is a password."""
    user, colon, password = key.partition(":")
    return (user, password) if colon else ("", key)


def sent_as(scheme: Scheme, key: str) -> str:
    """The value the scheme's header, query parameter or cookie carries."""
    if scheme.kind == "bearer":
        return f"Bearer {key}"
    if scheme.kind == "basic":
        return basic_authorization(key)
    return key


def basic_authorization(key: str) -> str:
    """The `Authorization` value HTTP basic sends (requests encodes it as latin-1; Schemathesis accepts no other)."""
    return f"Basic {_basic_token(key)}"


def carries(request: Any, key: str, found: list[Scheme]) -> bool:
    """Whether a sent request (a `requests.PreparedRequest`) holds the key for one of the schemes."""
    headers = request.headers if request is not None else {}
    url = str(getattr(request, "url", "") or "")
    for scheme in found:
        if scheme.location == "header" and headers.get(scheme.parameter) == sent_as(scheme, key):
            return True
        if scheme.location in ("query", "cookie") and key in (url + str(headers.get("Cookie", ""))):
            return True
    return False


def config(key: str, found: list[Scheme]) -> dict[str, Any]:
    """The `headers` and `auth` sections of a Schemathesis config that send the key where each scheme says."""
    data: dict[str, Any] = {}
    headers = {s.parameter: _literal(key) for s in found if s.kind == "apiKey" and s.location == "header"}
    if headers:
        data["headers"] = headers
    # Every other scheme through Schemathesis' OpenAPI-aware auth, which sends it only where the operation needs it
    auth: dict[str, dict[str, str]] = {}
    for scheme in found:
        if scheme.kind == "bearer":
            auth[scheme.name] = {"bearer": _literal(key)}
        elif scheme.kind == "basic":
            user, password = basic_user(key)
            auth[scheme.name] = {"username": _literal(user), "password": _literal(password)}
        elif scheme.location in ("query", "cookie"):
            auth[scheme.name] = {"api_key": _literal(key)}
    if auth:
        data["auth"] = {"openapi": auth}
    return data


def secrets(key: str) -> list[str]:
    """Every form the key takes in a request, longest first so that replacing one never leaves part of another."""
    forms = {key, quote(key, safe=""), quote_plus(key, safe=""), _basic_token(key)}
    return sorted((form for form in forms if form), key=len, reverse=True)


def _basic_token(key: str) -> str:
    user, password = basic_user(key)
    return base64.b64encode(f"{user}:{password}".encode("latin-1", "replace")).decode("ascii")


def _literal(value: str) -> str:
    return value.replace("${", "$${")  # Schemathesis reads `${NAME}` in its config as an environment variable
