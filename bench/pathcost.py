"""`python -m bench.pathcost [--against REV|DIR] [--redis URL]`: CPU time per request through the request path, in
process, this tree side by side with a baseline (a git revision or another checkout), plus what runtime features
cost in this tree.

Each measurement is a fresh process pinned to the server core that drives the whole ASGI app with fake `receive` and
`send` (no sockets: uvicorn drops out) and `Mock.handle` alone, timed in the thread's CPU time (`time.thread_time`),
so work of other processes on a shared machine drops out. Every figure is also divided by the ceiling app (bench/
ceiling.py) measured in the same process. Trees alternate within a round, variants too (first one way, then the
other), and medians over the rounds are quoted, with the ratio of this tree to the baseline per round.

Rows: a new id on every request (generated data), a repeated request (the fixture id: the answer memory), the mock's
own 401, 404 and 422 (each on a new path), the same without the log line, `Mock.handle` alone; then, this tree only:
an override active on another id, `--stateful`, and with `--redis URL` a Redis store. A baseline only gets the rows
its layout can run (a revision from before the restructuring of issue 8 has `mockserver.create_app` and
`mockserver.mock.MockRequest`, not `mockserver.serve`).

Rules: REV is exported with `git archive` into bench/out/pathcost/REV (the repository is not touched); nothing here
is timed by the test suite.
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
from typing import Any

from .servers import OUT, ROOT, SERVER_CORE, pinned, python

_CHILD = r"""
import asyncio, gc, io, json, sys, time
import mockserver
from mockserver import Config
try:
    from mockserver.serve.pipeline.core import MockRequest
except ImportError:
    try:  # the layout before issue 18
        from mockserver.serve.mock import MockRequest
    except ImportError:  # the layout before issue 8
        from mockserver.mock import MockRequest
from bench import ceiling

variant, count = json.loads(sys.argv[1]), int(sys.argv[2])
KEY = ("x-session-api-key", "bench-key")


def scope(path, key=True):
    headers = [(b"host", b"127.0.0.1:4010")] + ([(KEY[0].encode(), KEY[1].encode())] if key else [])
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 4010), "state": {}}


async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message):
    return None


def asgi(app, paths, key=True):
    scopes = [scope(p, key) for p in paths]

    async def run():
        for s in scopes[:300]:
            await app(dict(s), receive, send)
        gc.collect()
        began = time.thread_time()
        for s in scopes:
            await app(dict(s), receive, send)
        return (time.thread_time() - began) / len(scopes) * 1e6

    return asyncio.run(run())


def quiet(app):
    log = getattr(app, "log", None)
    if log is not None and hasattr(log, "stream"):
        log.stream = io.StringIO()  # the same buffered writer, into memory: both trees pay the same
    return app


new = [f"/api/conversations/pc-{i}" for i in range(count)]
repeated = ["/api/conversations/running"] * count
rows = {"ceiling app": asgi(ceiling.app, new)}
options = dict(variant["options"])
override = options.pop("__override", None)
try:
    config = Config(**options)
except TypeError as exc:  # an option this tree does not have
    print(json.dumps({"ceiling app": rows["ceiling app"], "skipped": str(exc)}))
    sys.exit(0)
app = quiet(mockserver.create_app(config))
if override:
    try:
        from mockserver.serve.pipeline.overrides import check
    except ImportError:
        try:  # the layout before issue 18
            from mockserver.serve.overrides import check
        except ImportError as exc:  # a tree from before runtime overrides
            print(json.dumps({"ceiling app": rows["ceiling app"], "skipped": str(exc)}))
            sys.exit(0)
    app.mock.store.add_override(check(override, app.mock.spec, 10000))
rows["new id"] = asgi(app, new)
rows["repeated"] = asgi(app, repeated)
if variant.get("handle"):  # the mock's own errors, each on a new path (no answer memory)
    rows["401 (no key), new id"] = asgi(app, new, key=False)
    rows["404 (no operation), new path"] = asgi(app, [f"/api/nothing/pc-{i}" for i in range(count)])
    rows["422 (a bad percent-escape), new id"] = asgi(app, [f"/api/conversations/%FF{i}" for i in range(count)])
    mock = app.state.mock
    for label, paths in (("new id", new), ("repeated", repeated)):
        requests = [MockRequest("GET", p.encode(), {}, {KEY[0]: KEY[1]}, {}, b"") for p in paths]
        for r in requests[:300]:
            mock.handle(r)
        began = time.thread_time()
        for r in requests:
            mock.handle(r)
        rows[f"Mock.handle, {label}"] = (time.thread_time() - began) / count * 1e6
print(json.dumps(rows))
"""

_OVERRIDE = {"operation": "GET /api/conversations/{conversation_id}", "params": {"conversation_id": "other"},
             "prefer": "code=422"}  # fmt: skip
# (label, options for Config, also the mock's own errors and Mock.handle alone); a baseline without the feature
# says so and the row shows n/a
VARIANTS: list[tuple[str, dict[str, Any], bool]] = [
    ("default", {}, True),
    ("--no-request-log", {"request_log": False}, False),
    ("an override on another id", {"__override": _OVERRIDE}, False),
    ("--stateful", {"stateful": True}, False),
]


def export(rev: str) -> Path:
    """A git revision's files, exported once into bench/out/pathcost/REV."""
    target = OUT / "pathcost" / rev.replace("/", "_")
    if not (target / "mockserver").is_dir():
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def measure(tree: Path, variant: dict[str, Any], count: int) -> dict[str, Any]:
    # The log line goes to memory in both trees, so writing it costs the same
    done = subprocess.run(
        pinned([python(), "-P", "-c", _CHILD, json.dumps(variant), str(count)], SERVER_CORE),
        cwd=tree, capture_output=True, text=True, timeout=900,
        env={**os.environ, "BENCH_CEILING_BODY": "", "PYTHONPATH": str(tree)},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench.pathcost: measuring {tree} failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(against: str | None, rounds: int, count: int, redis: str | None) -> dict[str, Any]:
    """{"trees": {name: path}, "runs": {tree: {variant: [rows per round]}}}"""
    trees: dict[str, Path] = {"this tree": ROOT}
    if against:
        path = Path(against)
        trees = {f"baseline ({against})": path.resolve() if path.is_dir() else export(against), **trees}
    variants = list(VARIANTS)
    if redis:
        variants.append(("--state-url (Redis)", {"state_url": redis}, False))
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {t: {v[0]: [] for v in variants} for t in trees}
    plan = [(tree, v) for v in variants for tree in trees]
    for round_ in range(rounds):
        for tree, (label, options, handle) in plan if round_ % 2 == 0 else plan[::-1]:
            rows = measure(trees[tree], {"options": options, "handle": handle}, count)
            runs[tree][label].append(rows)
        print(f"bench.pathcost: round {round_ + 1}/{rounds}", file=sys.stderr, flush=True)
    return {"trees": {k: str(v) for k, v in trees.items()}, "runs": runs, "rounds": rounds, "count": count}


def table(data: dict[str, Any]) -> str:
    trees = list(data["trees"])
    base, this = trees[0], trees[-1]
    runs = data["runs"]
    head = "| CPU µs per request (÷ ceiling app in the same process) |"
    head += "".join(f" {t} |" for t in trees) + (" this ÷ baseline |" if len(trees) > 1 else "")
    lines = [head, "|---|" + "---:|" * (len(trees) + (len(trees) > 1))]
    ceilings = [statistics.median(r["ceiling app"] for rs in runs[t].values() for r in rs) for t in trees]
    lines.append("| ceiling app (bench/ceiling.py) | " + " | ".join(f"{c:.1f} (1.00×)" for c in ceilings) + " |"
                 + (f" {ceilings[-1] / ceilings[0]:.2f} |" if len(trees) > 1 else ""))  # fmt: skip
    for label in runs[this]:
        rows_this = [r for r in runs[this][label] if "skipped" not in r]
        if not rows_this:
            continue
        for row in (k for k in rows_this[0] if k != "ceiling app"):
            cells = []
            for tree in trees:
                got = [r for r in runs[tree].get(label, []) if row in r]
                if not got:
                    cells.append("n/a")
                    continue
                us = statistics.median(r[row] for r in got)
                over = statistics.median(r[row] / r["ceiling app"] for r in got)
                cells.append(f"{us:.1f} ({over:.2f}×)")
            ratio = ""
            if len(trees) > 1:
                pairs = list(zip(runs[base].get(label, []), runs[this][label], strict=False))
                per = [b[row] / a[row] for a, b in pairs if row in a and row in b]
                ratio = f" {statistics.median(per):.2f} |" if per else " n/a |"
            lines.append(f"| {label}: {row} | " + " | ".join(cells) + " |" + ratio)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pathcost", description=__doc__.split("\n\n")[0])
    p.add_argument("--against", metavar="REV|DIR", help="the baseline: a git revision (e.g. 0934421, main) or a folder")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--count", type=int, default=20_000, help="requests per measurement")
    p.add_argument("--redis", metavar="URL", help="also measure with --state-url URL (a Redis you started)")
    p.add_argument("--json", type=Path, default=OUT / "pathcost.json")
    args = p.parse_args(argv)
    data = run(args.against, args.rounds, args.count, args.redis)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=1))
    print(f"\n{args.rounds} rounds of {args.count} requests per measurement, medians\n")
    print(table(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
