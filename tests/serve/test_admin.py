"""The admin routes without HTTP: `Admin.handle(method, sub-path, query)` -> an `Answer`, or None for a path that
is not an admin route (the mock answers it)."""

from __future__ import annotations

import json

import pytest

from mockserver.config import Config
from mockserver.serve.admin import Admin
from mockserver.serve.answers import Answer
from mockserver.serve.journal import Journal, Redactor
from mockserver.serve.mock import build_mock

MOCK = build_mock(Config(request_log=False))


@pytest.fixture
def admin() -> Admin:
    journal = Journal(3, Redactor(set(), None))
    for i in range(5):
        journal.record("GET", f"/x/{i}", [], [], 200, "generated", "GET /x/{id}", 0.1, [])
    return Admin(MOCK, journal)


def ask(admin: Admin, method: str, path: str, query: dict[str, list[str]] | None = None) -> Answer:
    answer = admin.handle(method, path, query or {})
    assert answer is not None
    return answer


def test_health_says_what_is_served(admin):
    answer = ask(admin, "GET", "/health")
    assert (answer.status, answer.source, answer.media) == (200, "admin", "application/json")
    health = json.loads(answer.body)
    assert health == {
        "status": "ok",
        "spec": "get-conversation.openapi.yaml",  # the file name, not the machine's path
        "operations": 1,
        "fixtures": sum(len(index.by_name) for index in MOCK.fixtures.values()),
        "warnings": [],
    }
    assert health["fixtures"] >= 40


def test_head_is_get(admin):
    assert ask(admin, "HEAD", "/health").status == 200


def test_the_journal_newest_last_and_limited(admin):
    data = json.loads(ask(admin, "GET", "/requests", {"limit": ["9", "2"]}).body)  # the last value counts
    assert (data["total"], data["capacity"]) == (5, 3)
    assert [entry["path"] for entry in data["requests"]] == ["/x/3", "/x/4"]
    assert len(json.loads(ask(admin, "GET", "/requests", {"limit": ["lots"]}).body)["requests"]) == 3
    assert json.loads(ask(admin, "GET", "/requests", {"limit": ["0"]}).body)["requests"] == []


def test_delete_clears_the_journal_but_not_the_count(admin):
    cleared = ask(admin, "DELETE", "/requests")
    assert (cleared.status, cleared.body, cleared.media) == (204, b"", None)
    data = json.loads(ask(admin, "GET", "/requests").body)
    assert (data["requests"], data["total"]) == ([], 5)


@pytest.mark.parametrize(("method", "path", "allow"), [("POST", "/health", "GET"), ("PUT", "/requests", "GET, DELETE"),
                                                       ("DELETE", "/health", "GET")])  # fmt: skip
def test_other_methods_are_405_with_allow(admin, method, path, allow):
    answer = ask(admin, method, path)
    assert answer.status == 405
    assert answer.headers == (("Allow", allow),)
    assert json.loads(answer.body)["allowed"] == allow.split(", ")


@pytest.mark.parametrize("path", ["", "/", "/nothing", "/health/", "/requests/1", "/HEALTH"])
def test_anything_else_is_not_an_admin_route(admin, path):
    assert admin.handle("GET", path, {}) is None
