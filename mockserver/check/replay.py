"""`mockserver replay CASSETTE [BASE_URL]`: send the failing requests a check or fuzz run saved once more, and say
which still fail.

Rules: a cassette never holds the key: placeholders (`${MOCKSERVER_API_KEY}`, `...:url}`, `...:basic}`, see
cassette.placeholders) are filled from MOCKSERVER_API_KEY at send time, and nothing printed holds it. Requests go
to the recorded base URL, or to BASE_URL in its place, through the same bounded session as check (429s waited out,
no other host). A failure still fails when the same check fails on the new answer: contract checks run again on it
(engine.recheck); `ignored_auth` is sent again without the credentials and fails on a 2xx; each check is judged as
its entry in `rules.CATALOGUE` says, and a check replay does not know is an error (exit 2), never a silent pass. Exit
0 when none still fails, 1 when one does, 2 when the cassette cannot be read or replayed.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

from ..contract import documents, security
from ..contract.verdicts import key_problem
from ..contract.words import count, plural
from . import engine, throttling
from .commands import ENV_KEY
from .findings import Request, one_line
from .plan import SAFE_METHODS
from .reporting import redact
from .rules import CATALOGUE, RECHECK, TRANSPORT, WITHOUT_CREDENTIALS

PLACEHOLDER = re.compile(r"\$\{MOCKSERVER_API_KEY(:url|:form|:basic)?\}")


class ReplayError(Exception):
    """The cassette cannot be replayed: exit 2 with `str(exc)`."""


@dataclass
class Recorded:
    """One failing request of a cassette."""

    request: Request
    checks: list[str]  # the checks that failed on it
    status: str  # the status code recorded, "" for none


@dataclass
class Cassette:
    base_url: str
    spec: str | None
    failures: list[Recorded] = field(default_factory=list)


def load(path: str) -> Cassette:
    """A cassette file, read by the guarded loader every document goes through (size, alias bombs, depth: the file,
    line and reason, never a traceback)."""
    if documents.is_url(path):
        raise ReplayError(f"{path}: a cassette is a file (check and fuzz write it with --cassette)")
    try:
        data = documents.load(path)
    except documents.DocumentError as exc:
        raise ReplayError(f"{exc} (not a readable cassette)") from None
    if not isinstance(data, dict) or not isinstance(data.get("http_interactions"), list):
        raise ReplayError(f"{path}: not a cassette (no http_interactions)")
    found = data.get("mockserver")
    ours: dict[str, Any] = found if isinstance(found, dict) else {}
    base_url = str(ours.get("base_url") or "")
    if not base_url:
        raise ReplayError(f"{path}: not written by mockserver check/fuzz (no mockserver.base_url)")
    cassette = Cassette(base_url=base_url, spec=ours.get("spec"))
    for item in data["http_interactions"]:
        if not isinstance(item, dict) or item.get("status") not in ("FAILURE", "ERROR"):
            continue
        raw = item.get("request") or {}
        headers = {str(k): str(v[0] if isinstance(v, list) and v else v) for k, v in (raw.get("headers") or {}).items()}
        body = (raw.get("body") or {}).get("string")
        checks = [str(c.get("name")) for c in item.get("checks") or [] if c.get("status") == "FAILURE"]
        response = item.get("response") or {}
        status = str((response.get("status") or {}).get("code") or "")
        request = Request(str(raw.get("method", "GET")), str(raw.get("uri", "")), headers,
                          body.encode("utf-8") if isinstance(body, str) else None)  # fmt: skip
        cassette.failures.append(Recorded(request, checks or ["(error)"], status))
    return cassette


def fill(text: str, key: str | None) -> str:
    """The text with each placeholder replaced by the key in that form."""

    def form(found: re.Match[str]) -> str:
        if key is None:
            raise ReplayError(f"this cassette sends the API key: set {ENV_KEY}")
        kind = found.group(1)
        if kind == ":url":
            return quote(key, safe="")
        if kind == ":form":
            return quote_plus(key, safe="")
        if kind == ":basic":
            return security.basic_token(key)
        return key

    return PLACEHOLDER.sub(form, text)


def without_credentials(request: Request) -> Request:
    """The request with every header and query parameter that carried the key left out."""
    parts = urlsplit(request.url)
    query = "&".join(p for p in parts.query.split("&") if p and not PLACEHOLDER.search(p))
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    headers = {k: v for k, v in request.headers.items() if not PLACEHOLDER.search(v)}
    return Request(request.method, url, headers, request.body)


def run(path: str, base_url: str | None, spec_override: str | None, timeout: float,
        allow_unsafe_methods: bool = False) -> int:  # fmt: skip
    from ..contract.documents import DocumentError
    from ..contract.spec import load_spec
    from .conformance import prefixed

    key = os.environ.get(ENV_KEY) or None
    if key_problem(key):
        print(f"mockserver replay: error: {key_problem(key)}", file=sys.stderr)
        return 2
    try:
        cassette = load(path)
        try:
            spec = load_spec(spec_override or cassette.spec)
        except DocumentError as exc:
            raise ReplayError(f"the contract of this cassette: {exc} (give another with --spec)") from None
        target = prefixed(base_url, spec) if base_url else cassette.base_url
        if not cassette.failures:
            print(f"mockserver replay: {path} holds no failing request")
            return 0
        unknown = unknown_checks(cassette)
        if unknown:
            raise ReplayError(
                f"{path}: names {plural('check', len(unknown))} replay does not know: {', '.join(unknown)}"
            )
        replayed = engine.load_for_replay(spec, target)
        counters = throttling.Counters()  # every request that leaves, 429 retries and requests without the key too
        session = throttling.make_session(
            throttling.Limits(timeout=timeout, origin=throttling.origin(target)),
            counters,
            throttling.Pacer(None),
            engine.adopt_body,
        )
        still = skipped = 0
        for number, recorded in enumerate(cassette.failures, 1):
            request = _retarget(recorded.request, cassette.base_url, target)
            if request.method not in SAFE_METHODS and not allow_unsafe_methods:  # as check and fuzz: read-only
                skipped += 1
                print(f"[{number}] {request.method} {_short(redact(request.url, key))} skipped (not GET/HEAD/OPTIONS; "
                      "--allow-unsafe-methods sends it)")  # fmt: skip
                continue
            failing, outcome = _replay_one(replayed, request, recorded.checks, key, session, timeout)
            still += bool(failing)
            verdict = f"still fails: {', '.join(failing)}" if failing else "passes now"
            recorded_as = f"{recorded.status or 'no answer'}, {', '.join(recorded.checks)}"
            print(redact(f"[{number}] {request.method} {_short(request.url)} (recorded: {recorded_as})\n"
                         f"    now: {outcome} -> {verdict}", key))  # fmt: skip
    except ReplayError as exc:
        print(f"mockserver replay: error: {redact(str(exc), key)}", file=sys.stderr)
        return 2
    total = len(cassette.failures) - skipped
    more = f", {skipped} skipped as unsafe" if skipped else ""
    print(f"mockserver replay: {still} of {count(total, 'failing request')} still fail against {target}{more}; "
          f"{count(counters.sent, 'request')} sent")  # fmt: skip
    return 1 if still else 0


def _retarget(request: Request, recorded_base: str, target: str) -> Request:
    url = request.url
    if url.startswith(recorded_base.rstrip("/")):
        url = target.rstrip("/") + url[len(recorded_base.rstrip("/")) :]
    # A recorded "/a/.." was sent as such; written plainly, the HTTP client would fold it into "/" and send another
    parts = urlsplit(url)
    path = "/".join({".": "%2E", "..": "%2E%2E"}.get(segment, segment) for segment in parts.path.split("/"))
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
    return Request(request.method, url, request.headers, request.body)


def _replay_one(target: engine.Target, request: Request, checks: list[str], key: str | None, session: Any,
                timeout: float) -> tuple[list[str], str]:  # fmt: skip
    """The checks that still fail, and what came back: each check is judged as its `rules.CATALOGUE` entry says,
    one request per way of sending it again."""
    import requests

    by_send: dict[str, list[str]] = {}
    for name in checks:
        by_send.setdefault(SENDS[CATALOGUE[name].replay], []).append(name)
    failing: list[str] = []
    outcome = ""
    for way, names in sorted(by_send.items(), key=lambda item: item[0] != "as recorded"):
        sent = without_credentials(request) if way == "without credentials" else request
        try:
            response = session.request(
                sent.method, fill(sent.url, key), headers={k: fill(v, key) for k, v in sent.headers.items()},
                data=fill(sent.body.decode("utf-8", "replace"), key).encode() if sent.body else None,
                timeout=timeout, allow_redirects=False,
            )  # fmt: skip
        except throttling.RateLimited as exc:
            outcome = f"no answer but 'later' ({one_line(exc)})"
            continue
        except requests.RequestException as exc:
            outcome = f"transport error: {throttling.why_unreachable(exc)}"
            failing += [n for n in names if CATALOGUE[n].replay == TRANSPORT]
            continue
        outcome = f"{response.status_code} {response.headers.get('content-type', '(no content type)')}"
        for kind in dict.fromkeys(CATALOGUE[n].replay for n in names):
            failing += REPLAYS[kind](target, sent, [n for n in names if CATALOGUE[n].replay == kind], response)
    return failing, outcome


def _recheck(target: engine.Target, sent: Request, names: list[str], response: Any) -> list[str]:
    return engine.recheck(target, sent, names, response)


def _without_credentials(target: engine.Target, sent: Request, names: list[str], response: Any) -> list[str]:
    return names if 200 <= response.status_code < 300 else []  # data without credentials: still ignored


def _transport(target: engine.Target, sent: Request, names: list[str], response: Any) -> list[str]:
    return []  # an answer came: no transport failure


# How a check is judged again (`rules.Check.replay`), and which request it needs: a new kind is one entry in each
REPLAYS: dict[str, Callable[[engine.Target, Request, list[str], Any], list[str]]] = {
    RECHECK: _recheck, WITHOUT_CREDENTIALS: _without_credentials, TRANSPORT: _transport,
}  # fmt: skip
SENDS = {RECHECK: "as recorded", TRANSPORT: "as recorded", WITHOUT_CREDENTIALS: "without credentials"}


def unknown_checks(cassette: Cassette) -> list[str]:
    """Checks a cassette names that replay cannot judge (a newer or another tool's cassette): an error, never a pass."""
    names = {name for recorded in cassette.failures for name in recorded.checks}
    return sorted(name for name in names if name not in CATALOGUE or CATALOGUE[name].replay not in REPLAYS)


def _short(url: str) -> str:
    return url if len(url) <= 120 else f"{url[:100]}…[{len(url) - 100} more characters]"
