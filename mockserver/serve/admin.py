"""The admin endpoints under the admin prefix (default `/__mock`): health and the request journal.

Rules: framework-free (a method, a sub-path and the query in, an `Answer` out, or None when the path is not an
admin route, which the mock then answers); never faulted, delayed or journaled; nothing here reveals a credential
(the journal is redacted when it is written).
"""

from __future__ import annotations

from . import problems
from .answers import Answer, problem_answer
from .encoding import dumps
from .journal import Journal
from .mock import Mock


class Admin:
    def __init__(self, mock: Mock, journal: Journal) -> None:
        self.mock = mock
        self.journal = journal
        self.routes = {"/health": ("GET", self.health), "/requests": ("GET, DELETE", self.requests)}

    def handle(self, method: str, path: str, query: dict[str, list[str]]) -> Answer | None:
        route = self.routes.get(path)
        if route is None:
            return None
        allowed, handler = route
        if method not in allowed.split(", ") and not (method == "HEAD" and "GET" in allowed):
            return problem_answer(problems.NO_METHOD, headers=(("Allow", allowed),), allowed=allowed.split(", "))
        return handler(method, query)

    def health(self, method: str, query: dict[str, list[str]]) -> Answer:
        spec = self.mock.spec
        body = {
            "status": "ok",
            "spec": spec.source.rsplit("/", 1)[-1],
            "operations": len(spec.operations),
            "fixtures": sum(len(index.by_name) for index in self.mock.fixtures.values()),
            "warnings": self.mock.warnings[:50],
        }
        return Answer(200, dumps(body), "admin")

    def requests(self, method: str, query: dict[str, list[str]]) -> Answer:
        if method == "DELETE":
            self.journal.entries.clear()
            return Answer(204, b"", "admin", None)
        limit = (query.get("limit") or [""])[-1]
        return Answer(200, dumps(self.journal.snapshot(int(limit) if limit.isdigit() else None)), "admin")
