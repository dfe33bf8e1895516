"""Media types read one way for every module: base form, kind, and range matching."""

from __future__ import annotations

import pytest

from mockserver.contract import media


@pytest.mark.parametrize(
    "value,kind",
    [
        ("Application/JSON; charset=utf-8", media.JSON),
        ("application/problem+json", media.JSON),
        ("text/json", media.JSON),
        ("application/x-www-form-urlencoded", media.FORM),
        ("multipart/form-data; boundary=x", media.MULTIPART),
        ("application/xml", media.XML),
        ("application/atom+xml", media.XML),
        ("text/xml", media.XML),
        ("text/plain", media.TEXT),
        ("application/octet-stream", media.OPAQUE),
        ("application/x-ndjson", media.OPAQUE),
        ("", media.OPAQUE),
    ],
)
def test_kind(value: str, kind: str) -> None:
    assert media.kind(value) == kind
    assert media.is_json(value) == (kind == media.JSON) and media.is_xml(value) == (kind == media.XML)


def test_base_drops_parameters_and_case() -> None:
    assert media.base(" Text/HTML ; charset=UTF-8") == "text/html"


@pytest.mark.parametrize(
    "actual,declared,expected",
    [
        ("application/json", "application/json; charset=utf-8", True),
        ("text/plain", "text/*", True),
        ("text/plain", "*/*", True),
        ("application/json", "text/*", False),
        ("application/json", "application/xml", False),
        ("textual/plain", "text/*", False),
    ],
)
def test_matches(actual: str, declared: str, expected: bool) -> None:
    assert media.matches(actual, declared) is expected
