"""Deciding an answer: security, the `Prefer` header, status and media type. Pure functions, no HTTP, no I/O.

The precedence, first match wins (mock.py walks it):
1. security: required credentials missing or wrong -> 401 (fixture `when: unauthorized`, documented 401, problem);
2. request validation: bad parameters or body -> the documented 422 (or 400) with a body valid against it;
3. `Prefer` (Prism-compatible): `example=NAME`, `code=NNN`, `branch=null|N`, `dynamic=true|false`, `delay=MS`;
4. a fixture that matches the request;
5. an example from the contract;
6. generated data.
An impossible preference is a 400 that says what the contract offers, never a guess.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass

from .spec import Operation, Response, SecurityScheme

_TOKEN = re.compile(r'\s*([A-Za-z][\w-]*)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,;\s]*))?\s*')
KNOWN = ("code", "example", "dynamic", "branch", "delay")


class PreferError(ValueError):
    pass


@dataclass
class Preferences:
    code: int | None = None
    example: str | None = None
    dynamic: bool | None = None
    branch: int | None = None  # -1 means the null branch
    delay_ms: int | None = None


def parse_prefer(header: str | None, max_delay_ms: int) -> Preferences:
    """RFC 7240 preferences; unknown ones are ignored, known ones with a bad value raise `PreferError`."""
    prefs = Preferences()
    if not header:
        return prefs
    if len(header) > 4096:
        raise PreferError("Prefer header longer than 4096 characters")
    for part in re.split(r"[,;]", header):
        if not part.strip():
            continue
        match = _TOKEN.fullmatch(part)
        if not match:
            raise PreferError(f"cannot parse preference {part.strip()[:80]!r}")
        name, value = match.group(1).lower(), (match.group(2) or "").strip('"')
        if name not in KNOWN:
            continue
        if name == "code":
            if not re.fullmatch(r"[1-5]\d\d", value):
                raise PreferError(f"code must be a 3-digit HTTP status, got {value[:40]!r}")
            prefs.code = int(value)
        elif name == "example":
            if not value:
                raise PreferError("example needs a name: example=NAME")
            prefs.example = value
        elif name == "dynamic":
            if value not in ("true", "false"):
                raise PreferError(f"dynamic must be true or false, got {value[:40]!r}")
            prefs.dynamic = value == "true"
        elif name == "branch":
            if value == "null":
                prefs.branch = -1
            elif value.isdigit() and len(value) < 4:
                prefs.branch = int(value)
            else:
                raise PreferError(f"branch must be null or a number, got {value[:40]!r}")
        elif name == "delay":
            if not value.isdigit():
                raise PreferError(f"delay must be a whole number of milliseconds, got {value[:40]!r}")
            prefs.delay_ms = min(int(value[:12]), max_delay_ms)
    return prefs


def credential(scheme: SecurityScheme, headers: dict[str, str], query: dict[str, list[str]], cookies: dict[str, str]) -> str | None:
    """The credential a request carries for a scheme, or None."""
    if scheme.type == "apiKey":
        name = scheme.parameter
        if scheme.location == "header":
            value = headers.get(name.lower())
        elif scheme.location == "query":
            value = query[name][-1] if query.get(name) else None
        else:
            value = cookies.get(name)
        return value or None
    if scheme.type in ("http", "oauth2", "openIdConnect"):
        auth = headers.get("authorization", "")
        kind, _, token = auth.partition(" ")
        expected = scheme.scheme.lower() or "bearer"
        return token.strip() or None if kind.lower() == expected else None
    return "mutual-tls"  # cannot be checked at this layer


def authorized(
    operation: Operation,
    headers: dict[str, str],
    query: dict[str, list[str]],
    cookies: dict[str, str],
    api_key: str | None,
) -> tuple[bool, list[str]]:
    """Whether any security alternative is satisfied, and the credential values seen (to redact them)."""
    if not operation.security:
        return True, []
    seen: list[str] = []
    ok = False
    for alternative in operation.security:
        values = [credential(s, headers, query, cookies) for s in alternative]
        seen.extend(v for v in values if v)
        if all(v is not None for v in values) and (api_key is None or all(_same(v, api_key, s) for v, s in zip(values, alternative, strict=True))):
            ok = True
    return ok, seen


def _same(value: str | None, expected: str, scheme: SecurityScheme) -> bool:
    """Constant-time comparison; for HTTP Basic the key is "user:password" or the password (or the base64 token)."""
    if value is None:
        return False
    if scheme.type == "http" and scheme.scheme.lower() == "basic":
        try:
            pair = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            pair = ""
        wanted = expected.encode("utf-8", "surrogatepass")
        # the key is "user:password" when it has a colon, else the password (as `mockserver check` sends it)
        candidate = pair if ":" in expected else pair.partition(":")[2]
        if hmac.compare_digest(candidate.encode("utf-8", "surrogatepass"), wanted):
            return True
    return hmac.compare_digest(value.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def missing_credentials(operation: Operation) -> str:
    def where(s: SecurityScheme) -> str:
        if s.type == "apiKey":
            return f"{s.location} {s.parameter}"
        return f"Authorization: {s.scheme.capitalize() or 'Bearer'} …"

    return " or ".join(" and ".join(where(s) for s in alt) for alt in operation.security)


def default_status(operation: Operation) -> str | None:
    """The success answer: the lowest documented 2xx, then 2XX, then default, then the first documented."""
    codes = sorted(s for s in operation.responses if s.isdigit() and s.startswith("2"))
    for candidate in (*codes, "2XX", "default"):
        if candidate in operation.responses:
            return candidate
    return next(iter(operation.responses), None)


def numeric(status: str) -> int:
    if status.isdigit():
        return int(status)
    if status.endswith("XX"):
        return int(status[0]) * 100
    return 200


def choose_media(response: Response, accept: str | None) -> str | None:
    """The response media type for an Accept header; JSON first when the client takes anything."""
    if not response.content:
        return None
    offered = list(response.content)
    if accept:
        for wanted in (a.split(";")[0].strip().lower() for a in accept.split(",")):
            for media in offered:
                base = media.split(";")[0].lower()
                if wanted == base or (wanted.endswith("/*") and base.startswith(wanted[:-1])):
                    return media
    return next((m for m in offered if "json" in m.lower()), offered[0])
