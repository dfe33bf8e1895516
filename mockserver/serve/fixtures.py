"""Fixture files: loaded, validated against the contract and indexed once, at start-up.

Rules: only regular files under the fixtures folder are read, and only at start-up; a file or link that resolves
outside the folder is an error, so no request can ever make the server read anything. Every mistake raises
`DocumentError` with the file, the JSON pointer and the reason. Bodies are serialized once here. A sequence
(`responses:` instead of `response:`) is a list of steps served in turn; where a request stands in it is state
(serve/state.py), never kept here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import documents
from ..contract.documents import DocumentError, escape
from ..contract.spec import Operation, Spec
from .encoding import dumps
from .validation import compile_schema, deepest

SUFFIXES = (".yaml", ".yml", ".json")
_TOP_KEYS = {"operation", "name", "match", "when", "response", "responses", "then"}
_RESPONSE_KEYS = {"status", "headers", "body", "delay_ms"}
REPEAT_LAST, CYCLE, NOT_FOUND = "repeat-last", "cycle", "404"  # what a sequence does after its last step
THEN = (REPEAT_LAST, CYCLE, NOT_FOUND)
MAX_STEPS = 100


@dataclass(frozen=True)
class Step:
    """One answer of a fixture."""

    status: int
    response_headers: dict[str, str]
    delay_ms: int
    has_body: bool
    body: Any
    body_bytes: bytes


@dataclass
class Fixture:
    file: str
    name: str
    operation: Operation
    when: str  # request | unauthorized
    path: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    status: int
    response_headers: dict[str, str]
    delay_ms: int
    has_body: bool
    body: Any
    body_bytes: bytes
    steps: tuple[Step, ...] = ()  # more than one: a sequence, served in turn per request identity
    then: str = REPEAT_LAST
    sequence: bool = field(init=False)  # read on every request a fixture answers: computed once

    def __post_init__(self) -> None:
        self.sequence = len(self.steps) > 1

    def position(self, served: int) -> int | None:
        """The step for the request that finds `served` earlier ones; None past the end of a `then: 404` sequence."""
        count = len(self.steps)
        if served < count:
            return served
        if self.then == CYCLE:
            return served % count
        return None if self.then == NOT_FOUND else count - 1

    def matches(self, path: dict[str, str], query: dict[str, list[str]], headers: dict[str, str]) -> bool:
        if not (self.query or self.headers) and len(self.path) == len(path) and self.path == path:
            return True  # the common fixture: an id, nothing else
        return (
            all(path.get(k) == v for k, v in self.path.items())
            and all(v in query.get(k, ()) for k, v in self.query.items())
            and all(headers.get(k) == v for k, v in self.headers.items())
        )


@dataclass
class FixtureIndex:
    """Fixtures of one operation: exact path-parameter matches by dict lookup, the rest scanned in file order."""

    by_path: dict[tuple[str, ...], list[Fixture]] = field(default_factory=dict)
    others: list[Fixture] = field(default_factory=list)
    by_name: dict[str, Fixture] = field(default_factory=dict)
    unauthorized: Fixture | None = None
    path_names: tuple[str, ...] = ()

    def find(self, path: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
             skip: frozenset[str] = frozenset()) -> Fixture | None:  # fmt: skip
        """The first fixture matching the request, in file order; `skip` names fixtures to pass over."""
        key = tuple(path.get(n, "") for n in self.path_names)
        for fixture in self.by_path.get(key, ()):
            if fixture.matches(path, query, headers) and fixture.name not in skip:
                return fixture
        for fixture in self.others:
            if fixture.matches(path, query, headers) and fixture.name not in skip:
                return fixture
        return None


def fixture_files(folder: str) -> list[Path]:
    root = Path(folder)
    if not root.is_dir():
        raise DocumentError(folder, "", "fixtures folder does not exist or is not a folder")
    root = root.resolve()
    found = []
    for current, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(current) / name
            if path.suffix.lower() not in SUFFIXES:
                continue
            real = path.resolve()
            if not real.is_relative_to(root) or not real.is_file():
                raise DocumentError(
                    str(path), "", "resolves outside the fixtures folder (symlink?); refusing to read it"
                )
            found.append(path)
    return found


def load_fixtures(folder: str | None, spec: Spec) -> dict[str, FixtureIndex]:
    indexes: dict[str, FixtureIndex] = {}
    if folder is None:
        return indexes
    for path in fixture_files(folder):
        data = documents.load(str(path))
        for i, item in enumerate(data if isinstance(data, list) else [data]):
            base = f"/{i}" if isinstance(data, list) else ""
            fixture = _parse(
                item,
                str(path),
                base,
                spec,
                default_name=path.stem if not isinstance(data, list) else f"{path.stem}-{i}",
            )
            index = indexes.setdefault(fixture.operation.key, FixtureIndex())
            index.path_names = tuple(p.name for p in fixture.operation.parameters if p.location == "path")
            _add(index, fixture)
    return indexes


def _add(index: FixtureIndex, fixture: Fixture) -> None:
    if fixture.name in index.by_name:
        other = index.by_name[fixture.name]
        raise DocumentError(fixture.file, "/name", f"fixture name {fixture.name!r} is already used by {other.file}")
    index.by_name[fixture.name] = fixture
    if fixture.when == "unauthorized":
        index.unauthorized = fixture
    elif set(fixture.path) == set(index.path_names) and index.path_names:
        index.by_path.setdefault(tuple(fixture.path[n] for n in index.path_names), []).append(fixture)
    else:
        index.others.append(fixture)


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
    if when not in ("request", "unauthorized"):
        raise DocumentError(file, f"{base}/when", "must be 'request' or 'unauthorized'")
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
    if "responses" in item:
        raw = item["responses"]
        if not isinstance(raw, list) or not raw or len(raw) > MAX_STEPS:
            raise DocumentError(file, f"{base}/responses", f"must be a list of 1 to {MAX_STEPS} responses")
        steps = tuple(_step(r, operation, when, spec, file, f"{base}/responses/{i}") for i, r in enumerate(raw))
    else:
        steps = (_step(item.get("response"), operation, when, spec, file, f"{base}/response"),)
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
    first = steps[0]
    return Fixture(
        file=file,
        name=str(item.get("name", default_name)),
        operation=operation,
        when=when,
        path=path,
        query=_strings(match.get("query"), file, f"{base}/match/query"),
        headers={k.lower(): v for k, v in _strings(match.get("headers"), file, f"{base}/match/headers").items()},
        status=first.status,
        response_headers=first.response_headers,
        delay_ms=first.delay_ms,
        has_body=first.has_body,
        body=first.body,
        body_bytes=first.body_bytes,
        steps=steps,
        then=then,
    )


def _step(raw: Any, operation: Operation, when: str, spec: Spec, file: str, where: str) -> Step:
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
    _check_body(operation, status, has_body, body, when, spec, file, where)
    return Step(
        status, _strings(response.get("headers"), file, f"{where}/headers"), delay, has_body, body,
        dumps(body) if has_body else b"",
    )  # fmt: skip


def _check_body(
    operation: Operation, status: int, has_body: bool, body: Any, when: str, spec: Spec, file: str, where: str
) -> None:
    response = operation.response_for(status)
    if response is None:
        if when == "unauthorized":
            return  # a 401 the contract does not document: nothing to check the body against
        offered = ", ".join(operation.responses)
        raise DocumentError(
            file, f"{where}/status", f"{operation.key} does not document status {status} (it has: {offered})"
        )
    media = next((m for m in response.content.values() if m.schema is not None), None)
    if media is None or not has_body:
        return
    validator = compile_schema(media.schema, spec.schemas)
    for error in map(deepest, validator.iter_errors(body)):
        pointer = f"{where}/body" + "".join("/" + escape(str(p)) for p in error.instance_path)
        raise DocumentError(file, pointer, f"does not match the contract's {status} schema: {error.message}")
