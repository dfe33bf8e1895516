"""The compatibility ledger of serve/data/: every Hypothesis name outside its documented API that generation.py
relies on to draw a value from a strategy with our own seeded `random.Random` (outside `@given`), and how it calls
them.

Rules: `tests/serve/test_hypothesis_ledger.py` (the canary) fails loudly, naming the installed Hypothesis, when a
name listed here disappears or stops taking the arguments listed, and when a module of mockserver/ outside check/
imports a Hypothesis name that is neither documented nor listed here. check/engine/ledger.py is the checker's own
list; serve never imports check, so each product keeps its ledger. Nothing imports this module at run
time: it is a list for the canary and for whoever raises the Hypothesis pin.
"""

from __future__ import annotations

# Modules of Hypothesis' documented API: a name imported from them needs no entry
DOCUMENTED = ("hypothesis", "hypothesis.strategies")
DOCUMENTED_ERRORS = ("HypothesisException",)  # documented exceptions of `hypothesis.errors`
# Private names relied on: (module, name)
PRIVATE = (
    ("hypothesis.internal.conjecture.data", "ConjectureData"),  # choices drawn from our seeded Random
    ("hypothesis.control", "BuildContext"),  # the context `ConjectureData.draw` needs outside @given
    ("hypothesis.errors", "StopTest"),  # a draw that ran out of choices (max_choices)
)
# How they are called: (object path, callable, the keyword or positional arguments passed)
CALLS = (
    ("hypothesis.internal.conjecture.data.ConjectureData", "__init__", ("random", "max_choices")),
    ("hypothesis.internal.conjecture.data.ConjectureData", "draw", ("strategy",)),
    ("hypothesis.control.BuildContext", "__init__", ("data", "is_final", "wrapped_test")),
)
