"""Our rules on top of the checker's checks, without a server: which failures are never held against a server,
where boundary strings go, and the hooks a plan turns on."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest

from mockserver.check import engine, rules
from mockserver.check.findings import Report
from mockserver.check.plan import Plan
from mockserver.contract import security

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "rules", "version": "1"},
    "paths": {
        "/things/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "short", "in": "query", "schema": {"type": "string", "maxLength": 3}},
                    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["a", "b"]}},
                    {"name": "n", "in": "query", "schema": {"type": "integer"}},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                    {"name": "X-Key", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "theme", "in": "cookie", "schema": {"type": "string"}},
                ],
                "security": [{"key": []}],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}},
}
SCHEMES = list(security.parse_schemes(DOCUMENT, "api.yaml").values())


@pytest.fixture(scope="module")
def operation() -> Any:
    schema = engine.load(DOCUMENT, engine.configure({"base-url": "http://127.0.0.1:9"}), {})
    (found,) = list(engine.operations(schema))
    return found


def make_rules(key: str | None = "k-123") -> rules.Rules:
    return rules.Rules(Report("http://127.0.0.1:9"), key, SCHEMES)


def undefined(status: int) -> Any:
    from schemathesis.openapi.checks import UndefinedStatusCode

    return UndefinedStatusCode(operation="GET /things/{id}", status_code=status, defined_status_codes=["200"],
                               allowed_status_codes=[200], message=f"Received: {status}")  # fmt: skip


def response(status: int, headers: dict[str, str] | None = None) -> Any:
    return SimpleNamespace(status_code=status, request=SimpleNamespace(headers=headers or {}, url="http://h/x"))


CASE = SimpleNamespace(operation=SimpleNamespace(label="GET /things/{id}"))


def test_a_429_is_never_a_finding():
    assert make_rules().keep_failure(None, undefined(429), CASE, response(429)) is False


def test_an_undocumented_401_to_a_request_without_the_key_is_a_contract_warning():
    found = make_rules()
    assert found.keep_failure(None, undefined(401), CASE, response(401, {"X-Key": "other"})) is False
    assert found.keep_failure(None, undefined(403), CASE, response(403)) is False
    assert found.report.warnings == [rules.undocumented_rejection("GET /things/{id}", 401),
                                     rules.undocumented_rejection("GET /things/{id}", 403)]  # fmt: skip
    assert "documents no 401 response" in found.report.warnings[0]


def test_a_401_to_a_request_that_carried_the_key_is_held_against_the_server():
    found = make_rules()
    assert found.keep_failure(None, undefined(401), CASE, response(401, {"x-key": "k-123"})) is True
    assert found.report.warnings == []


def test_other_failures_are_kept():
    found = make_rules()
    assert found.keep_failure(None, undefined(500), CASE, response(500)) is True
    assert found.keep_failure(None, object(), CASE, response(401)) is True  # not an undocumented status


def test_without_a_key_every_request_lacks_credentials():
    assert make_rules(None).lacks_credentials(SimpleNamespace(headers={"X-Key": "anything"}, url=""))


def test_hooks_follow_the_plan():
    found = make_rules()
    assert set(found.hooks(Plan("http://h"))) == {"filter_failure", "before_add_examples"}
    assert set(found.hooks(Plan("http://h", boundary_values=False))) == {"filter_failure"}
    assert found.probes() == [found.probe_auth]


def test_boundary_strings_go_only_where_a_string_sets_no_bound_and_never_into_a_credential(operation):
    plain = make_rules().plain_string_parameters(operation)
    assert sorted(plain) == [("header", "X-Trace"), ("path", "id"), ("query", "q")]


def test_boundary_cases_are_added_per_plain_parameter(operation):
    examples: list[Any] = []
    make_rules().add_boundary_cases(SimpleNamespace(operation=operation), examples)
    found: dict[tuple[str, str], list[str]] = {}
    for case in examples:
        base = {"id": examples[-1].path_parameters["id"]}  # the last case changes only the query
        if case.path_parameters != base:
            found.setdefault(("path", "id"), []).append(case.path_parameters["id"])
        for location, values in (("query", case.query or {}), ("header", case.headers or {})):
            for name in ("q", "X-Trace"):
                if name in values:
                    found.setdefault((location, name), []).append(values[name])
    assert found == {
        ("path", "id"): [quote(v, safe="") for v in (rules.LONG, rules.NON_ASCII, rules.PATH_RESERVED)],
        ("query", "q"): ["", rules.LONG, rules.NON_ASCII, rules.QUERY_RESERVED],
        ("header", "X-Trace"): ["", rules.LONG],  # headers carry ASCII only
    }
    assert len({(c.headers or {}).get("X-Key") for c in examples}) == 1  # the credential is copied, never varied


def test_no_operation_no_cases():
    examples: list[Any] = []
    make_rules().add_boundary_cases(SimpleNamespace(operation=None), examples)
    assert examples == []
