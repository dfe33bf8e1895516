"""A broken contract is a DocumentError (exit 2 with file, pointer and reason), never a traceback: any node of a
valid contract replaced by junk still compares or is refused."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.contract.documents import DocumentError
from mockserver.diff import Contract, compare

from .test_no_change import PETS_30, PETS_31

JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2),
                 st.just({"$ref": "#/nowhere"}), st.just({"$ref": 7}), st.just({"type": 3, "enum": 4}))  # fmt: skip


def _places(node: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [trail] if trail else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _places(value, (*trail, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _places(value, (*trail, i))
    return found


PLACES = {name: _places(doc) for name, doc in (("3.0", PETS_30), ("3.1", PETS_31))}


@settings(max_examples=150, deadline=None)
@given(version=st.sampled_from(sorted(PLACES)), data=st.data(), junk=JUNK, old_side=st.booleans())
def test_junk_anywhere_is_compared_or_refused(version, data, junk, old_side):
    base = PETS_30 if version == "3.0" else PETS_31
    trail = data.draw(st.sampled_from(PLACES[version]))
    broken = copy.deepcopy(base)
    parent = broken
    for key in trail[:-1]:
        parent = parent[key]
    parent[trail[-1]] = junk
    old, new = (broken, base) if old_side else (base, broken)
    try:
        compare(Contract(old, "old.yaml"), Contract(new, "new.yaml"))
    except DocumentError as exc:
        assert exc.file in ("old.yaml", "new.yaml") and exc.reason
