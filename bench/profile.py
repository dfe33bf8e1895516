"""Where the time goes: `python -m bench.profile` (or `make bench-profile`).

1. In process, no sockets: microseconds per request through each layer (the ceiling app, the mock's ASGI app
   `MockApp` with and without CORS, the log line, the journal and the answer memory, `Mock.handle` alone,
   `Journal.record`), so the transport (uvicorn + httptools, the same for every variant) drops out and layers can be
   subtracted.
2. Live, with `--py-spy`: the mock under wrk load sampled by py-spy; the hottest functions, inclusive and self, are
   written to bench/out/profile-*.txt.
Rules: bounded runs only; nothing here is timed by the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .servers import API_KEY, KEY_HEADER, OUT, free_port, pinned, python, start

PATH = "/api/conversations/"


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:4010"), (KEY_HEADER.lower().encode(), API_KEY.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 4010),
        "state": {},
    }


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


def _per_request_us(app: Callable[..., Awaitable[None]], paths: Callable[[int], str], count: int) -> float:
    scopes = [_scope(paths(i)) for i in range(count)]

    async def batch() -> float:
        for scope in scopes[:200]:  # warm: fill the generation pool, caches
            await app(dict(scope), _receive, _send)
        gc.collect()
        began = time.perf_counter()
        for scope in scopes:
            await app(dict(scope), _receive, _send)
        return (time.perf_counter() - began) / count * 1e6

    return asyncio.run(batch())


def layers(count: int) -> list[tuple[str, float]]:
    os.environ.setdefault("BENCH_CEILING_BODY", "")
    from mockserver.serve.app import MockApp, create_app
    from mockserver.serve.config import Config
    from mockserver.serve.journal import RequestLog
    from mockserver.serve.pipeline.core import MockRequest

    from . import ceiling

    def vary(i: int) -> str:
        return f"{PATH}bench-{i}"

    def fixed(i: int) -> str:
        return PATH + "running"

    sink = io.StringIO()

    def app_of(config: Config, memory: bool = True) -> MockApp:
        app = create_app(config)
        if app.log is not None:
            app.log = RequestLog(sink)  # the same buffered writer, into memory instead of a file
        if not memory:
            app.answers = None  # every request through the core, as with --error-rate
        return app

    results: list[tuple[str, float]] = []
    results.append(("ceiling app (Starlette route + Response)", _per_request_us(ceiling.app, vary, count)))
    for label, config, memory in (
        ("mock app, default (CORS, journal, log line)", Config(), True),
        ("mock app, --no-request-log", Config(request_log=False), True),
        ("mock app, --no-cors", Config(cors=False), True),
        (
            "mock app, --no-cors --no-request-log --journal-size 0",
            Config(cors=False, request_log=False, journal_size=0),
            True,
        ),
        ("mock app, default, answer memory off", Config(), False),
    ):
        app = app_of(config, memory)
        results.append((f"{label}, generated", _per_request_us(app, vary, count)))
        results.append((f"{label}, fixture", _per_request_us(app, fixed, count)))
        sink.seek(0)
        sink.truncate()
    app = app_of(Config(cors=False))
    mock = app.mock
    headers = {KEY_HEADER.lower(): API_KEY}
    for label, make in (("generated", vary), ("fixture", fixed)):
        requests = [MockRequest("GET", make(i).encode(), {}, headers, {}, b"") for i in range(count)]
        for r in requests[:200]:
            mock.handle(r)
        began = time.perf_counter()
        for r in requests:
            mock.handle(r)
        results.append((f"Mock.handle alone, {label}", (time.perf_counter() - began) / count * 1e6))
    journal = app.journal
    raw = [("host", "127.0.0.1:4010"), (KEY_HEADER, API_KEY)]
    began = time.perf_counter()
    for i in range(count):
        journal.record(
            "GET", vary(i), [], raw, 200, "generated", "GET /api/conversations/{conversation_id}", 0.1, [API_KEY]
        )
    results.append(("Journal.record", (time.perf_counter() - began) / count * 1e6))
    return results


def py_spy(seconds: int, variant: str) -> Path | None:
    from . import load, tools

    spy = tools.ensure_py_spy(True, python())
    if spy is None or shutil.which("wrk") is None:
        print("bench.profile: py-spy or wrk missing; live profile skipped")
        return None
    extra = ["--no-request-log"] if "quiet" in variant else []
    fixture = "fixture" in variant
    port = free_port()
    cmd = [python(), "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
    running = start("mock", cmd, PATH + "running", port=port, log=OUT / "logs" / f"profile-{variant}.log")
    raw = OUT / f"profile-{variant}.raw"
    try:
        path = PATH + ("running" if fixture else "bench-")
        wrk = subprocess.Popen(
            pinned(["wrk", "-t1", "-c32", f"-d{seconds + 3}s", "-H", f"{KEY_HEADER}: {API_KEY}", "-s", str(load.LUA),
                    f"http://127.0.0.1:{port}", "--", "fixed" if fixture else "vary", path], 1),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.5)
        subprocess.run(
            pinned([spy, "record", "-p", str(running.pid), "-d", str(seconds), "-r", "200", "-f", "raw",
                    "-o", str(raw)], 1),
            capture_output=True, timeout=seconds + 60,
        )  # fmt: skip
        wrk.wait(timeout=seconds + 30)
    finally:
        running.stop()
    out = OUT / f"profile-{variant}.txt"
    out.write_text(summarize(raw))
    return out


def summarize(raw: Path, top: int = 40) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    lines = [f"{total} samples", "", "inclusive:"]
    lines += [f"{100 * v / total:5.1f}%  {k}" for k, v in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"{100 * v / total:5.1f}%  {k}" for k, v in own.most_common(top)]
    return "\n".join(lines) + "\n"


def _frame(frame: str) -> str:
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 2)[-1]})" if where else name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("--count", type=int, default=20_000, help="requests per in-process measurement")
    p.add_argument("--py-spy", type=int, default=0, metavar="SECONDS", help="also sample live servers for SECONDS")
    p.add_argument("--json", action="store_true", help="print the layer costs as one JSON line")
    args = p.parse_args(argv)
    rows = layers(args.count)
    if args.json:
        print(json.dumps(rows))
    else:
        for label, us in rows:
            print(f"{us:8.1f} µs  {label}")
    if args.py_spy:
        for variant in ("generated", "fixture"):
            out = py_spy(args.py_spy, variant)
            if out is not None:
                print(f"live profile: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
