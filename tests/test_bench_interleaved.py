"""bench/interleaved.py's summary of per-cycle CPU figures (the run itself measures live servers: not in make test)."""

from __future__ import annotations

import pytest

from bench.interleaved import summary


def test_ratios_pair_each_cycle_so_a_drifting_machine_does_not_spread_them():
    # the machine is twice as slow for everyone in every other cycle: paired cycle by cycle the mock is 0.8x
    # throughout, with no spread; compared across cycles it would range from 0.4x to 1.6x
    cpu = {"ceiling": [100.0, 200.0, 100.0, 200.0, 100.0], "mock": [125.0, 250.0, 125.0, 250.0, 125.0]}
    rows = {name: rest for name, *rest in summary(cpu, "ceiling")}
    assert rows["ceiling"] == [100.0, 1.0, 1.0, 1.0]
    assert rows["mock"][0] == 125.0
    assert rows["mock"][1:] == [pytest.approx(0.8)] * 3


def test_quartiles_show_the_spread():
    cpu = {"ceiling": [100.0] * 8, "mock": [100.0, 125.0, 125.0, 125.0, 125.0, 125.0, 125.0, 200.0]}
    name, median_us, ratio, low, high = summary(cpu, "ceiling")[1]
    assert (name, median_us, ratio) == ("mock", 125.0, pytest.approx(0.8))
    assert low == pytest.approx(0.8) and high == pytest.approx(0.8)
    assert min(100 / v for v in cpu["mock"]) < low <= ratio <= high < max(100 / v for v in cpu["mock"])
