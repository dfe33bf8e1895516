"""`python -m bench.fidelity`: the first answer of every operation of the 1,000-operation rich contract, in readable
mode and with --edge-cases, side by side (issue 9: p99 of a first answer <= 100 ms with --edge-cases).

Each round starts a fresh server per mode (nothing cached), pinned to the server core, and sends one valid request
to each operation in a shuffled order, one at a time, timing it on the client from send to last byte. The modes run
interleaved in every round; the summary gives the median over rounds of each percentile and the ratio of edge-case
to readable p99 per round (the machine is shared: the ratio is the number to trust). Every answer is also checked:
its status is documented, and every header value is a valid HTTP field value. Writes bench/out/fidelity.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from mockserver.contract.schemas import REQUEST
from mockserver.contract.spec import Operation, Spec, load_spec
from mockserver.serve.data.generation import Generator
from mockserver.serve.data.realism import valid_field_value

from .contracts import write_rich
from .servers import HOST, OUT, CoreWatch, free_port, python, start

MODES = {"readable": [], "edge-cases": ["--edge-cases"]}


def requests_for(spec: Spec) -> list[tuple[Operation, str, bytes, dict[str, str]]]:
    """One valid request per operation: path parameters and body generated from their request views."""
    generator = Generator(spec.schemas, seed=1)
    out = []
    for op in spec.operations:
        path = op.path
        for param in op.parameters:
            if param.location == "path":
                value = generator.value(f"{op.key}|{param.name}", spec.schemas.view(param.schema, REQUEST), 0)
                path = path.replace("{" + param.name + "}", quote(str(value), safe=""))
        body, headers = b"", {}
        if op.bodies:
            media, obj = next(iter(op.bodies.items()))
            value = generator.value(f"{op.key}|body", spec.schemas.view(obj.schema, REQUEST), 0) if obj.schema else {}
            if "json" in media:
                body = json.dumps(value).encode()
            elif media == "application/x-www-form-urlencoded":
                body = urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in value.items()}).encode()
            headers["Content-Type"] = media
        out.append((op, path, body, headers))
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def probe_path(spec: Spec) -> str:
    """A GET of the last operation that has one (what a server that compiles lazily would reach last), with its
    path parameters filled in: the start-up probe."""
    op = next(o for o in reversed(spec.operations) if o.method == "GET")
    return re.sub(r"{[^}]+}", "probe", op.path)


def one_run(contract: Path, mode: str, requests: list[tuple[Operation, str, bytes, dict[str, str]]], seed: int,
            pythonpath: str | None = None, probe: str = "/__mock/health", repeat: bool = False,
            log: bool = False) -> dict[str, Any]:  # fmt: skip
    """A fresh server, one request to each operation (in an order drawn from `seed`), timed one at a time; with
    `repeat`, each again (the same requests: what a repeat costs). Start-up is timed to a 200 on `probe`."""
    port = free_port()
    isolated = ["-P"] if pythonpath else []  # (3.11+) not the working directory first: PYTHONPATH's checkout
    cmd = [python(), *isolated, "-m", "mockserver", "serve", str(contract), "--port", str(port),
           *([] if log else ["--no-request-log"]), *MODES[mode]]  # fmt: skip
    env = {"PYTHONPATH": pythonpath} if pythonpath else None
    server = start(f"mock-{mode}", cmd, probe, port=port, log=OUT / "logs" / f"fidelity-{mode}.log",
                   env=env, timeout=120)  # fmt: skip
    order = list(requests)
    random.Random(seed).shuffle(order)
    undocumented, bad_headers, examples = [], 0, []
    statuses: dict[str, int] = {}
    passes: list[list[float]] = []
    watch = CoreWatch(server.pid)
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        for first in [True, False] if repeat else [True]:
            latencies: list[float] = []
            for op, path, body, headers in order:
                began = time.perf_counter()
                conn.request(op.method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                response.read()
                latencies.append((time.perf_counter() - began) * 1000)
                if not first:
                    continue
                statuses[f"{response.status // 100}xx"] = statuses.get(f"{response.status // 100}xx", 0) + 1
                if op.response_for(response.status) is None:
                    undocumented.append(f"{op.key}: {response.status}")
                for name, value in response.getheaders():
                    if not valid_field_value(value) and name.lower() != "access-control-expose-headers":
                        bad_headers += 1
                        examples.append(f"{op.key} {name}: {value[:80]!r}")
            passes.append(latencies)
        conn.close()
        foreign = watch.foreign_share()
        peak = server.peak_rss_mb()
    finally:
        server.stop()
    latencies = passes[0]
    out = {
        "mode": mode, "startup_s": round(server.startup_s, 3), "requests": len(latencies),
        "p50_ms": round(_percentile(latencies, 0.50), 2), "p90_ms": round(_percentile(latencies, 0.90), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2), "max_ms": round(max(latencies), 2),
        "over_100ms": sum(1 for v in latencies if v > 100), "statuses": statuses, "undocumented": undocumented[:10],
        "undocumented_count": len(undocumented), "bad_header_values": bad_headers, "bad_examples": examples[:5],
        "foreign_share": round(foreign, 3) if foreign is not None else None,
        "ready_rss_mb": server.ready_rss_mb, "peak_rss_mb": peak,
    }  # fmt: skip
    if repeat:
        again = passes[1]
        out.update(repeat_p50_ms=round(_percentile(again, 0.50), 2), repeat_p99_ms=round(_percentile(again, 0.99), 2),
                   repeat_max_ms=round(max(again), 2))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fidelity", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--operations", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=OUT / "fidelity.json")
    parser.add_argument("--pythonpath", help="serve from another checkout (PYTHONPATH of the server), e.g. main's")
    args = parser.parse_args(argv)
    contract = write_rich(OUT / "contracts", args.operations)
    requests = requests_for(load_spec(contract))
    runs: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        for mode in MODES if round_ % 2 == 0 else reversed(list(MODES)):
            run = one_run(contract, mode, requests, round_, args.pythonpath)
            run["round"] = round_
            runs.append(run)
            print(json.dumps(run), flush=True)
    summary: dict[str, Any] = {"operations": args.operations, "rounds": args.rounds, "runs": runs}
    for mode in MODES:
        mine = [r for r in runs if r["mode"] == mode]
        summary[mode] = {k: statistics.median(r[k] for r in mine) for k in
                         ("startup_s", "p50_ms", "p90_ms", "p99_ms", "max_ms", "over_100ms")}  # fmt: skip
        summary[mode]["undocumented"] = sum(r["undocumented_count"] for r in mine)
        summary[mode]["bad_header_values"] = sum(r["bad_header_values"] for r in mine)
    edge = [r for r in runs if r["mode"] == "edge-cases"]
    readable = [r for r in runs if r["mode"] == "readable"]
    ratios = [e["p99_ms"] / r["p99_ms"] for e, r in zip(edge, readable, strict=True)]
    summary["edge_over_readable_p99"] = round(statistics.median(ratios), 2)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))
    print("\n| mode | start-up s | p50 ms | p90 ms | p99 ms | max ms | > 100 ms | undocumented | bad header values |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in MODES:
        s = summary[mode]
        print(f"| {mode} | {s['startup_s']:.2f} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | {s['p99_ms']:.2f} | "
              f"{s['max_ms']:.1f} | {s['over_100ms']} | {s['undocumented']} | {s['bad_header_values']} |")  # fmt: skip
    print(f"\nedge-cases / readable p99, median of per-round ratios: {summary['edge_over_readable_p99']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
