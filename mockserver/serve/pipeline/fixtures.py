"""Fixture files: loaded, validated against the contract and indexed once, at start-up.

Rules: only regular files under the fixtures folder are read, and only at start-up; a file or link that resolves
outside the folder is an error, so no request can ever make the server read anything. Every mistake raises
`DocumentError` with the file, the JSON pointer and the reason. Bodies are serialized once here (a string body of a
non-JSON content type as itself). A sequence (`responses:` instead of `response:`) is a list of steps served in
turn; where a request stands in it is state (serve/store.py), never kept here. A fixture names an operation, or, for
behaviour the contract does not describe (a redirect on a trailing slash, a framework's 404/405), matches a method
and raw path that no operation matches: an "edge" fixture, indexed under `EDGES` (one for HEAD on a GET path that
refuses the method answers HEAD on every path of that operation: `refuses_head`). A fixture marked `flagged`
(written by the recorder from an upstream answer that breaks the contract) is served as recorded: its mismatches are
warnings, not errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...contract import documents
from ...contract.documents import DocumentError, escape
from ...contract.routing import FULL, Router
from ...contract.spec import Operation, Spec
from ..data.encoding import dumps, encode
from ..events.template import TemplateError, compile_value
from . import effects
from .fixture import (
    EDGE_KEYS,
    EDGES,
    JSON,
    MAX_STEPS,
    METHODS,
    NOT_FOUND,
    REPEAT_LAST,
    THEN,
    Fixture,
    FixtureIndex,
    Step,
    raw_key,
)  # fmt: skip
from .validation import check_body

SUFFIXES = documents.SUFFIXES
_TOP_KEYS = {"operation", "name", "match", "when", "response", "responses", "then", "flagged", "auth", "state"}
WHENS = ("request", "unauthorized", "named")  # named: served only when asked for by name (Prefer: example=)
BODY_ROOTS = ("path", "query")  # what a response body's {{...}} may name, besides now
_RESPONSE_KEYS = {"status", "headers", "body", "delay_ms"}


fixture_files = documents.folder_files  # the YAML/JSON files of a fixtures folder, none outside it


def load_fixtures(folders: str | list[str] | None, spec: Spec) -> dict[str, FixtureIndex]:
    """The fixtures of one folder or several (in the order given; two fixtures of one name and operation are an
    error naming both files)."""
    indexes: dict[str, FixtureIndex] = {}
    if folders is None:
        return indexes
    router: list[Router] = []  # built on the first edge fixture
    for path in [p for folder in ([folders] if isinstance(folders, str) else folders) for p in fixture_files(folder)]:
        data = documents.load(str(path))
        for i, item in enumerate(data if isinstance(data, list) else [data]):
            if isinstance(item, dict) and ("stream" in item or set(item) == {"cors"}):
                continue  # an event-stream fixture (serve/events/ loads it) or a recorded CORS policy (serve/cors.py)
            base = f"/{i}" if isinstance(data, list) else ""
            default_name = path.stem if not isinstance(data, list) else f"{path.stem}-{i}"
            if _is_edge(item):
                if not router:
                    router.append(Router(spec.operations, spec.prefix))
                fixture = _parse_edge(item, str(path), base, router[0], default_name)
                index = indexes.setdefault(EDGES, FixtureIndex(path_names=EDGE_KEYS))
            else:
                fixture = _parse(item, str(path), base, spec, default_name=default_name)
                assert fixture.operation is not None
                index = indexes.setdefault(fixture.operation.key, FixtureIndex())
                index.path_names = tuple(p.name for p in fixture.operation.parameters if p.location == "path")
            _add(index, fixture)
    return indexes


def parse_fixture(item: Any, file: str, spec: Spec, router: Router | None = None) -> Fixture:
    """One fixture as `load_fixtures` reads it (the recorder's check before it writes a file)."""
    if _is_edge(item):
        return _parse_edge(item, file, "", router or Router(spec.operations, spec.prefix), Path(file).stem)
    return _parse(item, file, "", spec, default_name=Path(file).stem)


def fixture_warnings(indexes: dict[str, FixtureIndex], limit: int = 3) -> list[str]:
    """One warning per flagged fixture: served as recorded, though the contract disagrees."""
    found = []
    for index in indexes.values():
        for fixture in index.by_name.values():
            if fixture.flagged:
                more = f" (+{len(fixture.flagged) - limit} more)" if len(fixture.flagged) > limit else ""
                found.append(f"{fixture.file}: flagged fixture {fixture.name!r} served as recorded: "
                             + "; ".join(fixture.flagged[:limit]) + more)  # fmt: skip
    return found


def _add(index: FixtureIndex, fixture: Fixture) -> None:
    if fixture.name in index.by_name:
        other = index.by_name[fixture.name]
        raise DocumentError(fixture.file, "/name", f"fixture name {fixture.name!r} is already used by {other.file}")
    index.by_name[fixture.name] = fixture
    index.add(fixture)


def _mapping(value: Any, file: str, where: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DocumentError(file, where, f"{what} must be a mapping")
    return value


def _strings(value: Any, file: str, where: str) -> dict[str, str]:
    out = {}
    for key, item in _mapping(value, file, where, "this").items():
        if isinstance(item, (dict, list)) or item is None:
            raise DocumentError(file, f"{where}/{escape(str(key))}", "must be a string, number or boolean")
        out[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
    return out


def _parse(item: Any, file: str, base: str, spec: Spec, default_name: str) -> Fixture:
    item = _mapping(item, file, base or "/", "a fixture")
    unknown = set(item) - _TOP_KEYS
    if unknown:
        raise DocumentError(
            file, f"{base}/{escape(sorted(unknown)[0])}", f"unknown key; expected one of {sorted(_TOP_KEYS)}"
        )
    name_of_op = item.get("operation")
    if not isinstance(name_of_op, str):
        raise DocumentError(file, f"{base}/operation", "required: 'METHOD /path' or an operationId")
    operation = spec.find(name_of_op)
    if operation is None:
        offered = ", ".join(op.key for op in spec.operations[:10])
        raise DocumentError(
            file, f"{base}/operation", f"no operation {name_of_op!r} in the contract (it has: {offered})"
        )
    when = item.get("when", "request")
    if when not in WHENS:
        raise DocumentError(file, f"{base}/when", f"must be one of {', '.join(WHENS)}")
    auth = item.get("auth", "")
    if auth not in ("", "none"):
        raise DocumentError(file, f"{base}/auth", "must be 'none' (served without credentials)")
    effect = effects.parse(item["state"], file, f"{base}/state") if "state" in item else None
    match = _mapping(item.get("match"), file, f"{base}/match", "match")
    for key in match:
        if key not in ("path", "query", "headers"):
            raise DocumentError(
                file, f"{base}/match/{escape(str(key))}", "unknown key; expected path, query or headers"
            )
    path = _strings(match.get("path"), file, f"{base}/match/path")
    declared = {p.name for p in operation.parameters if p.location == "path"}
    for key in path:
        if key not in declared:
            raise DocumentError(
                file, f"{base}/match/path/{escape(key)}", f"{operation.key} has no path parameter {key!r}"
            )
    if "response" in item and "responses" in item:
        raise DocumentError(
            file, f"{base}/responses", "give either 'response' (one answer) or 'responses' (a sequence)"
        )
    if "then" in item and "responses" not in item:
        raise DocumentError(file, f"{base}/then", "'then' belongs to a sequence: use 'responses:' with a list")
    flagged = _flagged(item, file, base)
    mismatches: list[str] = []  # collected, not raised, for a flagged fixture
    if "responses" in item:
        raw = item["responses"]
        if not isinstance(raw, list) or not raw or len(raw) > MAX_STEPS:
            raise DocumentError(file, f"{base}/responses", f"must be a list of 1 to {MAX_STEPS} responses")
        steps = tuple(_step(r, operation, when, spec, file, f"{base}/responses/{i}", flagged, mismatches)
                      for i, r in enumerate(raw))  # fmt: skip
    else:
        steps = (_step(item.get("response"), operation, when, spec, file, f"{base}/response", flagged, mismatches),)
    then = item.get("then", REPEAT_LAST)
    if then == 404:
        then = NOT_FOUND
    if then not in THEN:
        raise DocumentError(file, f"{base}/then", f"must be one of {', '.join(THEN)}, got {then!r}")
    if then == NOT_FOUND and operation.response_for(404) is None:
        raise DocumentError(
            file,
            f"{base}/then",
            f"{operation.key} documents no 404 (it has: {', '.join(operation.responses)}); "
            "use repeat-last or cycle, or end the sequence with the answer you want",
        )
    return Fixture(
        file=file,
        name=str(item.get("name", default_name)),
        operation=operation,
        when=when,
        path=path,
        query=_strings(match.get("query"), file, f"{base}/match/query"),
        headers={k.lower(): v for k, v in _strings(match.get("headers"), file, f"{base}/match/headers").items()},
        steps=steps,
        then=then,
        flagged=flagged + tuple(mismatches),
        auth=auth,
        effect=effect,
    )


def _step(raw: Any, operation: Operation | None, when: str, spec: Spec | None, file: str, where: str,
          flagged: tuple[str, ...] = (), mismatches: list[str] | None = None) -> Step:  # fmt: skip
    """One answer; its body checked against the operation's schema, unless it has none (an edge fixture)."""
    response = _mapping(raw, file, where, "response")
    unknown = set(response) - _RESPONSE_KEYS
    if unknown:
        raise DocumentError(
            file, f"{where}/{escape(sorted(unknown)[0])}", f"unknown key; expected one of {sorted(_RESPONSE_KEYS)}"
        )
    status = response.get("status", 401 if when == "unauthorized" else 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise DocumentError(file, f"{where}/status", f"must be an HTTP status code, got {status!r}")
    delay = response.get("delay_ms", 0)
    if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= 600_000:
        raise DocumentError(file, f"{where}/delay_ms", "must be an integer number of milliseconds (0..600000)")
    has_body = "body" in response
    body = response.get("body")
    try:
        if operation is not None and spec is not None:
            check_body(operation, status, has_body, body, when, spec, file, where)
    except DocumentError as exc:
        if not flagged or mismatches is None:
            raise
        mismatches.append(f"{exc.pointer}: {exc.reason}")
    headers = _strings(response.get("headers"), file, f"{where}/headers")
    media = next((v for k, v in headers.items() if k.lower() == "content-type"), JSON if has_body else None)
    others = tuple((k, v) for k, v in headers.items() if k.lower() != "content-type")
    template = None
    if has_body and operation is not None and b"{{" in dumps(body):  # dumps: integers past 64 bits too
        try:
            template = compile_value(body, f"{where}/body", BODY_ROOTS)
        except TemplateError as exc:
            raise DocumentError(file, exc.pointer, exc.reason) from None
    return Step(status, headers, delay, has_body, body, encode(body, media or JSON) if has_body else b"", media, others,
                template if template is not None and template.dynamic else None)  # fmt: skip


def _flagged(item: dict[str, Any], file: str, base: str) -> tuple[str, ...]:
    value = item.get("flagged")
    if value is None or value is False:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise DocumentError(file, f"{base}/flagged", "must be a non-empty list of strings (why the answer was flagged)")


# --- edge fixtures: a raw path no operation matches ---------------------------------------------------------------


def _is_edge(item: Any) -> bool:
    return isinstance(item, dict) and "operation" not in item and isinstance(item.get("match"), dict) \
        and "raw_path" in item["match"]  # fmt: skip


def _parse_edge(item: dict[str, Any], file: str, base: str, router: Router, default_name: str) -> Fixture:
    unknown = set(item) - {"name", "match", "response", "flagged"}
    if unknown:
        raise DocumentError(file, f"{base}/{escape(sorted(unknown)[0])}", "unknown key for a fixture matched on a "
                            "raw path; expected name, match, response, flagged")  # fmt: skip
    match = item["match"]
    for key in match:
        if key not in ("method", "raw_path", "query", "headers"):
            raise DocumentError(file, f"{base}/match/{escape(str(key))}", "unknown key; a raw-path fixture matches "
                                "method, raw_path, query and headers")  # fmt: skip
    method, raw_path = match.get("method", "GET"), match["raw_path"]
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise DocumentError(file, f"{base}/match/method", f"must be an HTTP method, got {method!r}")
    method = method.upper()
    if not isinstance(raw_path, str) or not raw_path.startswith("/") or len(raw_path) > 8192 \
            or raw_key(raw_path.encode("latin-1", "replace")) != raw_path:  # fmt: skip
        raise DocumentError(file, f"{base}/match/raw_path", "must be the path as sent: starting with '/', ASCII, "
                            "percent-encoded, no query")  # fmt: skip
    found = router.match(method, raw_path.encode())
    # HEAD on a GET path routes to GET's operation, but the server may answer HEAD its own way (a 405): recorded so
    if found.kind == FULL and found.operation is not None and found.operation.method == method:
        raise DocumentError(file, f"{base}/match/raw_path",
                            f"{method} {raw_path} is {found.operation.key} of the contract: write this fixture with "
                            "`operation:` and `match.path`")  # fmt: skip
    step = _step(item.get("response"), None, "request", None, file, f"{base}/response")  # no operation: no schema
    routed = found.operation if found.kind == FULL else None  # HEAD on a GET path: its refusal is the operation's
    refuses = routed.key if method == "HEAD" and routed is not None and refuses_head(routed, step.status) else ""
    return Fixture(
        file=file,
        name=str(item.get("name", default_name)),
        operation=None,
        when="request",
        path={"method": method, "raw_path": raw_path},
        query=_strings(match.get("query"), file, f"{base}/match/query"),
        headers={k.lower(): v for k, v in _strings(match.get("headers"), file, f"{base}/match/headers").items()},
        steps=(step,),
        flagged=_flagged(item, file, base),
        refuses=refuses,
    )


def refuses_head(operation: Operation, status: int) -> bool:
    """Whether an answer to HEAD on a path of `operation` (a GET: the contract documents no HEAD there) refuses the
    method rather than answers for that resource: a 405 or 501, or a 404 the operation does not document (a framework
    that routes no HEAD falls through to its 404). Such a refusal answers HEAD on every path of the operation."""
    return status in (405, 501) or status == 404 and operation.response_for(404) is None
