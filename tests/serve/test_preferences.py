"""The Prefer header (RFC 7240 syntax, Prism's preferences): every preference, its bad values, and the rules."""

from __future__ import annotations

from dataclasses import fields

import pytest

from mockserver.serve.pipeline import preferences
from mockserver.serve.pipeline.preferences import NONE, Preferences, PreferError, parse_prefer


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("code=404", Preferences(code=404)),
        ("example=stopped", Preferences(example="stopped")),
        ('example="two words"', Preferences(example="two words")),
        ("dynamic=true", Preferences(dynamic=True)),
        ("dynamic=false", Preferences(dynamic=False)),
        ("branch=null", Preferences(branch=-1)),
        ("branch=2", Preferences(branch=2)),
        ("delay=150", Preferences(delay_ms=150)),
        ("Code=201; DYNAMIC=false", Preferences(code=201, dynamic=False)),  # names in any case
        ("code=200, example=a ; delay=5", Preferences(code=200, example="a", delay_ms=5)),
        (" code = 201 ", Preferences(code=201)),
        ("code=200, code=404", Preferences(code=404)),  # the last one wins
        ("respond-async, wait=10, return=minimal, code=202", Preferences(code=202)),  # others are not ours
        ("handling=lenient", NONE),
    ],
)
def test_preferences_are_parsed(header, expected):
    assert parse_prefer(header, 10_000) == expected


def test_no_header_is_no_preference():
    assert parse_prefer(None, 10) is NONE and parse_prefer("", 10) is NONE and parse_prefer(" , ;", 10) == NONE


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("code=99", "code must be a 3-digit HTTP status, got '99'"),
        ("code=600", "code must be a 3-digit HTTP status"),
        ("code=2000", "code must be a 3-digit HTTP status"),
        ("code=", "code must be a 3-digit HTTP status, got ''"),
        ("example=", "example needs a name: example=NAME"),
        ("example", "example needs a name"),
        ("dynamic=yes", "dynamic must be true or false, got 'yes'"),
        ("branch=-1", "branch must be null or a number, got '-1'"),
        ("branch=1000", "branch must be null or a number"),  # more branches than any schema has
        ("delay=1.5", "delay must be a whole number of milliseconds, got '1.5'"),
        ("delay=-5", "delay must be a whole number of milliseconds"),
        ("code=2 00", "cannot parse preference 'code=2 00'"),
        ("=404", "cannot parse preference '=404'"),
    ],
)
def test_bad_values_of_known_preferences_say_why(header, reason):
    with pytest.raises(PreferError) as caught:
        parse_prefer(header, 10_000)
    assert reason in str(caught.value)


def test_a_bad_value_quoted_back_is_cut_short():
    with pytest.raises(PreferError) as caught:
        parse_prefer("dynamic=" + "y" * 500, 10_000)
    assert len(str(caught.value)) < 100


def test_delay_is_capped_at_the_configured_maximum():
    assert parse_prefer("delay=99999999999999999999", 10_000).delay_ms == 10_000
    assert parse_prefer("delay=250", 100).delay_ms == 100
    assert parse_prefer("delay=0", 100).delay_ms == 0


def test_a_header_past_the_limit_is_refused_before_parsing():
    assert parse_prefer("code=200," + " " * (preferences.MAX_HEADER - 9), 10).code == 200
    with pytest.raises(PreferError, match="longer than 4096"):
        parse_prefer("code=200," + " " * (preferences.MAX_HEADER - 8), 10)


def test_each_known_preference_fills_a_field_of_its_own():
    # A new preference is one entry of _PARSERS: its field must exist and no two may share one
    targets = [target for target, _ in preferences._PARSERS.values()]
    assert set(targets) <= {f.name for f in fields(Preferences)}
    assert len(set(targets)) == len(targets)
    assert preferences.KNOWN == ("code", "example", "dynamic", "branch", "delay")
