"""The measurements: throughput rounds, generation cost, contract size, a memory soak, `check` vs Schemathesis, and
`mockserver proxy` against the same upstream straight.

Rules: variants run interleaved (A B C ... A B C ...), each in a fresh process pinned to the server core while the
load generator is pinned to the other; medians over rounds are quoted and ratios are the median of per-round
ratios. A step that cannot run (a tool missing, a command not there yet) is recorded as skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import contracts, load, sharding, tools
from .servers import (
    API_KEY,
    HEADERS,
    HOST,
    KEY_HEADER,
    LOAD_CORE,
    OUT,
    ROOT,
    SERVER_CORE,
    CoreWatch,
    Running,
    ServerError,
    can_pin,
    core_times,
    free_port,
    get,
    journal_total,
    pinned,
    process_ticks,
    python,
    start,
    wait_quiet,
)

BUILTIN_CONTRACT = ROOT / "contracts" / "openhands" / "get-conversation.openapi.yaml"
CONVERSATIONS = "/api/conversations/"
FIXTURE_ID = "running"
CALIBRATION_US = 10  # busy work added to one reference run of the ceiling: what 10 µs per request costs here
LOGS = OUT / "logs"
STATEFUL_GEN = "mock generated, --stateful"
STATEFUL_ITEM = "mock --stateful, a collection's item"
BASELINE = "0934421"  # the commit before the restructuring (issue 8): the request path's "before"


def _log(message: str) -> None:
    print(f"bench: {message}", flush=True)


@dataclass
class Settings:
    seconds: float = 5.0
    warmup: float = 1.0
    rounds: int = 3
    connections: int = 32
    soak: float = 60.0
    load: str = "auto"  # auto | wrk | python
    install: bool = True
    # prism, sizes, soak, check, generation, reference, proxy, shards, large, pathcost
    skip: set[str] = field(default_factory=set)
    check_examples: int = 100
    quiet_wait: float = 10.0  # seconds to wait, before each run, for both cores to be idle (other work on the machine)
    quiet_budget: float = 180.0  # ... and at most this much waiting in the whole run
    repeat_above: float = 0.2  # a run that lost more than this share of the server's core to other work is repeated
    repeats_left: int = 12  # ... at most this many times in the whole run
    sizes: tuple[int, ...] = (50, 500)
    # `check --shard`: a generated contract against the mock at full speed, a smaller one against a slow mock
    shard_operations: int = 1000
    shard_slow_operations: int = 200
    shard_latency_ms: int = 20  # 0: no slow-server variant
    shard_rounds: int = 1  # one round is ~3 min here: the 1,000-operation run alone takes ~40 s
    out: Path = ROOT / "bench" / "RESULTS.md"
    json_out: Path = OUT / "results.json"
    smoke: bool = False
    only: str | None = None  # one section alone (`--only shards`)


@dataclass
class Variant:
    name: str
    cmd: Callable[[int], list[str]]
    probe: str
    path: str
    vary: bool
    env: dict[str, str] = field(default_factory=dict)
    group: str = "main"  # main | reference


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# --- commands ---------------------------------------------------------------------------------------------------


def mock_cmd(*extra: str) -> Callable[[int], list[str]]:
    return lambda port: [python(), "-m", "mockserver", "serve", "--host", HOST, "--port", str(port), *extra]


def ceiling_cmd(access_log: bool) -> Callable[[int], list[str]]:
    logging = ["--access-log", "--log-level", "info"] if access_log else ["--no-access-log", "--log-level", "warning"]
    return lambda port: [
        python(), "-m", "uvicorn", "bench.ceiling:app", "--host", HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--lifespan", "off", "--no-server-header", "--no-date-header",
        *logging,
    ]  # fmt: skip


def proxy_cmd(upstream_port: int) -> Callable[[int], list[str]]:
    upstream = f"http://{HOST}:{upstream_port}"
    return lambda port: [
        python(), "-m", "mockserver", "proxy", "--host", HOST, "--port", str(port), "--upstream", upstream,
    ]  # fmt: skip


def prism_cmd(prism: Path, dynamic: bool) -> Callable[[int], list[str]]:
    flags = ["-d"] if dynamic else []
    return lambda port: [str(prism), "mock", "-h", HOST, "-p", str(port), "-v", "silent", *flags, str(BUILTIN_CONTRACT)]


# --- steps ------------------------------------------------------------------------------------------------------


def _serve(variant: Variant, tag: str) -> Running:
    port = free_port()
    return start(variant.name, variant.cmd(port), variant.probe, port=port, log=LOGS / f"{tag}.log", env=variant.env)


def capture_ceiling_body() -> tuple[Path, int, int]:
    """Serve the mock once, keep one generated body for the ceiling to serve, and note both body sizes."""
    variant = Variant("mock (body capture)", mock_cmd("--no-request-log"), CONVERSATIONS + FIXTURE_ID, "", False)
    running = _serve(variant, "capture")
    try:
        _, fixture = get(running.port, CONVERSATIONS + FIXTURE_ID, HEADERS)
        _, generated = get(running.port, CONVERSATIONS + "bench-1", HEADERS)
    finally:
        running.stop()
    path = OUT / "ceiling-body.json"
    path.write_bytes(generated)
    return path, len(fixture), len(generated)


def throughput(settings: Settings, tool: str, variants: list[Variant]) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {v.name: [] for v in variants}
    for round_ in range(settings.rounds):
        for variant in variants:
            row = _measure(settings, tool, variant, round_)
            # the machine is shared: a run that lost much of the server's core to other work is run again (bounded)
            tries = 1
            while (row.get("foreign_core_share") or 0) > settings.repeat_above and settings.repeats_left > 0:
                settings.repeats_left -= 1
                tries += 1
                again = _measure(settings, tool, variant, round_, tries)
                if (again.get("foreign_core_share") or 0) < (row.get("foreign_core_share") or 0) or "error" in row:
                    row = again
            row["tries"] = tries
            results[variant.name].append(row)
    return results


def _measure(settings: Settings, tool: str, variant: Variant, round_: int, attempt: int = 1) -> dict[str, Any]:
    tag = f"r{round_ + 1}-{re.sub(r'[^A-Za-z0-9]+', '-', variant.name)}" + (f"-try{attempt}" if attempt > 1 else "")
    limit = min(settings.quiet_wait, settings.quiet_budget)
    waited, busy = wait_quiet(limit) if limit > 0 else (0.0, 0.0)
    settings.quiet_budget -= waited
    try:
        running = _serve(variant, tag)
    except ServerError as exc:
        _log(f"round {round_ + 1} {variant.name}: {exc}")
        return {"error": str(exc).splitlines()[0]}
    try:
        if settings.warmup > 0:
            load.run(
                tool,
                running.port,
                variant.path,
                vary=variant.vary,
                seconds=settings.warmup,
                connections=settings.connections,
            )
        watch = CoreWatch(running.pid)
        result = load.run(
            tool,
            running.port,
            variant.path,
            vary=variant.vary,
            seconds=settings.seconds,
            connections=settings.connections,
        )
        foreign = watch.foreign_share()
        cpu_s = watch.own_seconds()
        peak = running.peak_rss_mb()
    finally:
        running.stop()
    _log(
        f"round {round_ + 1}/{settings.rounds} {variant.name:<28} {result.rps:9.0f} req/s  p50 {result.p50_ms:6.2f} ms"
        f"  p99 {result.p99_ms:6.2f} ms  start {running.startup_s:5.2f} s  peak {peak or 0:5.1f} MB"
        + (f"  other work on core 0: {foreign:.0%}" if foreign is not None and foreign >= 0.05 else "")
        + (f"  non-2xx {result.non2xx}" if result.non2xx else "")
        + (f"  errors {result.errors}" if result.errors else "")
        + (f"  (try {attempt})" if attempt > 1 else "")
    )
    return {
        "startup_s": running.startup_s,
        "ready_rss_mb": running.ready_rss_mb,
        "peak_rss_mb": peak,
        "foreign_core_share": foreign,
        # CPU the server spent per answered request: unlike req/s, barely moved by other work on the machine
        "cpu_us_per_request": cpu_s / result.requests * 1e6 if result.requests else None,
        "quiet_wait_s": waited,
        "busy_before": busy,
        **result.as_dict(),
    }


def generation(settings: Settings) -> dict[str, Any]:
    """First request to a new id against a repeated id: over HTTP on a fresh server, and in process with labels."""
    out: dict[str, Any] = {}
    variant = Variant("mock (generation)", mock_cmd("--no-request-log"), CONVERSATIONS + FIXTURE_ID, "", False)
    running = _serve(variant, "generation")
    import http.client

    conn = http.client.HTTPConnection(HOST, running.port, timeout=10)

    def timed(path: str) -> float:
        began = time.perf_counter()
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        return (time.perf_counter() - began) * 1000

    count = 20 if settings.smoke else 200
    try:
        out["http_first_generated_ms"] = timed(CONVERSATIONS + "gen-first")
        news = [timed(f"{CONVERSATIONS}gen-{i}") for i in range(count)]
        repeated = [timed(CONVERSATIONS + "gen-first") for _ in range(count)]
        fixture = [timed(CONVERSATIONS + FIXTURE_ID) for _ in range(count)]
    finally:
        conn.close()
        running.stop()
    out["http_new_id_ms"] = {"median": median(news), "max": max(news), "count": len(news)}
    out["http_repeated_id_ms"] = {"median": median(repeated), "max": max(repeated)}
    out["http_fixture_ms"] = {"median": median(fixture), "max": max(fixture)}
    try:
        out["in_process"] = _generation_in_process(count)
    except Exception as exc:  # the mock's internals move; this part is a bonus, not a reason to fail the bench
        out["in_process"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def _generation_in_process(count: int) -> dict[str, Any]:
    from mockserver.serve.config import Config
    from mockserver.serve.pipeline.core import MockRequest, build_mock

    began = time.perf_counter()
    mock = build_mock(Config(request_log=False))
    build_ms = (time.perf_counter() - began) * 1000
    cache = getattr(mock.generator, "_cache", None)
    headers = {KEY_HEADER.lower(): API_KEY}
    cold: list[float] = []
    warm: list[float] = []
    first = None
    for i in range(count):
        before = len(cache) if cache is not None else 0
        began = time.perf_counter()
        outcome = mock.handle(MockRequest("GET", f"{CONVERSATIONS}new-{i}".encode(), {}, headers, {}, b""))
        elapsed = (time.perf_counter() - began) * 1000
        if outcome.answer.status != 200:
            raise RuntimeError(f"in-process request answered {outcome.answer.status}")
        if first is None:
            first = elapsed
        elif cache is not None and len(cache) > before:
            cold.append(elapsed)
        else:
            warm.append(elapsed)
    repeated = []
    for _ in range(count):
        began = time.perf_counter()
        mock.handle(MockRequest("GET", f"{CONVERSATIONS}new-0".encode(), {}, headers, {}, b""))
        repeated.append((time.perf_counter() - began) * 1000)
    return {
        "build_mock_ms": build_ms,
        "first_ms": first,
        "cold_slot_ms": {"median": median(cold), "max": max(cold) if cold else None, "count": len(cold)},
        "warm_new_id_ms": {"median": median(warm), "count": len(warm)},
        "repeated_id_ms": {"median": median(repeated)},
        "labelled": cache is not None,
    }


def layers(settings: Settings) -> list[tuple[str, float]] | dict[str, str]:
    """Microseconds per request through each layer, in process (bench/profile.py), pinned to the server core."""
    count = 2000 if settings.smoke else 20000
    cmd = [python(), "-m", "bench.profile", "--count", str(count), "--json"]
    done = subprocess.run(pinned(cmd, SERVER_CORE), capture_output=True, text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    for label, us in rows:
        _log(f"in process {us:7.1f} µs  {label}")
    return [(str(label), float(us)) for label, us in rows]


def sizes(settings: Settings) -> dict[str, Any]:
    folder = OUT / "contracts"
    cases: list[tuple[str, int, list[str], str, list[str]]] = [
        ("built-in", 1, [], CONVERSATIONS + "probe", [CONVERSATIONS + "probe"]),
    ]
    for n in settings.sizes:
        written = contracts.write(folder, n)
        cases.append((f"{n} operations", n, [str(written)], contracts.probe(n), contracts.every(n)))
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in cases}
    for round_ in range(settings.rounds):
        for name, n, spec, probe, every in cases:
            variant = Variant(f"mock {name}", mock_cmd(*spec), probe, "", False)
            try:
                running = _serve(variant, f"size-r{round_ + 1}-{n}")
            except ServerError as exc:
                rows[name].append({"error": str(exc).splitlines()[0]})
                _log(f"size {name}: {exc}")
                continue
            try:
                began = time.perf_counter()
                for path in every:
                    status, _ = get(running.port, path, HEADERS)
                    if status != 200:
                        raise RuntimeError(f"{name}: GET {path} answered {status}")
                touched_s = time.perf_counter() - began
                peak = running.peak_rss_mb()
            finally:
                running.stop()
            rows[name].append(
                {"operations": n, "startup_s": running.startup_s, "ready_rss_mb": running.ready_rss_mb,
                 "peak_rss_mb": peak, "touch_all_s": touched_s}
            )  # fmt: skip
            _log(
                f"size round {round_ + 1}/{settings.rounds} {name:<16} start {running.startup_s:5.2f} s  "
                f"ready {running.ready_rss_mb or 0:5.1f} MB  after one request per operation {peak or 0:5.1f} MB"
            )
    return rows


def soak(settings: Settings, tool: str) -> dict[str, Any]:
    variant = Variant("mock soak", mock_cmd(), CONVERSATIONS + "probe", CONVERSATIONS + "soak-", True)
    running = _serve(variant, "soak")
    samples: list[tuple[float, float]] = []
    result: dict[str, Any] = {}

    def drive() -> None:
        try:
            result["load"] = load.run(
                tool, running.port, variant.path, vary=True, seconds=settings.soak, connections=settings.connections
            ).as_dict()
        except Exception as exc:
            result["error"] = str(exc)

    try:
        thread = threading.Thread(target=drive, daemon=True)
        began = time.perf_counter()
        thread.start()
        while thread.is_alive() and time.perf_counter() - began < settings.soak + 60:
            rss = running.rss_mb()
            if rss is not None:
                samples.append((time.perf_counter() - began, rss))
            thread.join(timeout=min(1.0, settings.soak / 8))
        peak = running.peak_rss_mb()
    finally:
        running.stop()
    result["samples"] = [(round(t, 1), round(r, 2)) for t, r in samples]
    result["peak_rss_mb"] = peak
    if len(samples) >= 4:
        values = [r for _, r in samples]
        quarter = max(1, len(values) // 4)
        early = statistics.median(values[quarter : 2 * quarter])  # after warm-up, before the second half
        late = statistics.median(values[-quarter:])
        result.update(early_mb=early, late_mb=late, growth_mb=late - early, min_mb=min(values), max_mb=max(values))
    summary = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items() if k not in ("samples", "load")}
    _log(f"soak {settings.soak:g} s: {json.dumps(summary)}")
    return result


def check_vs_schemathesis(settings: Settings) -> dict[str, Any]:
    help_ = subprocess.run(
        [python(), "-m", "mockserver", "check", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    if help_.returncode != 0:
        return {"skipped": "`mockserver check` is not available yet (`mockserver check --help` failed)"}
    st = shutil.which("st", path=str(Path(python()).parent)) or shutil.which(
        "schemathesis", path=str(Path(python()).parent)
    )
    if st is None:
        return {"skipped": "the Schemathesis CLI (st) is not installed in this environment"}
    try:
        from mockserver.check.conformance import CHECKS

        checks = list(CHECKS)
    except ImportError:
        checks = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
                  "response_schema_conformance", "response_headers_conformance", "ignored_auth"]  # fmt: skip
    # --api-key: the mock then enforces the key, so `ignored_auth` passes and neither tool stops early on a failure
    variant = Variant(
        "mock (check target)", mock_cmd("--no-request-log", "--api-key", API_KEY), CONVERSATIONS + FIXTURE_ID, "", False
    )
    running = _serve(variant, "check-target")
    base = f"http://{HOST}:{running.port}"
    n = str(settings.check_examples)
    commands = {
        "mockserver check": [python(), "-m", "mockserver", "check", base, "--max-examples", n, "--seed", "1",
                             "--api-key", API_KEY, "--no-progress"],
        "schemathesis": [st, "run", str(BUILTIN_CONTRACT), "--url", base, "--checks", ",".join(checks),
                         "--max-examples", n, "--mode", "positive", "--seed", "1",
                         "--phases", "examples,coverage,fuzzing", "--generation-database", "none",
                         "--continue-on-failure", "--header", f"{KEY_HEADER}: {API_KEY}", "--no-color"],
    }  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    try:
        rounds = max(settings.rounds, 5) if not settings.smoke else 1  # a run takes seconds: more rounds, less noise
        for round_ in range(rounds):
            for name, cmd in commands.items():
                before = journal_total(running.port)
                began = time.perf_counter()
                done = subprocess.run(
                    pinned(cmd, LOAD_CORE), capture_output=True, text=True, cwd=ROOT, timeout=900,
                    env={**os.environ, "NO_COLOR": "1"},
                )  # fmt: skip
                elapsed = time.perf_counter() - began
                sent = journal_total(running.port) - before
                (LOGS / f"check-r{round_ + 1}-{name.replace(' ', '-')}.log").write_text(done.stdout + done.stderr)
                runs[name].append({"seconds": elapsed, "exit": done.returncode, "requests": sent})
                _log(
                    f"check round {round_ + 1}/{rounds} {name:<17} {elapsed:6.2f} s  exit {done.returncode}  "
                    f"{sent} requests"
                )
    finally:
        running.stop()
    return {"runs": runs, "checks": checks, "examples": settings.check_examples}


def large_contract(settings: Settings) -> dict[str, Any]:
    """The rich contract (bench/contracts.py, 1,000 operations; 100 in the smoke run) in both modes, a fresh server
    per run: start-up to a 200 on its last GET operation, memory, the first answer of every operation, then the same
    requests again (repeats), side by side per round (bench/fidelity.py)."""
    from mockserver.contract.spec import load_spec

    from . import fidelity

    count = 100 if settings.smoke else 1000
    contract = contracts.write_rich(OUT / "contracts", count)
    spec = load_spec(contract)
    requests, probe = fidelity.requests_for(spec), fidelity.probe_path(spec)
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in fidelity.MODES}
    for round_ in range(settings.rounds):
        for mode in list(fidelity.MODES)[:: 1 if round_ % 2 == 0 else -1]:
            limit = min(settings.quiet_wait, settings.quiet_budget)
            if limit > 0:
                settings.quiet_budget -= wait_quiet(limit)[0]
            try:
                run = fidelity.one_run(contract, mode, requests, round_, probe=probe, repeat=True, log=True)
            except ServerError as exc:
                run = {"mode": mode, "error": str(exc).splitlines()[0]}
            runs[mode].append(run)
            _log(
                f"large contract round {round_ + 1}/{settings.rounds} {mode:<10} "
                + (
                    run["error"]
                    if "error" in run
                    else f"first 200 {run['startup_s']:.2f} s  ready {run['ready_rss_mb'] or 0:.1f} MB  peak "
                    f"{run['peak_rss_mb'] or 0:.1f} MB  first answers p99 {run['p99_ms']:.2f} ms (max "
                    f"{run['max_ms']:.1f})  repeats p99 {run['repeat_p99_ms']:.2f} ms"
                )  # fmt: skip
            )
    return {"operations": count, "contract": str(contract.relative_to(ROOT)), "probe": probe, "runs": runs,
            "refusal": _refusal(settings, contracts.write_broken_rich(OUT / "contracts", count))}  # fmt: skip


def _refusal(settings: Settings, broken: Path) -> dict[str, Any]:
    """How long `mockserver serve --strict` takes to refuse the large contract with a mistake in its last operation
    (exit 2, one line): start-up checks everything, nothing is left to the first request. (Without --strict the
    mistake is a warning and the other operations are served: docs/leniency.md.)"""
    seconds, lines = [], ""
    for _ in range(settings.rounds):
        began = time.perf_counter()
        relative = str(broken.relative_to(ROOT))  # the message names the file as given: no machine path in RESULTS
        command = [python(), "-m", "mockserver", "serve", relative, "--strict", "--port", "0"]
        done = subprocess.run(pinned(command, SERVER_CORE), capture_output=True, text=True, cwd=ROOT, timeout=120)
        seconds.append(time.perf_counter() - began)
        lines = done.stderr.strip()
        if done.returncode != 2:
            return {"error": f"exit {done.returncode}: {lines[-300:]}"}
    _log(f"large contract refused in {statistics.median(seconds):.2f} s: {lines[:160]}")
    return {"seconds": seconds, "message": lines}


def request_path(settings: Settings) -> dict[str, Any]:
    """In process, this tree against the request path before the restructuring (bench/pathcost.py)."""
    from . import pathcost

    baseline = os.environ.get("BENCH_BASELINE", BASELINE)
    try:
        return pathcost.run(baseline, rounds=max(3, settings.rounds), count=10_000, redis=None)
    except (subprocess.CalledProcessError, SystemExit) as exc:  # a shallow clone has no such revision
        return {"skipped": f"baseline {baseline} not measurable: {str(exc).strip()[:300]}"}


class _Watch:
    """CPU of several processes sharing the server core, and the share of that core that went to anything else."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.busy, self.total = core_times(SERVER_CORE)
        self.ticks = sum(process_ticks(pid) for pid in pids)

    def read(self) -> tuple[float, float | None]:
        """(CPU seconds of the processes, foreign share of the core) since the watch started."""
        busy, total = core_times(SERVER_CORE)
        own = sum(process_ticks(pid) for pid in self.pids) - self.ticks
        foreign = max(0.0, (busy - self.busy) - own) / (total - self.total) if total > self.total else None
        return own / os.sysconf("SC_CLK_TCK"), foreign


def _load(settings: Settings, tool: str, port: int, pids: list[int]) -> dict[str, Any]:
    path = CONVERSATIONS + "bench-"
    if settings.warmup > 0:
        load.run(tool, port, path, vary=True, seconds=settings.warmup, connections=settings.connections)
    watch = _Watch(pids)
    result = load.run(tool, port, path, vary=True, seconds=settings.seconds, connections=settings.connections)
    cpu_s, foreign = watch.read()
    return {
        **result.as_dict(),
        "cpu_us_per_request": cpu_s / result.requests * 1e6 if result.requests else None,
        "foreign_core_share": foreign,
    }


def proxy_vs_direct(settings: Settings, tool: str, body: Path) -> dict[str, Any]:
    """Per round and upstream: the upstream alone on the server core, loaded straight, then through `mockserver
    proxy` (default options: request log on, both directions checked) on the same core. Side by side, same run.
    Upstreams: the ceiling app (does nothing: the worst case for the ratio) and, outside the smoke run, `mockserver
    serve` (a Python API server doing some work per request)."""
    upstreams = {
        "ceiling": ("the ceiling app (bench/ceiling.py)", ceiling_cmd(False), {"BENCH_CEILING_BODY": str(body)})
    }
    if not settings.smoke:
        upstreams["mockserver serve"] = ("`mockserver serve --no-request-log`", mock_cmd("--no-request-log"), {})
    out: dict[str, Any] = {name: {"label": label, "rounds": []} for name, (label, _, _) in upstreams.items()}
    for round_ in range(settings.rounds):
        for name, (_, command, env) in upstreams.items():
            limit = min(settings.quiet_wait, settings.quiet_budget)
            if limit > 0:
                settings.quiet_budget -= wait_quiet(limit)[0]
            row = _proxy_round(settings, tool, f"proxy-r{round_ + 1}-{re.sub(r'[^a-z]+', '-', name)}", command, env)
            out[name]["rounds"].append(row)
            direct, through = row.get("direct", {}), row.get("proxy", {})
            if "rps" in direct and "rps" in through:
                ratio = through["rps"] / direct["rps"]
                extra = f", non-2xx {through['non2xx']}" if through["non2xx"] else ""
                _log(f"proxy round {round_ + 1}/{settings.rounds} ({name}): direct {direct['rps']:7.0f} req/s, "
                     f"through the proxy {through['rps']:7.0f} req/s ({ratio:.2f}x), p99 {direct['p99_ms']:.2f} vs "
                     f"{through['p99_ms']:.2f} ms{extra}")  # fmt: skip
    return {"upstreams": out}


def _proxy_round(settings: Settings, tool: str, tag: str, command: Callable[[int], list[str]],
                 env: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    row: dict[str, Any] = {}
    up_port = free_port()
    try:
        upstream = start("upstream", command(up_port), CONVERSATIONS + "probe", port=up_port,
                         log=LOGS / f"{tag}-upstream.log", env=env)  # fmt: skip
    except ServerError as exc:
        return {"error": str(exc).splitlines()[0]}
    try:
        row["direct"] = _load(settings, tool, up_port, [upstream.pid])
        port = free_port()
        try:
            proxy = start("mockserver proxy", proxy_cmd(up_port)(port), CONVERSATIONS + "probe", port=port,
                          log=LOGS / f"{tag}-proxy.log")  # fmt: skip
        except ServerError as exc:
            row["proxy"] = {"error": str(exc).splitlines()[0]}
            return row
        try:
            row["proxy"] = {**_load(settings, tool, port, [proxy.pid, upstream.pid]), "startup_s": proxy.startup_s,
                            "peak_rss_mb": proxy.peak_rss_mb()}  # fmt: skip
        finally:
            proxy.stop()
    finally:
        upstream.stop()
    return row


def shards(settings: Settings) -> dict[str, Any]:
    """4 shards of `check` side by side against one run (bench/sharding.py)."""
    variants = [sharding.Variant("mock at full speed", settings.shard_operations, 0)]
    if settings.shard_latency_ms > 0:
        name = f"slow mock ({settings.shard_latency_ms} ms per answer)"
        variants.append(sharding.Variant(name, settings.shard_slow_operations, settings.shard_latency_ms))
    return sharding.measure(
        variants, settings.shard_rounds, _log, workers=not settings.smoke, quiet_wait=settings.quiet_wait
    )


def only_shards(settings: Settings) -> dict[str, Any]:
    """`python -m bench --only shards`: this section alone, spliced into RESULTS.md in place of its old numbers."""
    from . import report

    LOGS.mkdir(parents=True, exist_ok=True)
    _pin_self()
    data = {"shards": shards(settings), "machine": report.machine()}
    path = settings.json_out.with_name("shards.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    old = settings.out.read_text() if settings.out.exists() else ""
    settings.out.write_text(report.splice(old, report.shards_section(data)))
    _log(f"wrote the shards section of {settings.out} and {path}")
    return data


# --- the run ----------------------------------------------------------------------------------------------------


def choose_tool(settings: Settings) -> tuple[str, str]:
    """(tool, note) where tool is wrk or python."""
    if settings.load == "python":
        return "python", "the Python load generator (bench/load.py), as asked with BENCH_LOAD=python"
    wrk = tools.ensure_wrk(settings.install and not settings.smoke)
    if wrk is not None:
        return "wrk", f"wrk {load.wrk_version()} (one thread, bench/load.lua)"
    if settings.load == "wrk":
        raise SystemExit("bench: BENCH_LOAD=wrk but wrk is missing and could not be installed")
    return "python", "the Python load generator (bench/load.py): wrk is missing and could not be installed"


def variants(settings: Settings, prism: Path | None) -> list[Variant]:
    gen = CONVERSATIONS + "bench-"
    out = [
        Variant("ceiling", ceiling_cmd(False), CONVERSATIONS + "probe", gen, True),
        Variant("mock generated", mock_cmd(), CONVERSATIONS + "probe", gen, True),
        Variant("mock fixture", mock_cmd(), CONVERSATIONS + FIXTURE_ID, CONVERSATIONS + FIXTURE_ID, False),
    ]
    if not settings.smoke:
        out.append(Variant("mock generated, no log", mock_cmd("--no-request-log"), CONVERSATIONS + "probe", gen, True))
        fixture = CONVERSATIONS + FIXTURE_ID
        out.append(Variant("mock fixture, no log", mock_cmd("--no-request-log"), fixture, fixture, False))
        # --stateful: what it adds where the contract has no collection, and reading an item of a collection
        out.append(Variant(STATEFUL_GEN, mock_cmd("--stateful"), CONVERSATIONS + "probe", gen, True))
        contract, fixtures = contracts.write_stateful(OUT / "contracts")
        item = "/things/" + contracts.STATEFUL_ITEM
        command = mock_cmd(str(contract), "--fixtures", str(fixtures), "--stateful")
        out.append(Variant(STATEFUL_ITEM, command, item, item, False))
    if prism is not None:
        out.append(Variant("prism static", prism_cmd(prism, False), CONVERSATIONS + "probe", gen, True))
        out.append(Variant("prism dynamic", prism_cmd(prism, True), CONVERSATIONS + "probe", gen, True))
    if "reference" not in settings.skip:
        out.append(
            Variant("ceiling, access log", ceiling_cmd(True), CONVERSATIONS + "probe", gen, True, {}, "reference")
        )
        work = {"BENCH_CEILING_WORK_US": str(CALIBRATION_US)}
        name = f"ceiling + {CALIBRATION_US} µs of work"
        out.append(Variant(name, ceiling_cmd(False), CONVERSATIONS + "probe", gen, True, work, "reference"))
    return out


def run(settings: Settings) -> dict[str, Any]:
    from . import report

    OUT.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    _pin_self()
    # An installed package ships compiled bytecode; a checkout under PYTHONDONTWRITEBYTECODE=1 would recompile
    # mockserver/ on every start and charge that to the start-up time.
    subprocess.run(
        [python(), "-m", "compileall", "-q", "mockserver", "bench"], cwd=ROOT, capture_output=True, timeout=120
    )
    began = time.time()
    tool, tool_note = choose_tool(settings)
    prism: Path | None = None
    prism_note = "skipped (BENCH_SKIP=prism)"
    if "prism" not in settings.skip:
        prism, prism_note = tools.ensure_prism(settings.install)
        if prism is None:
            _log(f"Prism skipped: {prism_note}")
    body, fixture_size, generated_size = capture_ceiling_body()
    chosen = variants(settings, prism)
    for v in chosen:
        if v.name.startswith("ceiling"):
            v.env = {**v.env, "BENCH_CEILING_BODY": str(body)}
    data: dict[str, Any] = {
        "settings": {
            k: (sorted(v) if isinstance(v, set) else str(v) if isinstance(v, Path) else v)
            for k, v in vars(settings).items()
        },
        "machine": report.machine(),
        "tool": tool,
        "tool_note": tool_note,
        "prism": prism_note if prism is None else f"@stoplight/prism-cli {prism_note}",
        "body_sizes": {"fixture": fixture_size, "generated": generated_size, "ceiling": body.stat().st_size},
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(began)),
        "loadavg_before": _loadavg(),
    }
    _log(f"load generator: {tool_note}; {settings.rounds} rounds of {settings.seconds:g} s per variant")
    data["throughput"] = throughput(settings, tool, chosen)
    data["groups"] = {v.name: v.group for v in chosen}
    if "layers" not in settings.skip:
        data["layers"] = layers(settings)
    if "generation" not in settings.skip:
        data["generation"] = generation(settings)
    if "sizes" not in settings.skip:
        data["sizes"] = sizes(settings)
    if "large" not in settings.skip:
        data["large"] = large_contract(settings)
    if "soak" not in settings.skip and settings.soak > 0:
        data["soak"] = soak(settings, tool)
    if "proxy" not in settings.skip:
        data["proxy"] = proxy_vs_direct(settings, tool, body)
    else:
        data["proxy"] = {"skipped": "BENCH_SKIP=proxy"}
    if "pathcost" not in settings.skip:
        data["pathcost"] = request_path(settings)
    else:
        data["pathcost"] = {"skipped": "BENCH_SKIP=pathcost" if not settings.smoke else "not in the smoke run"}
    if "check" not in settings.skip:
        data["check"] = check_vs_schemathesis(settings)
    else:
        data["check"] = {"skipped": "BENCH_SKIP=check"}
    data["shards"] = shards(settings) if "shards" not in settings.skip else {"skipped": "BENCH_SKIP=shards"}
    data["loadavg_after"] = _loadavg()
    data["elapsed_s"] = time.time() - began
    settings.json_out.parent.mkdir(parents=True, exist_ok=True)
    settings.json_out.write_text(json.dumps(data, indent=1))
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    settings.out.write_text(report.render(data))
    _log(f"wrote {settings.out} and {settings.json_out} in {data['elapsed_s']:.0f} s")
    return data


def _pin_self() -> None:
    """The harness itself (probes, RSS sampling) stays off the server's core."""
    if can_pin() and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {LOAD_CORE})
        except OSError:
            pass


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"
