"""Readable data by whole-word names, and coherence between fields (serve/realism.py)."""

from __future__ import annotations

import random
import re

import pytest

from mockserver.serve.data import errors, realism


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sandbox_runtime_containerImage", ("sandbox", "runtime", "container", "image")),
        ("totalEntries", ("total", "entries")),
        ("X-RateLimit-Remaining", ("x", "rate", "limit", "remaining")),
        ("HTTPStatus2xx", ("http", "status", "2", "xx")),
    ],
)
def test_names_split_into_words(name, expected):
    assert realism.words(name) == expected


def _texts(name: str, context: str = "") -> set[str]:
    return {realism.text(name, context, random.Random(i)) for i in range(20)}


def test_words_inside_other_words_do_not_count():
    assert not any(t.startswith("http") for t in _texts("security_analyzer"))  # "uri" in "security"
    assert not any(re.match(r"\d{4}-", t) for t in _texts("runtime_version"))  # "time" in "runtime"
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", t) for t in _texts("runtime_version"))
    assert not any(t.startswith("https") for t in _texts("unlinked_count"))


def test_context_decides_what_a_name_is():
    assert all(re.fullmatch(r"[a-z]+-labs/[a-z]+-[a-z]+", t) for t in _texts("full_name", "Repository"))
    assert all(" " in t and t.istitle() for t in _texts("name", "User"))
    assert all(t.startswith("ghcr.io/") for t in _texts("sandbox_runtime_container_image"))
    assert all(t.startswith("https://") for t in _texts("avatar_url"))


def test_counts_follow_the_list_beside_them():
    body = {"dags": [1, 2, 3], "total_entries": 12, "page": 1}
    realism.coherent_counts(body, lambda _name, _n: True)
    assert body == {"dags": [1, 2, 3], "total_entries": 3, "page": 1}
    two = {"users": [1], "groups": [1, 2], "user_count": 9, "group_count": 9}
    realism.coherent_counts(two, lambda _name, _n: True)
    assert two["user_count"] == 1 and two["group_count"] == 2
    refused = {"items": [], "total": 5}
    realism.coherent_counts(refused, lambda _name, n: n >= 1)  # the schema would not take 0
    assert refused["total"] == 5


def test_timestamps_are_put_in_order_only_between_values_of_one_shape():
    body = {"created_at": "2026-01-02T00:00:00Z", "updated_at": "2025-01-02T00:00:00Z", "deleted_at": "2025-05-05"}
    realism.ordered_times(body)
    assert body["created_at"] < body["updated_at"] and body["deleted_at"] == "2025-05-05"


@pytest.mark.parametrize(
    "query, size",
    [({"limit": ["7"]}, 7), ({"per_page": ["3"]}, 3), ({"pageSize": ["2"]}, 2), ({"limit": ["5000"]}, 100),
     ({"offset": ["3"]}, None), ({"limit": ["x"]}, None)],
)  # fmt: skip
def test_limit_like_query_parameters(query, size):
    assert realism.page_size(query) == size


def test_header_values_are_visible_ascii_and_short():
    assert realism.valid_field_value('"abc"') and realism.valid_field_value("")
    assert not realism.valid_field_value(" padded") and not realism.valid_field_value("caf\u00e9")
    assert not realism.valid_field_value("x" * 201) and not realism.valid_field_value("a\r\nb")
    assert realism.field_value([1, "a", True]) == "1,a,true"


def test_error_bodies_are_filled_where_the_schema_lets_them():
    valid = lambda body: isinstance(body.get("code"), int) and body.get("kind") == "x"  # noqa: E731
    filled = errors.fill_error({"code": 7, "message": "junk", "kind": "x"}, 404, "No such thing", valid)
    assert filled == {"code": 404, "message": "No such thing", "kind": "x"}
