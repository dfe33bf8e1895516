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


def test_accepted_reads_weights_as_rfc_9110_says() -> None:
    assert media.accepted("Text/HTML;level=1;q=0.5, */*;q=0, application/json") == [
        ("text/html", 0.5),
        ("*/*", 0.0),
        ("application/json", 1.0),
    ]
    # unreadable or out-of-range weights count as 1 (qvalue = 0[.ddd] / 1[.000]); empty entries are skipped
    assert media.accepted("a/b;q=2, c/d;q=abc, , e/f;q=0.1234, g/h;q=1.000") == [
        ("a/b", 1.0),
        ("c/d", 1.0),
        ("e/f", 1.0),
        ("g/h", 1.0),
    ]


def test_weigh_takes_the_most_specific_range() -> None:
    ranges = media.accepted("text/*;q=0.3, text/html;q=0, */*;q=0.1")
    assert media.weigh("text/html", ranges) == (0.0, 2, 1)
    assert media.weigh("text/plain", ranges) == (0.3, 1, 0)
    assert media.weigh("image/png", ranges) == (0.1, 0, 2)
    assert media.weigh("image/png", media.accepted("text/*")) is None
