"""`python -m bench.ab REV`: the in-process request path of this tree against git revision REV, side by side.

Each round runs the same requests through `create_app` (the whole ASGI app, fake `receive`/`send`) and through
`Mock.handle`, in a fresh process per tree, the two trees alternating, pinned to the server core. Time is the
thread's CPU time (`time.thread_time`), so work of other processes on a shared machine drops out; every figure is
also divided by the ceiling app measured in the same process, and medians over the rounds are quoted.

Rules: REV is exported with `git archive` into bench/out/ab/REV (the repository is not touched); only entry points
both layouts have are used (`mockserver.create_app`, `app.state.mock`, `MockRequest`), so a revision from before a
restructuring compares with the tree after it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

from .servers import OUT, ROOT, SERVER_CORE, pinned, python

_MEASURE = r"""
import asyncio, gc, json, sys, time
import mockserver
from mockserver import Config
try:
    from mockserver.serve.mock import MockRequest
except ImportError:  # the layout before issue 8
    from mockserver.mock import MockRequest
from bench import ceiling

count = int(sys.argv[1])
KEY = ("x-session-api-key", "bench-key")


def scope(path):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:4010"), (KEY[0].encode(), KEY[1].encode())],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 4010), "state": {}}


async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message):
    return None


def asgi(app, paths):
    scopes = [scope(p) for p in paths]

    async def run():
        for s in scopes[:200]:
            await app(dict(s), receive, send)
        gc.collect()
        began = time.thread_time()
        for s in scopes:
            await app(dict(s), receive, send)
        return (time.thread_time() - began) / len(scopes) * 1e6

    return asyncio.run(run())


vary = [f"/api/conversations/ab-{i}" for i in range(count)]
fixed = ["/api/conversations/running"] * count
rows = {"ceiling app": asgi(ceiling.app, vary)}
for label, config in (("default", Config()), ("--no-request-log", Config(request_log=False))):
    app = mockserver.create_app(config)
    rows[f"mock app, {label}, generated"] = asgi(app, vary)
    rows[f"mock app, {label}, fixture"] = asgi(app, fixed)
mock = app.state.mock
for label, paths in (("generated", vary), ("fixture", fixed)):
    requests = [MockRequest("GET", p.encode(), {}, {KEY[0]: KEY[1]}, {}, b"") for p in paths]
    for r in requests[:200]:
        mock.handle(r)
    began = time.thread_time()
    for r in requests:
        mock.handle(r)
    rows[f"Mock.handle alone, {label}"] = (time.thread_time() - began) / count * 1e6
print(json.dumps(rows))
"""


def export(rev: str) -> Path:
    target = OUT / "ab" / rev
    if not (target / "mockserver").is_dir():
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def measure(tree: Path, count: int) -> dict[str, float]:
    # The log line goes to stderr in both trees: /dev/null, so writing it costs the same
    done = subprocess.run(
        pinned([python(), "-c", _MEASURE, str(count)], SERVER_CORE), cwd=tree, capture_output=True, text=True,
        env={**os.environ, "BENCH_CEILING_BODY": "", "PYTHONPATH": str(tree)}, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench.ab: measuring {tree} failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    p.add_argument("rev", help="git revision to compare with (e.g. a commit before a change)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--count", type=int, default=20_000, help="requests per measurement")
    args = p.parse_args(argv)
    trees = {args.rev: export(args.rev), "this tree": ROOT}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        for name, tree in trees.items():
            runs[name].append(measure(tree, args.count))
            print(f"bench.ab: round {round_ + 1}/{args.rounds} {name}", file=sys.stderr)
    (OUT / "ab" / f"{args.rev}.json").write_text(json.dumps(runs, indent=1))
    old, new = runs[args.rev], runs["this tree"]

    def med(rows: list[dict[str, float]], label: str, ratio: bool) -> float:
        return statistics.median(r[label] / (r["ceiling app"] if ratio else 1) for r in rows)

    print(f"| CPU µs per request (× ceiling app) | {args.rev} | this tree | this ÷ {args.rev} |")
    print("|---|---:|---:|---:|")
    for label in old[0]:
        a, b = med(old, label, False), med(new, label, False)
        ra, rb = med(old, label, True), med(new, label, True)
        print(f"| {label} | {a:.1f} ({ra:.2f}×) | {b:.1f} ({rb:.2f}×) | {rb / ra:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
