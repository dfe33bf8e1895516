"""Guards the Hypothesis pin: hypothesis-jsonschema 0.23.1 breaks on array schemas from Hypothesis 6.170.10 on
('many' object has no attribute 'more'), and Schemathesis 4.32 needs Hypothesis >= 6.130.12."""

from __future__ import annotations

from importlib.metadata import version

from hypothesis import given, settings
from hypothesis_jsonschema import from_schema
from packaging.version import Version


def test_installed_hypothesis_is_inside_the_working_range():
    installed = Version(version("hypothesis"))
    assert Version("6.130.12") <= installed < Version("6.170.10")
    assert Version(version("schemathesis")).major == 4


@settings(max_examples=20, deadline=None)
@given(from_schema({"type": "array", "items": {"type": "integer"}, "minItems": 1}))
def test_hypothesis_jsonschema_still_draws_arrays(value):
    assert isinstance(value, list) and value and all(isinstance(v, int) for v in value)
