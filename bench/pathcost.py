"""Request-path cost in process, side by side with another checkout: `python -m bench.pathcost [--against DIR]`.

CPU microseconds per request through the whole ASGI app (read, answer, deliver, record; no sockets, so uvicorn drops
out), for a fixture id and a new generated id, in this tree and, with `--against`, in another checkout of the
project (say the main branch), each variant a fresh process, rounds interleaved, medians and ratios printed. Extra
variants of this tree show what runtime features cost: an override active on the operation, `--stateful`, and a
Redis store (`--redis URL`). Nothing here is timed by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
PATH = "/api/conversations/"
_CHILD = r"""
import asyncio, gc, json, sys, time
from mockserver.config import Config
from mockserver.serve.app import create_app
options, count = json.loads(sys.argv[1]), int(sys.argv[2])
override = options.pop("__override", None)
app = create_app(Config(request_log=False, **options))
if override:
    from mockserver.serve.overrides import check
    app.mock.store.add_override(check(override, app.mock.spec, 10000))
def scope(path):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
            "headers": [(b"host", b"127.0.0.1"), (b"x-session-api-key", b"bench-key")], "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 4010)}
async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}
async def send(message):
    return None
async def run(paths):
    for p in paths[:300]:
        await app(scope(p), receive, send)
    gc.collect()
    began = time.process_time()  # CPU time of this process: what other work on a shared machine does not inflate
    for p in paths:
        await app(scope(p), receive, send)
    return (time.process_time() - began) / len(paths) * 1e6
out = {}
out["fixture"] = asyncio.run(run(["/api/conversations/running"] * count))
out["generated"] = asyncio.run(run([f"/api/conversations/bench-{i % 5000}" for i in range(count)]))
print(json.dumps(out))
"""


def _measure(tree: Path, options: dict[str, object], count: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(options), str(count)],
        capture_output=True, text=True, env=env, cwd=tree, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench.pathcost: {tree}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pathcost", description=__doc__.split("\n\n")[0])
    p.add_argument("--against", type=Path, help="another checkout (the baseline), e.g. the main branch's")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--count", type=int, default=20_000, help="requests per measurement")
    p.add_argument("--redis", metavar="URL", help="also measure with --state-url URL (a Redis you started)")
    args = p.parse_args(argv)
    variants: list[tuple[str, Path, dict[str, object]]] = []
    if args.against:
        variants.append(("baseline (--against), default config", args.against.resolve(), {}))
    variants.append(("this tree, default config", HERE, {}))
    op = "GET /api/conversations/{conversation_id}"
    variants.append(
        (
            "this tree, an override on another id",
            HERE,
            {"__override": {"operation": op, "params": {"conversation_id": "other"}, "prefer": "code=422"}},
        )
    )
    variants.append(("this tree, --stateful (no collection here)", HERE, {"stateful": True}))
    if args.redis:
        variants.append(("this tree, --state-url (Redis)", HERE, {"state_url": args.redis}))
    results: dict[str, dict[str, list[float]]] = {name: {"fixture": [], "generated": []} for name, _, _ in variants}
    for round_number in range(args.rounds):
        order = variants if round_number % 2 == 0 else variants[::-1]  # no variant always first or last
        for name, tree, options in order:
            measured = _measure(tree, dict(options), args.count)
            for kind, value in measured.items():
                results[name][kind].append(value)
        print(f"bench.pathcost: round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    base = variants[0][0]
    print(f"\n{args.rounds} interleaved rounds of {args.count} requests per variant, medians (µs per request, "
          f"in process, through the whole ASGI app)\n")  # fmt: skip
    print("| variant | fixture µs | generated µs | fixture vs first | generated vs first |")
    print("|---|---:|---:|---:|---:|")
    for name, _, _ in variants:
        f = statistics.median(results[name]["fixture"])
        g = statistics.median(results[name]["generated"])
        ratios = [
            statistics.median(a / b for a, b in zip(results[name][k], results[base][k], strict=True))
            for k in ("fixture", "generated")
        ]
        print(f"| {name} | {f:.1f} | {g:.1f} | {ratios[0]:.2f}× | {ratios[1]:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
