"""Security schemes: one model of a contract's `components.securitySchemes`, used by the mock and the checker.

Rules: the only reader of `securitySchemes`. Each scheme knows where its credential travels, how the mock finds and
accepts it (constant time), the challenge a 401 carries, what a configured key looks like on the wire (for sending
and for redaction) and how a reproducing curl writes it. An apiKey scheme carries the key as is; HTTP bearer, oauth2
and openIdConnect `Authorization: Bearer KEY`; HTTP basic reads the key as `user:password` when it holds a colon,
else as the password of an empty user. A new kind of scheme is one class here and one entry in `KINDS`, nowhere
else.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus

from .documents import DocumentError, pointer

# Names that carry credentials whatever the contract says: redacted in every journal and log
ALWAYS_SECRET = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


@dataclass(frozen=True)
class SecurityScheme:
    """What every scheme answers; each kind below is one class, chosen by `parse_schemes` from `KINDS`."""

    name: str  # its key in components.securitySchemes
    type: str  # apiKey | http | oauth2 | openIdConnect | mutualTLS
    location: str = "header"  # header | query | cookie
    parameter: str = "Authorization"  # the header, query parameter or cookie that carries the credential
    scheme: str = ""  # lower case; http: bearer | basic | digest | ...; "bearer" for oauth2 and openIdConnect

    fillable: ClassVar[bool] = False  # whether a configured key can be sent for it (digest and mutual TLS cannot)

    # --- the mock's side --------------------------------------------------------------------------------------

    def credential(
        self, headers: Mapping[str, str], query: Mapping[str, list[str]], cookies: Mapping[str, str]
    ) -> str | None:
        """The credential a request carries for this scheme (headers with lower-case names), or None: the token of
        `Authorization: <scheme> <token>` unless a kind says otherwise."""
        kind, _, token = headers.get("authorization", "").partition(" ")
        return (token.strip() or None) if kind.lower() == (self.scheme or "bearer") else None

    def finder(self) -> Callable[[Mapping[str, str], Mapping[str, list[str]], Mapping[str, str]], str | None]:
        """`credential` as a function, worked out once per operation (a kind may return a cheaper one)."""
        return self.credential

    def accepts(self, value: str, api_key: str) -> bool:
        """Whether `value` (from `credential`) is the configured key, in constant time."""
        return hmac.compare_digest(_bytes(value), _bytes(api_key))

    def challenge(self) -> str | None:
        """The `WWW-Authenticate` value of a 401 for this scheme (HTTP schemes only)."""
        return None

    def describe(self) -> str:
        return f"Authorization: {(self.scheme or 'bearer').capitalize()} …"

    # --- the checker's side -----------------------------------------------------------------------------------

    def wire_value(self, key: str) -> str:
        """The value this scheme's header, query parameter or cookie carries for a configured key."""
        return f"Bearer {key}"

    def carries(self, headers: Mapping[str, str], url: str, key: str) -> bool:
        """Whether a sent request (its headers, any case, and its URL) holds the key where this scheme puts it."""
        if not self.fillable:
            return False
        if self.location == "header":
            return _get(headers, self.parameter) == self.wire_value(key)
        return key in url or quote(key, safe="") in url or key in _get(headers, "cookie")

    def curl_option(self, name: str, value: str, key: str, variable: str) -> list[str] | None:
        """curl arguments that send header `name: value` with the key read from the shell variable `variable`,
        when curl has a better spelling than `-H`; None otherwise."""
        return None

    def auth_entry(self, key: str) -> tuple[str, dict[str, str]] | None:
        """How the checker's configuration sends the key: ("header", {name: value}) for a header sent on every
        request, ("auth", {...}) for contract-aware authentication sent only where an operation needs it."""
        return None


@dataclass(frozen=True)
class ApiKey(SecurityScheme):
    """`type: apiKey`: the key as is, in the header, query parameter or cookie the contract names."""

    fillable: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "_header", self.parameter.lower())  # looked up on every request

    def credential(
        self, headers: Mapping[str, str], query: Mapping[str, list[str]], cookies: Mapping[str, str]
    ) -> str | None:
        if self.location == "header":
            value = headers.get(self._header)  # type: ignore[attr-defined]
        elif self.location == "query":
            found = query.get(self.parameter)
            value = found[-1] if found else None
        else:
            value = cookies.get(self.parameter)
        return value or None

    def finder(self) -> Callable[[Mapping[str, str], Mapping[str, list[str]], Mapping[str, str]], str | None]:
        if self.location != "header":
            return self.credential
        header = self.parameter.lower()
        return lambda headers, query, cookies: headers.get(header) or None  # the usual case: one lookup

    def describe(self) -> str:
        return f"{self.location} {self.parameter}"

    def wire_value(self, key: str) -> str:
        return key

    def auth_entry(self, key: str) -> tuple[str, dict[str, str]] | None:
        return ("header", {self.parameter: key}) if self.location == "header" else ("auth", {"api_key": key})


@dataclass(frozen=True)
class Http(SecurityScheme):
    """`type: http` with a scheme a key cannot fill (digest, ...): the mock still reads `Authorization`."""

    def challenge(self) -> str | None:
        return f'{(self.scheme or "bearer").capitalize()} realm="mockserver"'


@dataclass(frozen=True)
class Bearer(Http):
    """HTTP bearer, and oauth2 and openIdConnect as the mock and the checker see them: `Authorization: Bearer KEY`."""

    fillable: ClassVar[bool] = True

    def challenge(self) -> str | None:
        return super().challenge() if self.type == "http" else None

    def auth_entry(self, key: str) -> tuple[str, dict[str, str]] | None:
        return "auth", {"bearer": key}


@dataclass(frozen=True)
class Basic(Http):
    """HTTP basic: the key is `user:password` when it holds a colon, else the password of an empty user."""

    fillable: ClassVar[bool] = True

    def accepts(self, value: str, api_key: str) -> bool:
        """The base64 token of the key passes, and so does the token itself."""
        try:
            pair = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            pair = ""
        candidate = pair if ":" in api_key else pair.partition(":")[2]
        if hmac.compare_digest(_bytes(candidate), _bytes(api_key)):
            return True
        return super().accepts(value, api_key)

    def wire_value(self, key: str) -> str:
        return basic_authorization(key)

    def curl_option(self, name: str, value: str, key: str, variable: str) -> list[str] | None:
        if name.lower() != "authorization" or value != basic_authorization(key):
            return None
        return ["-u", f'"{variable}"' if ":" in key else f'":{variable}"']

    def auth_entry(self, key: str) -> tuple[str, dict[str, str]] | None:
        user, password = basic_user(key)
        return "auth", {"username": user, "password": password}


@dataclass(frozen=True)
class MutualTLS(SecurityScheme):
    """`type: mutualTLS`: the TLS layer checks it, not HTTP; nothing to send or find."""

    def credential(
        self, headers: Mapping[str, str], query: Mapping[str, list[str]], cookies: Mapping[str, str]
    ) -> str | None:
        return "mutual-tls"


def _api_key(name: str, obj: Mapping[str, Any], file: str, where: str) -> SecurityScheme:
    if not isinstance(obj.get("name"), str) or obj.get("in") not in ("header", "query", "cookie"):
        raise DocumentError(file, where, "an apiKey scheme needs a string 'name' and 'in' of header, query, cookie")
    return ApiKey(name, "apiKey", obj["in"], obj["name"])


def _http(name: str, obj: Mapping[str, Any], file: str, where: str) -> SecurityScheme:
    scheme = str(obj.get("scheme", "")).lower() or "bearer"
    return HTTP_SCHEMES.get(scheme, Http)(name, "http", scheme=scheme)


def _token(name: str, obj: Mapping[str, Any], file: str, where: str) -> SecurityScheme:
    return Bearer(name, str(obj["type"]), scheme="bearer")


def _mutual_tls(name: str, obj: Mapping[str, Any], file: str, where: str) -> SecurityScheme:
    return MutualTLS(name, "mutualTLS", scheme="")


# One entry per `type` of the OpenAPI specification: a new kind of scheme is a class above and one line here
KINDS: dict[str, Callable[[str, Mapping[str, Any], str, str], SecurityScheme]] = {
    "apiKey": _api_key, "http": _http, "oauth2": _token, "openIdConnect": _token, "mutualTLS": _mutual_tls,
}  # fmt: skip
HTTP_SCHEMES: dict[str, type[Http]] = {"bearer": Bearer, "basic": Basic}  # the HTTP schemes a key can fill


def parse_schemes(document: Mapping[str, Any], file: str) -> dict[str, SecurityScheme]:
    """Every scheme of `components.securitySchemes` (non-schema `$ref`s already inlined by the caller's bundling)."""
    raw = (document.get("components") or {}).get("securitySchemes") or {}
    if not isinstance(raw, dict):
        raise DocumentError(file, "/components/securitySchemes", "must be a mapping")
    found = {}
    for name, obj in raw.items():
        where = pointer("components", "securitySchemes", name)
        if isinstance(obj, dict) and isinstance(obj.get("$ref"), str):
            obj = _follow(document, obj["$ref"], file, where)
        if not isinstance(obj, dict):
            raise DocumentError(file, where, "a security scheme must be a mapping")
        kind = KINDS.get(str(obj.get("type", "")))
        if kind is None:
            raise DocumentError(file, where + "/type", f"unknown security scheme type {str(obj.get('type', ''))!r}")
        found[name] = kind(name, obj, file, where)
    return found


def _follow(document: Mapping[str, Any], ref: str, file: str, where: str) -> Any:
    node: Any = document
    for token in ref.lstrip("#").split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node.get(token) if isinstance(node, dict) else None
    if node is None:
        raise DocumentError(file, where + "/$ref", f"$ref {ref!r} points nowhere")
    return node


def satisfied(
    security: list[list[SecurityScheme]],
    headers: Mapping[str, str],
    query: Mapping[str, list[str]],
    cookies: Mapping[str, str],
    api_key: str | None,
) -> tuple[bool, list[str]]:
    """Whether any alternative of an operation's requirements is met, and the credential values the request
    carried (to redact them). Without `api_key` any non-empty credential passes."""
    if not security:
        return True, []
    if len(security) == 1 and len(security[0]) == 1:  # one scheme, the usual case: no lists of lists
        scheme = security[0][0]
        value = scheme.credential(headers, query, cookies)
        if value is None:
            return False, []
        return api_key is None or not value or scheme.accepts(value, api_key), [value] if value else []
    seen: list[str] = []
    ok = False
    for alternative in security:
        values = [scheme.credential(headers, query, cookies) for scheme in alternative]
        seen.extend(v for v in values if v)
        if all(v is not None for v in values) and (
            api_key is None or all(s.accepts(v, api_key) for s, v in zip(alternative, values, strict=True) if v)
        ):
            ok = True
    return ok, seen


Check = Callable[[Mapping[str, str], Mapping[str, list[str]], Mapping[str, str]], tuple[bool, list[str]]]
_MET: tuple[bool, list[str]] = (True, [])  # shared, never written
_UNMET: tuple[bool, list[str]] = (False, [])  # shared, never written


def check_of(security: list[list[SecurityScheme]], api_key: str | None) -> Check:
    """`satisfied(security, headers, query, cookies, api_key)` as a function of the request alone, worked out once
    per operation: no requirement, or one scheme (the usual cases), cost a lookup and a comparison."""
    if not security:
        return lambda headers, query, cookies: _MET
    if len(security) != 1 or len(security[0]) != 1:
        return lambda headers, query, cookies: satisfied(security, headers, query, cookies, api_key)
    scheme = security[0][0]
    find, accepts = scheme.finder(), scheme.accepts

    def check(
        headers: Mapping[str, str], query: Mapping[str, list[str]], cookies: Mapping[str, str]
    ) -> tuple[bool, list[str]]:
        value = find(headers, query, cookies)
        if value is None:
            return _UNMET
        return api_key is None or not value or accepts(value, api_key), [value] if value else []

    return check


def missing(security: list[list[SecurityScheme]]) -> str:
    """What a request must send, for a 401's detail: "header X-Key or Authorization: Bearer …"."""
    return " or ".join(" and ".join(s.describe() for s in alternative) for alternative in security)


def challenges(security: list[list[SecurityScheme]]) -> str | None:
    found = sorted({c for alternative in security for s in alternative if (c := s.challenge())})
    return ", ".join(found) or None


def secret_names(schemes: Iterable[SecurityScheme]) -> set[str]:
    """Header, query and cookie names (lower case) whose values are credentials: redacted by name."""
    return set(ALWAYS_SECRET) | {s.parameter.lower() for s in schemes if isinstance(s, ApiKey)}


def checker_auth(schemes: Iterable[SecurityScheme], key: str) -> dict[str, Any]:
    """The `headers` and `auth` sections of the checker's configuration that send the key where each scheme says.
    `${` is escaped: the checker's configuration reads `${NAME}` as an environment variable."""
    headers: dict[str, str] = {}
    auth: dict[str, dict[str, str]] = {}
    for scheme in schemes:
        entry = scheme.auth_entry(key)
        if entry is None:
            continue
        section, values = entry
        literal = {k: v.replace("${", "$${") for k, v in values.items()}
        if section == "header":
            headers.update(literal)
        else:
            auth[scheme.name] = literal
    data: dict[str, Any] = {}
    if headers:
        data["headers"] = headers
    if auth:
        data["auth"] = {"openapi": auth}
    return data


def curl_option(name: str, value: str, key: str, variable: str) -> list[str] | None:
    """curl's own spelling of a credential header, where it has one (HTTP basic: `-u "$VARIABLE"`), else None."""
    for kind in _CURL_KINDS:
        found = kind.curl_option(name, value, key, variable)
        if found is not None:
            return found
    return None


def wire_forms(key: str) -> list[str]:
    """Every form the key takes in a request, longest first so that replacing one never leaves part of another."""
    forms = {key, quote(key, safe=""), quote_plus(key, safe=""), _basic_token(key)}
    return sorted((form for form in forms if form), key=len, reverse=True)


def basic_user(key: str) -> tuple[str, str]:
    """(user, password) for HTTP basic: `user:password` splits at the first colon, anything else is a password."""
    user, colon, password = key.partition(":")
    return (user, password) if colon else ("", key)


def basic_authorization(key: str) -> str:
    """The `Authorization` value HTTP basic sends (encoded as latin-1, as HTTP clients do)."""
    return f"Basic {_basic_token(key)}"


_CURL_KINDS = (Basic("basic", "http", scheme="basic"),)  # the kinds with a curl spelling of their own


def basic_token(key: str) -> str:
    """The base64 part of the `Authorization: Basic` value for a configured key."""
    return _basic_token(key)


def _basic_token(key: str) -> str:
    user, password = basic_user(key)
    return base64.b64encode(f"{user}:{password}".encode("latin-1", "replace")).decode("ascii")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _get(headers: Mapping[str, str], name: str) -> str:
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value[0] if isinstance(value, list) else value
    return ""
