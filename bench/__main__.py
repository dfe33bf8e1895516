"""`python -m bench`: run every measurement and write bench/RESULTS.md (see bench/README.md).

Environment (each also a flag): BENCH_SECONDS (5) per measured run, BENCH_WARMUP (1), BENCH_ROUNDS (3),
BENCH_CONNECTIONS (32), BENCH_SOAK (60; 0 skips), BENCH_LOAD (auto | wrk | python), BENCH_INSTALL (1: may install
wrk with apt-get and Prism with npm), BENCH_SKIP (comma list of prism, generation, sizes, soak, check, reference,
proxy, shards, large, pathcost), BENCH_BASELINE (0934421: the revision bench/pathcost.py compares the request path
with), BENCH_SHARD_OPERATIONS (1000), BENCH_SHARD_SLOW_OPERATIONS (200), BENCH_SHARD_LATENCY_MS (20; 0 skips the
slow-mock variant), BENCH_SHARD_ROUNDS (1),
BENCH_CHECK_EXAMPLES (100), BENCH_QUIET_WAIT (10: seconds to wait for idle cores before each run, 180 in all),
BENCH_OUT (bench/RESULTS.md). `--smoke` is a run of a few seconds for the test suite; `--render [JSON [MD]]`
rewrites RESULTS.md from saved numbers (after editing bench/ANALYSIS.md, say); `--only shards` measures only
`check --shard` and replaces that section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .servers import OUT
from .suite import Settings, only_shards, run


def _env(name: str, default: str) -> str:
    return os.environ.get(f"BENCH_{name}", default)


def settings(argv: list[str] | None = None) -> Settings:
    p = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark the mock against its stack's ceiling and Prism."
    )
    p.add_argument("--seconds", type=float, default=float(_env("SECONDS", "5")), help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=float(_env("WARMUP", "1")), help="warm-up seconds before each run")
    p.add_argument("--rounds", type=int, default=int(_env("ROUNDS", "3")), help="interleaved rounds")
    p.add_argument("--connections", type=int, default=int(_env("CONNECTIONS", "32")))
    p.add_argument("--soak", type=float, default=float(_env("SOAK", "60")), help="seconds of the memory run (0: skip)")
    p.add_argument("--load", choices=("auto", "wrk", "python"), default=_env("LOAD", "auto"))
    p.add_argument(
        "--no-install", action="store_true", default=_env("INSTALL", "1") == "0", help="never install wrk or Prism"
    )
    p.add_argument(
        "--skip",
        default=_env("SKIP", ""),
        help="comma list: prism, generation, sizes, soak, check, reference, proxy, shards, large, pathcost",
    )
    p.add_argument("--shard-operations", type=int, default=int(_env("SHARD_OPERATIONS", "1000")))
    p.add_argument("--shard-slow-operations", type=int, default=int(_env("SHARD_SLOW_OPERATIONS", "200")))
    p.add_argument("--shard-latency-ms", type=int, default=int(_env("SHARD_LATENCY_MS", "20")))
    p.add_argument("--shard-rounds", type=int, default=int(_env("SHARD_ROUNDS", "1")))
    p.add_argument("--only", choices=("shards",), default=None, help="measure one section and splice it into --out")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=float(_env("QUIET_WAIT", "10")),
        help="max seconds to wait for idle cores before each run",
    )
    p.add_argument("--check-examples", type=int, default=int(_env("CHECK_EXAMPLES", "100")))
    p.add_argument("--out", type=Path, default=Path(_env("OUT", str(Path(__file__).parent / "RESULTS.md"))))
    p.add_argument("--json", type=Path, default=None, help="raw numbers (default: bench/out/results.json)")
    p.add_argument("--smoke", action="store_true", help="a few seconds: 1 round of 1 s, mock and ceiling only")
    args = p.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    s = Settings(
        seconds=args.seconds,
        warmup=args.warmup,
        rounds=max(1, args.rounds),
        connections=args.connections,
        soak=args.soak,
        load=args.load,
        install=not args.no_install,
        skip=skip,
        check_examples=args.check_examples,
        quiet_wait=args.quiet_wait,
        out=args.out,
        json_out=args.json or OUT / "results.json",
        shard_operations=args.shard_operations,
        shard_slow_operations=args.shard_slow_operations,
        shard_latency_ms=args.shard_latency_ms,
        shard_rounds=max(1, args.shard_rounds),
    )
    s.only = args.only
    if args.smoke:
        s.smoke = True
        s.seconds, s.warmup, s.rounds, s.soak, s.sizes, s.quiet_wait = 1.0, 0.0, 1, 2.0, (50,), 0.0
        s.shard_operations, s.shard_latency_ms, s.shard_rounds = 8, 0, 1  # the mechanism, in a few seconds
        s.skip |= {"prism", "check", "reference", "pathcost"}
        s.install = False
        if args.out == p.get_default("out"):
            s.out = OUT / "smoke" / "RESULTS.md"
        if args.json is None:
            s.json_out = OUT / "smoke" / "results.json"
    return s


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--render"]:  # RESULTS.md again from a results.json, e.g. after editing ANALYSIS.md
        import json

        from . import report

        source = Path(argv[1]) if len(argv) > 1 else OUT / "results.json"
        target = Path(argv[2]) if len(argv) > 2 else Path(__file__).parent / "RESULTS.md"
        target.write_text(report.render(json.loads(source.read_text())))
        print(f"bench: wrote {target} from {source}")
        return 0
    chosen = settings(argv)
    if chosen.only == "shards":
        only_shards(chosen)
    else:
        run(chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
