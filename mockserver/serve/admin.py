"""The admin endpoints under the admin prefix (default `/__mock`): the dashboard, an index, health, the request
journal, runtime overrides, reset, and views of operations, fixtures and state.

Rules: framework-free (a method, a sub-path, the query, the body and the headers in, an `Answer` out, or None when
the path is not an admin route, which the mock then answers); JSON in and out, mistakes answered 400 with the
member at fault; never faulted, delayed, rate-limited or journaled; nothing here reveals a credential (the journal is
redacted when it is written, fixtures and items are the contract's data).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

import orjson

from ..contract.mount import title
from .data.encoding import dumps
from .events import FaultError, check_fault, is_fault
from .journal import Journal
from .pipeline import problems
from .pipeline.answer import Answer, problem_answer
from .pipeline.core import Mock
from .pipeline.overrides import MAX_OVERRIDES, Judge, OverrideError, check
from .store import StateError

Handler = Callable[[str, str, dict[str, list[str]], bytes], Answer]
HTML = "text/html; charset=utf-8"


def _dashboard() -> str:
    return resources.files(__package__).joinpath("dashboard.html").read_text(encoding="utf-8")


class Admin:
    def __init__(self, mock: Mock, journal: Journal, prefix: str = "/__mock") -> None:
        self.mock = mock
        self.journal = journal
        self.prefix = prefix
        self._page: bytes | None = None  # read on first use: start-up does not pay for it
        # sub-path -> (allowed methods, handler); "/overrides/" also takes an id after it
        self.routes: dict[str, tuple[str, Handler]] = {
            "": ("GET", self.index),
            "/": ("GET", self.index),
            "/health": ("GET", self.health),
            "/requests": ("GET, DELETE", self.requests),
            "/overrides": ("GET, POST, DELETE", self.overrides),
            "/overrides/": ("GET, DELETE", self.override),
            "/overrides/check": ("POST", self.check_override),
            "/reset": ("POST", self.reset),
            "/operations": ("GET", self.operations),
            "/fixtures": ("GET", self.fixture),
            "/state": ("GET", self.state),
        }

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes = b"",
               headers: dict[str, str] | None = None) -> Answer | None:  # fmt: skip
        route_key, rest = path, ""
        if path.startswith("/overrides/") and len(path) > len("/overrides/") and path not in self.routes:
            route_key, rest = "/overrides/", path[len("/overrides/") :]
        route = self.routes.get(route_key)
        if route is None:
            return None
        allowed, handler = route
        if method not in allowed.split(", ") and not (method == "HEAD" and "GET" in allowed):
            return problem_answer(problems.NO_METHOD, headers=(("Allow", allowed),), allowed=allowed.split(", "))
        if handler == self.index and "text/html" in (headers or {}).get("accept", ""):
            if self._page is None:
                self._page = _dashboard().replace("__MOCK_PREFIX__", orjson.dumps(self.prefix).decode()).encode()
            return Answer(200, self._page, "admin", HTML, (("Cache-Control", "no-store"),))
        try:
            return handler(method, rest, query, body)
        except StateError as exc:
            return problem_answer(problems.STATE_DOWN, str(exc))

    # --- views --------------------------------------------------------------------------------------------------

    def index(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        p = self.prefix
        spec = self.mock.spec
        return _json(200, {
            "mockserver": "admin",
            "spec": title(spec),
            "dashboard": f"{p}/ (send Accept: text/html, as a browser does)",
            "endpoints": {
                f"GET {p}/health": "status, operation and fixture counts, warnings",
                f"GET {p}/operations": "operations with their fixtures, sequences and collections",
                f"GET {p}/fixtures?operation=OP&name=NAME": "one fixture as loaded",
                f"GET|DELETE {p}/requests?limit=N&method=&path=&operation=&status=&source=": "the request journal "
                "(newest last; {count, requests}) / clear it (the matching entries only, with filters)",
                f"POST {p}/overrides/check": "check an override against the contract without adding it",
                f"GET|POST|DELETE {p}/overrides": "runtime overrides: list / add / remove all "
                "({operation, params, prefer | response: {status, headers, body}, fault: reset|close|stall, times, "
                "allow_undocumented}; a socket.io stream fault: {stream, fault, params, after, message, times})",
                f"GET|DELETE {p}/overrides/ID": "one override / remove it",
                f"POST {p}/reset": "forget items, overrides, sequence positions and the journal",
                f"GET {p}/state": "the --stateful collections and their items",
            },
            "stateful": self.mock.stateful is not None,
            "shared_state": self.mock.store.shared,
        })  # fmt: skip

    def health(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        spec = self.mock.spec
        return _json(200, {
            "status": "ok",
            "spec": title(spec),
            "operations": len(spec.operations),
            "fixtures": sum(len(index.by_name) for index in self.mock.fixtures.values()),
            "warnings": self.mock.warnings[:50],
        })  # fmt: skip

    def requests(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        try:
            wanted = Query.of(query)
        except ValueError as exc:
            return problem_answer(problems.BAD_ADMIN, str(exc), field=str(exc).split(":", 1)[0])
        if method == "DELETE":
            if wanted.empty:
                self.journal.clear()
            else:
                self.journal.forget(wanted.matches)
            return Answer(204, b"", "admin", None)
        limit = (query.get("limit") or [""])[-1]
        return _json(200, self.journal.snapshot(int(limit) if limit.isdigit() else None, wanted.matches))

    def operations(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        mock = self.mock
        roles = {
            k: role for c in (mock.stateful.collections if mock.stateful else []) for k, role in c.operations.items()
        }
        found = []
        for op in mock.spec.operations:
            index = mock.fixtures.get(op.key)
            fixtures = []
            for fixture in index.by_name.values() if index else []:
                fixtures.append({
                    "name": fixture.name, "status": fixture.status, "match": {"path": fixture.path,
                    "query": fixture.query, "headers": fixture.headers}, "when": fixture.when,
                    "steps": [s.status for s in fixture.steps] if fixture.sequence else None,
                    "then": fixture.then if fixture.sequence else None,
                })  # fmt: skip
            found.append({
                "operation": op.key, "operationId": op.operation_id, "method": op.method,
                "path": mock.spec.prefix + op.path, "statuses": list(op.responses),
                "params": [{"name": p.name, "in": p.location, "required": p.required} for p in op.parameters
                           if p.location in ("path", "query")],
                "fixtures": fixtures, "state": roles.get(op.key),
            })  # fmt: skip
        return _json(200, {"operations": found})

    def fixture(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        wanted_op = (query.get("operation") or [""])[-1]
        name = (query.get("name") or [""])[-1]
        for key, index in self.mock.fixtures.items():
            if wanted_op and key != wanted_op:
                continue
            fixture = index.by_name.get(name)
            if fixture is not None:
                return _json(200, {
                    "operation": key, "name": fixture.name, "file": fixture.file.rsplit("/", 1)[-1],
                    "when": fixture.when, "match": {"path": fixture.path, "query": fixture.query,
                    "headers": fixture.headers}, "then": fixture.then if fixture.sequence else None,
                    "responses": [{"status": s.status, "headers": s.response_headers, "delay_ms": s.delay_ms,
                                   "body": s.body} for s in fixture.steps],
                })  # fmt: skip
        return problem_answer(problems.ADMIN_NOT_FOUND, f"no fixture named {name[:200]!r}")

    def state(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        stateful = self.mock.stateful
        if stateful is None:
            return _json(200, {"stateful": False, "collections": []})
        collections = [
            {**info, "items": [stateful.view(c, item) for item in self.mock.store.items(c.name)]}
            for c, info in zip(stateful.collections, stateful.describe(), strict=True)
        ]
        return _json(200, {"stateful": True, "shared": self.mock.store.shared, "collections": collections})

    # --- changes ------------------------------------------------------------------------------------------------

    def overrides(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        store = self.mock.store
        if method == "DELETE":
            return _json(200, {"removed": store.remove_overrides(None)})
        if method == "GET":
            return _json(200, {"overrides": store.overrides()[1]})
        try:
            data = orjson.loads(body) if body else None
        except orjson.JSONDecodeError as exc:
            return problem_answer(problems.BAD_ADMIN, f"the body is not JSON: {exc}")
        try:
            if is_fault(data):  # a socket.io stream fault (serve/events/faults.py)
                item = check_fault(data, self.mock.streams)
            else:
                item = check(data, self.mock.spec, self.mock.config.max_delay_ms, Judge(self.mock))
        except (OverrideError, FaultError) as exc:
            return problem_answer(problems.BAD_ADMIN, str(exc), field=exc.field)
        if len(store.overrides()[1]) >= MAX_OVERRIDES:
            return problem_answer(problems.BAD_ADMIN, f"at most {MAX_OVERRIDES} overrides; remove some first")
        added = store.add_override(item)
        return Answer(201, dumps(added), "admin", headers=(("Location", f"{self.prefix}/overrides/{added['id']}"),))

    def check_override(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        """What adding this override would say, without adding it (the dashboard's editor asks as you type)."""
        try:
            data = orjson.loads(body) if body else None
        except orjson.JSONDecodeError as exc:
            return _json(200, {"ok": False, "field": "(body)", "reason": f"the body is not JSON: {exc}"})
        try:
            if is_fault(data):
                item = check_fault(data, self.mock.streams)
            else:
                item = check(data, self.mock.spec, self.mock.config.max_delay_ms, Judge(self.mock))
        except (OverrideError, FaultError) as exc:
            return _json(200, {"ok": False, "field": exc.field, "reason": exc.reason, "detail": str(exc)})
        return _json(200, {"ok": True, "override": item})

    def override(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        store = self.mock.store
        if method == "DELETE":
            if store.remove_overrides(rest):
                return Answer(204, b"", "admin", None)
        else:
            found = next((o for o in store.overrides()[1] if str(o.get("id")) == rest), None)
            if found is not None:
                return _json(200, found)
        return problem_answer(problems.ADMIN_NOT_FOUND, f"no override {rest[:100]!r}")

    def reset(self, method: str, rest: str, query: dict[str, list[str]], body: bytes) -> Answer:
        self.mock.reset()
        return _json(200, {"reset": ["state", "overrides", "sequences", "journal"]})


class Query:
    """A journal query (`?method=&path=&operation=&status=&source=`): each given filter must hold. `path` is the
    path as sent (a trailing `*`: any path starting so), `status` a status or a class (`4xx`)."""

    FILTERS = ("method", "path", "operation", "status", "source")

    def __init__(self, wanted: dict[str, str]) -> None:
        self.wanted = wanted
        self.empty = not wanted

    @classmethod
    def of(cls, query: dict[str, list[str]]) -> Query:
        wanted = {name: query[name][-1][:2048] for name in cls.FILTERS if query.get(name) and query[name][-1]}
        status = wanted.get("status")
        if status is not None and not (status.isdigit() and len(status) == 3 or len(status) == 3
                                       and status[0] in "12345" and status[1:].lower() == "xx"):  # fmt: skip
            raise ValueError(f"status: a status (404) or a class (4xx), not {status[:40]!r}")
        if "method" in wanted:
            wanted["method"] = wanted["method"].upper()
        return cls(wanted)

    def matches(self, entry: dict[str, Any]) -> bool:
        for name, value in self.wanted.items():
            if name == "status":
                status = str(entry.get("status"))
                if not (status == value or value[1:].lower() == "xx" and status[0] == value[0]):
                    return False
            elif name == "path" and value.endswith("*"):
                if not str(entry.get("path", "")).startswith(value[:-1]):
                    return False
            elif str(entry.get(name) or "") != value:
                return False
        return True


def _json(status: int, body: Any) -> Answer:
    return Answer(status, dumps(body), "admin")
