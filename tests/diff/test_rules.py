"""The rule table is oasdiff's: every id we report that oasdiff has carries oasdiff's level (its ids and levels
extracted from oasdiff's checker/rules.go into oasdiff_rules.tsv); the ids of our own are not oasdiff's."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.diff import RULES
from mockserver.diff.rules import OWN

OASDIFF = dict(
    line.split("\t")[:2]
    for line in (Path(__file__).parent / "oasdiff_rules.tsv").read_text().splitlines()
    if line and not line.startswith("#")
)


def test_the_oasdiff_table_is_there():
    assert len(OASDIFF) > 400 and OASDIFF["response-property-enum-value-added"] == "WARN"


@pytest.mark.parametrize("rule", sorted(set(RULES) - OWN))
def test_an_oasdiff_rule_has_its_level(rule):
    assert OASDIFF.get(rule) == RULES[rule]


@pytest.mark.parametrize("rule", sorted(OWN))
def test_our_own_rules_are_not_oasdiffs(rule):
    assert rule in RULES and rule not in OASDIFF
