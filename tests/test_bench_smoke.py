"""The benchmark harness runs end to end and writes sane numbers: a smoke run of a few seconds, no timed assertion."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import parse_wrk

ROOT = Path(__file__).resolve().parent.parent

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:4011
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.41ms    1.48ms  57.10ms   96.32%
    Req/Sec     9.59k   480.66    10.32k    68.00%
  Latency Distribution
     50%  812.00us
     75%    3.44ms
     90%    3.63ms
     99%    1.20s
  47710 requests in 5.00s, 23.80MB read
  Non-2xx or 3xx responses: 7
Requests/sec:   9540.54
Transfer/sec:      4.76MB
"""


def test_wrk_output_is_read() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert (result.rps, result.p50_ms, result.p99_ms) == (9540.54, 0.812, 1200.0)
    assert (result.requests, result.non2xx, result.errors) == (47710, 7, 0)
    assert 500 < result.bytes_per_response < 550


def test_bottleneck_names_the_side_a_run_waits_on() -> None:
    from bench.sharding import bottleneck

    row = {"seconds": 40.0, "client_cpu_s": 30.0, "server_cpu_s": 8.0, "requests": 6000}
    assert bottleneck(row, 0) == "the client: the `check` process used 30.0 s of CPU, the mock 8.0 s, in 40.0 s"
    contended = {**row, "seconds": 120.0}
    assert bottleneck(contended, 0).endswith(
        "for 68% of the wall time neither was on a CPU (other work on the machine)"
    )
    slow = {"seconds": 40.0, "client_cpu_s": 8.0, "server_cpu_s": 1.0, "requests": 1200}
    assert bottleneck(slow, 20) == (
        "the server: 60% of the run went to waiting for answers of at least 20 ms, 20% to the client's CPU, 2% to "
        "the mock's; for 18% of the wall time neither was on a CPU (other work on the machine)"
    )
    busy = {"seconds": 10.0, "client_cpu_s": 1.0, "server_cpu_s": 9.0, "requests": 100}
    assert bottleneck(busy, 0).startswith("the server: the `check` process used 1.0 s of CPU, the mock 9.0 s")


def test_the_shards_section_is_spliced_in_place() -> None:
    from bench.report import ANALYSIS, SHARDS_HEADING, splice

    analysis = ANALYSIS.read_text().splitlines()[0]  # the hand-written part, appended after the measured sections
    old = f"# Benchmarks\n\n## A\n\na\n\n{SHARDS_HEADING}\n\nold numbers\n\n{analysis}\n\nb\n"
    new = splice(old, f"{SHARDS_HEADING}\n\nnew numbers\n")
    assert new == old.replace("old numbers", "new numbers")
    added = splice(f"# Benchmarks\n\n## A\n\na\n\n{analysis}\n\nb\n", f"{SHARDS_HEADING}\n\nn\n")
    assert added.index("## A") < added.index(SHARDS_HEADING) < added.index(analysis)


@pytest.mark.e2e  # real servers on loopback ports
@pytest.mark.timeout(900)  # past the subprocess's own hang guard below
def test_smoke_run_writes_results(tmp_path: Path) -> None:
    out, raw = tmp_path / "RESULTS.md", tmp_path / "results.json"
    cmd = [sys.executable, "-m", "bench", "--smoke", "--load", "python", "--out", str(out), "--json", str(raw)]
    # a hang guard, not a speed bound: beside a CPU hog the smoke run took over 2 minutes
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(raw.read_text())
    assert data["tool"] == "python"
    for name in ("ceiling", "mock generated", "mock fixture"):
        (row,) = data["throughput"][name]
        assert "error" not in row, row
        assert row["requests"] > 0 and row["rps"] > 0 and row["errors"] == 0 and row["non2xx"] == 0
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert 0 < row["startup_s"] < 60
        assert 5 < row["peak_rss_mb"] < 2000
    assert data["generation"]["http_repeated_id_ms"]["median"] > 0
    assert [r["operations"] for r in data["sizes"]["50 operations"]] == [50]
    assert data["soak"]["samples"]
    (proxy_round,) = data["proxy"]["upstreams"]["ceiling"]["rounds"]
    for side in ("direct", "proxy"):  # the same upstream, straight and through `mockserver proxy`
        row = proxy_round[side]
        assert row["requests"] > 0 and row["rps"] > 0 and row["errors"] == 0 and row["non2xx"] == 0, row
    # `check --shard`: the 4 shards' merged report is the one run's, whatever the timing
    shards = data["shards"]["variants"]["mock at full speed"]
    assert shards["verified"]["identical"] and shards["verified"]["findings"] == 1
    assert shards["verified"]["shard_sizes"] == [2, 2, 2, 2]
    assert shards["verified"]["one_run_exit"] == shards["verified"]["merged_exit"] == 1
    assert sorted(shards["runs"]["4 shards"][0]["exits"]) == [0, 0, 0, 1]
    large = data["large"]  # the rich contract in both modes: start-up, memory, first answers and repeats
    assert large["operations"] == 100
    for mode in ("readable", "edge-cases"):
        (run,) = large["runs"][mode]
        assert run["requests"] == 100 and run["undocumented_count"] == 0 and run["bad_header_values"] == 0, run
        assert 0 < run["startup_s"] < 60 and 5 < run["peak_rss_mb"] < 2000
        assert 0 < run["p50_ms"] <= run["p99_ms"] <= run["max_ms"] and 0 < run["repeat_p99_ms"]
    text = out.read_text()
    headings = ("## Targets", "## Throughput", "## Generation cost", "## Start-up and memory", "## Proxy vs direct",
                "## `check --shard`", "## A large contract (100 operations)")  # fmt: skip
    for heading in headings:
        assert heading in text
    assert re.search(r"\| \*\*proxy vs direct\*\* \| \*\*\d+\.\d\d×\*\* \|", text)  # the ceiling's row
