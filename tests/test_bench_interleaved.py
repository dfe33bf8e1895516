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
    cpu = {"ceiling": [100.0] * 8, "mock": [80.0, 100.0, 110.0, 120.0, 125.0, 140.0, 160.0, 200.0]}
    name, median_us, ratio, low, high = summary(cpu, "ceiling")[1]
    ratios = sorted(100 / v for v in cpu["mock"])
    assert (name, median_us) == ("mock", 122.5)
    assert ratio == pytest.approx((ratios[3] + ratios[4]) / 2)
    assert low < ratio < high
    assert (low, high) == (pytest.approx(ratios[1] + (ratios[2] - ratios[1]) * 0.25),
                           pytest.approx(ratios[5] + (ratios[6] - ratios[5]) * 0.75))  # fmt: skip
