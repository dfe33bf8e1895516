"""The journal without HTTP: redaction by name and by value, bounded memory (the log line: test_requestlog.py)."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.serve import journal as journal_module
from mockserver.serve.journal import REDACTED, Journal, Redactor

SECRET = "s3cret-Val/+="


def record(journal: Journal, **fields: Any) -> dict[str, Any]:
    call: dict[str, Any] = {
        "method": "GET", "path": "/x", "query": [], "headers": [], "status": 200, "source": "generated",
        "operation": "GET /x", "ms": 0.12345, "secrets": [], **fields,
    }  # fmt: skip
    journal.record(**call)
    return journal.entries[-1]


@pytest.mark.parametrize("name", ["X-Key", "x-key", "Authorization", "Cookie", "X-Api-Token", "session_id",
                                  "password", "X-Custom-Credential", "client-secret"])  # fmt: skip
def test_names_that_carry_credentials_are_secret(name):
    assert Redactor({"x-key", "authorization", "cookie"}, None).secret(name)


@pytest.mark.parametrize("name", ["Accept", "Origin", "X-Request-Id", "limit", "q"])
def test_other_names_are_not(name):
    assert not Redactor({"x-key"}, None).secret(name)


def test_secret_names_are_redacted_whatever_their_value():
    journal = Journal(5, Redactor({"x-key"}, None))
    entry = record(journal, headers=[("X-Key", "k"), ("Accept", "*/*")], query=[("api_token", "t"), ("q", "hi")])
    assert entry["headers"] == [["X-Key", REDACTED], ["Accept", "*/*"]]
    assert entry["query"] == [["api_token", REDACTED], ["q", "hi"]]


def test_a_credential_is_redacted_by_value_wherever_else_it_shows_up():
    journal = Journal(5, Redactor(set(), None))
    encoded = "s3cret-Val%2F+%3D"  # a mix: what a client escaped and what it did not
    entry = record(
        journal,
        path=f"/things/{SECRET}/and/{encoded}",
        query=[("q", f"echo {SECRET}"), (SECRET, "as a name")],
        headers=[("Referer", f"http://app.local/?k={encoded}"), ("X-Echo", SECRET.lower())],
        note=f"fixture for {SECRET}",
        secrets=[SECRET],
    )
    assert entry["path"] == f"/things/{REDACTED}/and/{REDACTED}"  # percent-encoded too
    assert entry["query"] == [["q", f"echo {REDACTED}"], [REDACTED, "as a name"]]
    assert entry["headers"][0] == ["Referer", f"http://app.local/?k={REDACTED}"]
    assert entry["headers"][1] == ["X-Echo", SECRET.lower()]  # another value: left alone
    assert entry["note"] == f"fixture for {REDACTED}"
    assert SECRET not in str(entry)


def test_the_configured_key_is_searched_for_even_when_the_request_carried_none():
    entry = record(Journal(5, Redactor(set(), "configured-key")), path="/x/configured-key", secrets=[])
    assert entry["path"] == f"/x/{REDACTED}"


def test_short_values_are_redacted_by_name_only():
    # "k" as a value would otherwise eat every "k" in the journal
    entry = record(Journal(5, Redactor({"x-key"}, "abc")), path="/kick/abc", headers=[("X-Key", "k")], secrets=["k"])
    assert entry["path"] == "/kick/abc" and entry["headers"] == [["X-Key", REDACTED]]


def test_the_journal_keeps_the_newest_entries_and_counts_all():
    journal = Journal(3, Redactor(set(), None))
    for i in range(10):
        record(journal, path=f"/x/{i}")
    snapshot = journal.snapshot()
    assert (snapshot["total"], snapshot["capacity"]) == (10, 3)
    assert [e["path"] for e in snapshot["requests"]] == ["/x/7", "/x/8", "/x/9"]
    assert [e["path"] for e in journal.snapshot(2)["requests"]] == ["/x/8", "/x/9"]
    assert journal.snapshot(0)["requests"] == [] and journal.snapshot(-1)["requests"] == []


def test_a_journal_of_size_zero_only_counts():
    journal = Journal(0, Redactor(set(), None))
    journal.record("GET", "/x", [], [], 200, "generated", "", 0.1, [])
    assert (journal.total, len(journal.entries)) == (1, 0)


def test_every_field_is_bounded_whatever_comes_in():
    journal = Journal(1, Redactor(set(), None))
    headers = [(f"X-H{i}", "v" * 10_000) for i in range(500)]
    entry = record(journal, method="M" * 100, path="/" + "p" * 50_000, headers=headers, note="n" * 5000)
    assert len(entry["method"]) == 32
    assert entry["path"] == "/" + "p" * 2047 + "…(+47953 chars)"
    assert len(entry["headers"]) == 100 and all(len(value) < 2100 for _, value in entry["headers"])
    assert len(entry["note"]) < 2100
    assert entry["ms"] == 0.123


def test_name_verdicts_are_cached_but_bounded():
    redactor = Redactor(set(), None)
    for i in range(10_050):
        redactor.secret(f"X-Header-{i}")
    assert len(redactor._verdicts) == 10_000


def test_min_secret_is_what_the_module_says():
    assert journal_module.MIN_SECRET == 4
    assert Redactor(set(), None).active(["abc", "abcd"]) == ["abcd"]
