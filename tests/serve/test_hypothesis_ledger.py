"""The canary of serve/data/ledger.py: the Hypothesis internals the generator draws with (generation._draw) still
exist and take the arguments it passes, every such name serve uses is listed, and a seeded draw is still
deterministic. A failure names the installed Hypothesis: adapt generation.py before moving the pin."""

from __future__ import annotations

import ast
import importlib
import inspect
import random
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from mockserver.serve.data import generation, ledger

ROOT = Path(__file__).resolve().parents[2]


def resolve(path: str) -> Any:
    try:
        return importlib.import_module(path)
    except ImportError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def gone(what: str) -> str:
    return f"{what} is gone in Hypothesis {version('hypothesis')}: serve/data/generation.py relies on it (ledger.py)"


@pytest.mark.parametrize(("module", "name"), ledger.PRIVATE, ids=[f"{m}.{n}" for m, n in ledger.PRIVATE])
def test_each_private_name_still_exists(module: str, name: str) -> None:
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(gone(f"{module} ({exc})"))
    assert hasattr(found, name), gone(f"{module}.{name}")


@pytest.mark.parametrize(("path", "method", "arguments"), ledger.CALLS, ids=[f"{p}.{m}" for p, m, _ in ledger.CALLS])
def test_each_call_still_takes_its_arguments(path: str, method: str, arguments: tuple[str, ...]) -> None:
    parameters = inspect.signature(getattr(resolve(path), method)).parameters
    missing = [a for a in arguments if a not in parameters]
    assert not missing, gone(f"{path}.{method}'s argument(s) {', '.join(missing)}")


def test_the_canary_can_fail() -> None:
    for module, _ in ledger.PRIVATE:
        assert not hasattr(importlib.import_module(module), "_no_such_private_name")
    with pytest.raises(ImportError):
        importlib.import_module("hypothesis.internal.no_such_module")


def _hypothesis_imports() -> set[tuple[str, str, str]]:
    """(file, module, name) of every Hypothesis import in mockserver/ outside check/ (the checker has its ledger)."""
    found = set()
    for path in (ROOT / "mockserver").rglob("*.py"):
        where = str(path.relative_to(ROOT / "mockserver"))
        if where.startswith("check/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), where)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("hypothesis."):
                found |= {(where, node.module or "", alias.name) for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {(where, alias.name, "") for alias in node.names if alias.name.startswith("hypothesis.")}
    return found


def test_every_hypothesis_name_serve_uses_outside_the_documented_api_is_listed() -> None:
    found = _hypothesis_imports()
    assert ("serve/data/generation.py", "hypothesis.internal.conjecture.data", "ConjectureData") in found  # the scan
    unlisted = {
        (where, module, name)
        for where, module, name in found
        if module not in ledger.DOCUMENTED
        and (module, name) not in ledger.PRIVATE
        and not (module == "hypothesis.errors" and name in ledger.DOCUMENTED_ERRORS)
    }
    assert not unlisted, f"list these in serve/data/ledger.py (and keep the canary green): {sorted(unlisted)}"
    listed = {(module, name) for _, module, name in found}
    assert set(ledger.PRIVATE) <= listed, "ledger.py lists a name serve no longer imports: drop it"


def test_a_seeded_draw_is_still_deterministic() -> None:
    # what the private names are for: the same Random gives the same value, whatever ran before
    strategy = st.lists(st.integers(0, 10**6), min_size=3, max_size=3)
    first = [generation._draw(strategy, random.Random(seed)) for seed in range(5)]
    again = [generation._draw(strategy, random.Random(seed)) for seed in range(5)]
    assert first == again and len({tuple(v) for v in first}) > 1
    assert all(len(v) == 3 and all(0 <= i <= 10**6 for i in v) for v in first)


def test_a_draw_that_runs_out_of_choices_is_a_generation_error() -> None:
    # StopTest (a private exception) becomes GenerationError: a huge list exhausts max_choices
    with pytest.raises(generation.GenerationError):
        generation._draw(st.lists(st.integers(), min_size=10_000), random.Random(1))
