"""`check --shard`: four shards run side by side on this machine against one unsharded run (and one run with
`--workers 4`), against the mock serving a generated contract; and whether the merged report says what the
unsharded run says.

Rules: every process here is unpinned (the harness pins itself to one core; its children are given every core back),
because the question is what this whole machine does with 4 shards. Each variant gets a fresh mock; the one run, the
4 shards and the `--workers` run take turns within a round, and ratios are per round. The client's and the server's
CPU seconds are read for every run (children's rusage, /proc/PID/stat), so the report can say which side is busy.
Only 127.0.0.1 is contacted; the mock and every check process are stopped before the step returns.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import contracts
from .servers import (
    API_KEY,
    HOST,
    OUT,
    ServerError,
    can_pin,
    free_port,
    journal_total,
    process_ticks,
    python,
    start,
    wait_quiet,
)

SHARDS = 4
SEED = "1"
TAMPER_EVERY = 40  # every 40th operation promises a state the mock never sends: findings to compare


@dataclass
class Variant:
    name: str
    operations: int
    latency_ms: int  # 0: the mock answers at full speed


def documents(operations: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The contract the mock serves, and the one `check` gets: the same, except that every `TAMPER_EVERY`th
    operation (from the 4th) only allows state "GONE", which the mock never sends."""
    served = contracts.contract(operations)
    checked = json.loads(json.dumps(served))
    for i in range(3, operations, TAMPER_EVERY):
        checked["components"]["schemas"][f"Resource{i}"]["properties"]["state"]["enum"] = ["GONE"]
    return served, checked


def cases(path: Path) -> list[tuple[str, str, tuple[tuple[str, str, str], ...]]]:
    """(operation, check, failures) of every test case of a JUnit file, sorted: what "the same report" means."""
    found = []
    for case in ET.parse(path).getroot().iter("testcase"):
        failures = tuple((f.get("type", ""), f.get("message", ""), f.text or "") for f in case.findall("failure"))
        found.append((case.get("classname", ""), case.get("name", ""), failures))
    return sorted(found)


def _everywhere(cmd: list[str]) -> list[str]:
    """Undo the harness's own pinning for a child: every core."""
    if not can_pin():
        return cmd
    return ["taskset", "-c", f"0-{(os.cpu_count() or 1) - 1}", *cmd]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _run(commands: list[list[str]], server_pid: int, port: int, folder: Path) -> dict[str, Any]:
    """Run `commands` side by side to the end: wall time, CPU of the clients and of the server, requests, exits."""
    ticks, client, sent = process_ticks(server_pid), _children_cpu(), journal_total(port)
    env = {**os.environ, "MOCKSERVER_API_KEY": API_KEY, "NO_COLOR": "1"}
    began = time.perf_counter()
    running = [
        subprocess.Popen(
            _everywhere(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=folder
        )  # fmt: skip
        for cmd in commands
    ]
    try:
        outputs = [proc.communicate(timeout=1800)[0] for proc in running]
    finally:
        for proc in running:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    wall = time.perf_counter() - began
    return {
        "seconds": wall,
        "client_cpu_s": _children_cpu() - client,
        "server_cpu_s": (process_ticks(server_pid) - ticks) / os.sysconf("SC_CLK_TCK"),
        "requests": journal_total(port) - sent,
        "exits": [proc.returncode for proc in running],
        "tails": [out.strip().splitlines()[-1] if out.strip() else "" for out in outputs],
    }


def measure(
    variants: list[Variant], rounds: int, log: Any, workers: bool = True, quiet_wait: float = 0.0
) -> dict[str, Any]:
    """Each variant: a fresh mock, then per round one run, the shards side by side and (with `workers`) one run
    with `--workers 4`; in the first round, the merged shards compared with the one run. Before each step, up to
    `quiet_wait` seconds for other work on the machine to calm down; what was left of it is recorded."""
    from mockserver.check import merge

    folder = OUT / "shards"
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"shards": SHARDS, "seed": SEED, "cores": os.cpu_count(), "rounds": rounds,
                               "started": time.strftime("%Y-%m-%d %H:%M %Z"), "variants": {}}  # fmt: skip
    for variant in variants:
        served, checked = documents(variant.operations)
        served_path = folder / f"served-{variant.operations}.json"
        checked_path = folder / f"checked-{variant.operations}.json"
        served_path.write_text(json.dumps(served))
        checked_path.write_text(json.dumps(checked))
        port = free_port()
        extra = ["--latency", str(variant.latency_ms)] if variant.latency_ms else []
        cmd = [python(), "-m", "mockserver", "serve", str(served_path), "--host", HOST, "--port", str(port),
               "--no-request-log", "--api-key", API_KEY, *extra]  # fmt: skip
        try:
            mock = start(f"mock, {variant.name}", _everywhere(cmd), contracts.probe(variant.operations), port=port,
                         log=OUT / "logs" / f"shards-{variant.operations}.log", core=None)  # fmt: skip
        except ServerError as exc:
            results["variants"][variant.name] = {"error": str(exc).splitlines()[0]}
            continue
        base = f"http://{HOST}:{port}"
        check = [python(), "-m", "mockserver", "check", base, "--spec", str(checked_path), "--seed", SEED,
                 "--max-examples", "1", "--no-progress"]  # fmt: skip
        rows: dict[str, list[dict[str, Any]]] = {"one run": [], f"{SHARDS} shards": [], "--workers 4": []}
        verified: dict[str, Any] = {}
        try:
            for round_ in range(rounds):
                whole = folder / "whole.xml"
                parts = [folder / f"shard-{i}.xml" for i in range(1, SHARDS + 1)]
                steps = {
                    "one run": [[*check, "--junit-xml", str(whole)]],
                    f"{SHARDS} shards": [
                        [*check, "--shard", f"{i}/{SHARDS}", "--junit-xml", str(part)]
                        for i, part in enumerate(parts, start=1)
                    ],
                    "--workers 4": [[*check, "--workers", "4"]] if workers else [],
                }
                for name, commands in steps.items():
                    if not commands:
                        continue
                    waited, busy = wait_quiet(quiet_wait) if quiet_wait > 0 else (0.0, None)
                    row = _run(commands, mock.pid, port, folder)
                    row.update(quiet_wait_s=waited, busy_before=busy, loadavg_after=_loadavg())
                    rows[name].append(row)
                    log(
                        f"shards {variant.name}: round {round_ + 1}/{rounds} {name:<10} {row['seconds']:7.1f} s  "
                        f"client CPU {row['client_cpu_s']:6.1f} s  server CPU {row['server_cpu_s']:6.1f} s  "
                        f"{row['requests']} requests  exits {row['exits']}"
                    )
                if round_ == 0:
                    merged = folder / "merged.xml"
                    began = time.perf_counter()
                    code, _ = merge.main(str(merged), [str(p) for p in parts])
                    verified = {
                        "merge_s": time.perf_counter() - began,
                        "merged_exit": code,
                        "one_run_exit": rows["one run"][0]["exits"][0],
                        "identical": cases(merged) == cases(whole),
                        "test_cases": len(cases(merged)),
                        "findings": sum(len(f) for *_, f in cases(merged)),
                        "shard_sizes": [
                            int(p.get("value", 0))
                            for part in parts
                            for p in ET.parse(part).getroot().iter("property")
                            if p.get("name") == "operations"
                        ],
                    }
                    log(f"shards {variant.name}: merged == one run: {verified['identical']} {verified}")
        finally:
            mock.stop()
        results["variants"][variant.name] = {
            "operations": variant.operations,
            "latency_ms": variant.latency_ms,
            "runs": rows,
            "verified": verified,
        }
    return results


def ratio(rows: dict[str, list[dict[str, Any]]], name: str, base: str = "one run") -> float | None:
    pairs = [b["seconds"] / a["seconds"] for a, b in zip(rows[base], rows[name], strict=False) if a["seconds"] > 0]
    return statistics.median(pairs) if pairs else None


def bottleneck(row: dict[str, Any], latency_ms: int) -> str:
    """Which side one unsharded run waits on: CPU each side used, and (against a slow mock) the time spent waiting
    for its answers, each as a share of the run's wall time. One `check` process sends one request at a time, so
    client CPU, server CPU and answer waits take turns; what is left of the wall time, neither was on a CPU."""
    wall = row["seconds"]
    client, server = row["client_cpu_s"], row["server_cpu_s"]
    waiting = row["requests"] * latency_ms / 1000 if latency_ms else 0.0
    idle = max(0.0, 1 - (client + server + waiting) / wall)
    rest = f"; for {idle:.0%} of the wall time neither was on a CPU (other work on the machine)" if idle > 0.1 else ""
    if waiting > max(client, server):
        return (f"the server: {waiting / wall:.0%} of the run went to waiting for answers of at least {latency_ms} ms, "
                f"{client / wall:.0%} to the client's CPU, {server / wall:.0%} to the mock's{rest}")  # fmt: skip
    side = "the client" if client >= server else "the server"
    return (f"{side}: the `check` process used {client:.1f} s of CPU, the mock {server:.1f} s, in {wall:.1f} s"
            f"{rest}")  # fmt: skip


def floor_ratio(one: dict[str, Any], sharded: dict[str, Any], shards: int, cores: int, latency_ms: int) -> float:
    """What the CPU seconds (and answer waits) alone allow the shards against one run on an otherwise idle machine.
    Within one `check` process the client's CPU, the mock's CPU and the answer waits take turns (one request at a
    time); the shards' processes overlap, but share the cores."""
    wait = latency_ms / 1000

    def alone(row: dict[str, Any], jobs: int) -> float:
        cpu = row["client_cpu_s"] + row["server_cpu_s"]
        return max(cpu / cores, (cpu + row["requests"] * wait) / jobs)

    return alone(sharded, shards) / alone(one, 1)
