"""`python -m bench.interleaved [--against REV|DIR] [--cycles 30] [--seconds 1] [--fixture]`: the mock at its
defaults against the ceiling, live, every server started once and the load alternating between them in short runs.

Each cycle gives every server one run of `--seconds` (in turn, the order reversed every other cycle) and reads the
CPU it spent per answered request; the ratio of the ceiling's to each server's, per cycle, is summarised by its
median and quartiles. On a shared VM separate rounds of several seconds (`make bench`) move one ratio by ±15%, the
host's load drifting between them; runs of a second, alternating, see nearly the same machine. Rows: the ceiling,
this tree's `serve`, the same with `--no-request-log`, and with `--against` the baseline's `serve` (a git revision,
exported as bench/pathcost.py does, or a folder). `--fixture` asks a fixture's id every time instead of a new id.

Rules: servers on the server core, the load generator on the other; only 127.0.0.1; every server stopped at the
end, also on an error; nothing here is timed by the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from . import load
from .pathcost import export
from .servers import HOST, OUT, ROOT, ServerError, free_port, process_ticks, python, start
from .suite import CONVERSATIONS, FIXTURE_ID, capture_ceiling_body, ceiling_cmd

# a mock of a given tree: its folder first on the path, whatever the current folder (`-m` would put that first)
_SERVE = "import sys; sys.path.insert(0, sys.argv.pop(1)); from mockserver.cli import main; sys.exit(main())"


def serve(tree: Path, *extra: str) -> Callable[[int], list[str]]:
    return lambda port: [python(), "-c", _SERVE, str(tree), "serve", "--host", HOST, "--port", str(port), *extra]


def commit(rev: str) -> str:
    """A revision's short hash: the export is kept by name, and a name such as HEAD moves."""
    done = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench.interleaved: error: {rev!r} is no folder and no git revision")
    return done.stdout.strip()


def summary(cpu: dict[str, list[float]], base: str) -> list[tuple[str, float, float, float, float]]:
    """(name, median µs/request, ratio median, lower quartile, upper quartile) per server: `base`'s CPU per request
    divided by the server's, cycle by cycle."""
    rows = []
    for name, values in cpu.items():
        ratios = [b / v for b, v in zip(cpu[base], values, strict=True) if v > 0]
        low, _, high = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
        rows.append((name, statistics.median(values), statistics.median(ratios), low, high))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.interleaved", description=__doc__.split("\n\n")[0])
    p.add_argument("--against", metavar="REV|DIR", help="also the mock of a git revision or a folder")
    p.add_argument("--cycles", type=int, default=30)
    p.add_argument("--seconds", type=int, default=1, help="seconds per run (whole seconds: wrk's unit)")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--fixture", action="store_true", help=f"GET the fixture {FIXTURE_ID!r} instead of a new id")
    args = p.parse_args(argv)
    path, vary = (CONVERSATIONS + FIXTURE_ID, False) if args.fixture else (CONVERSATIONS + "bench-", True)
    probe = CONVERSATIONS + FIXTURE_ID
    body, _, _ = capture_ceiling_body()  # the ceiling serves a body the mock generated: the same size on the wire
    servers: list[tuple[str, Callable[[int], list[str]], dict[str, str]]] = [
        ("ceiling", ceiling_cmd(False), {"BENCH_CEILING_BODY": str(body)}),
        ("mock", serve(ROOT), {}),
        ("mock, --no-request-log", serve(ROOT, "--no-request-log"), {}),
    ]
    if args.against:
        tree = Path(args.against) if Path(args.against).is_dir() else export(commit(args.against))
        servers.append((f"mock of {args.against}", serve(tree.resolve()), {}))
    tool = "wrk" if load.wrk_version() is not None else "python"
    running = []
    try:
        for name, command, env in servers:
            port = free_port()
            logs = OUT / "logs" / f"interleaved-{len(running)}.log"
            running.append(start(name, command(port), probe, port=port, log=logs, env=env))
        for server in running:  # warm-up
            load.run(tool, server.port, path, vary=vary, seconds=1, connections=args.connections)
        cpu: dict[str, list[float]] = {server.name: [] for server in running}
        for cycle in range(args.cycles):
            for server in running if cycle % 2 == 0 else running[::-1]:
                before = process_ticks(server.pid)
                result = load.run(
                    tool, server.port, path, vary=vary, seconds=args.seconds, connections=args.connections
                )
                ticks = process_ticks(server.pid) - before
                if result.non2xx or result.errors or not result.requests:
                    raise ServerError(f"{server.name}: {result.non2xx} non-2xx, {result.errors} errors")
                cpu[server.name].append(ticks / os.sysconf("SC_CLK_TCK") / result.requests * 1e6)
    except ServerError as exc:
        print(f"bench.interleaved: error: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in running:
            server.stop()
    what = f"GET {path}" + ("N (a new id each time)" if vary else "")
    print(f"\n{args.cycles} cycles of {args.seconds} s per server, {what}, load: {tool}\n")
    print("| server | CPU µs/request (median) | ceiling's ÷ this: median | quartiles |")
    print("|---|---:|---:|---:|")
    for name, us, ratio, low, high in summary(cpu, "ceiling"):
        print(f"| {name} | {us:.1f} | {ratio:.3f}× | {low:.2f}-{high:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
