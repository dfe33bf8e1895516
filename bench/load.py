"""Load generators: `wrk` (preferred) and a small asyncio fallback with the same interface; both closed-loop.

Rules: every run is bounded by a duration and, for the fallback, a request count; the generator runs pinned to the
load core; a run reports requests/s, p50/p99 latency, non-2xx answers and socket errors, never silently drops them.
`python -m bench.load URL ...` runs the fallback on its own and prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from .servers import BENCH, HEADERS, HOST, LOAD_CORE, pinned, python

LUA = BENCH / "load.lua"
MAX_REQUESTS = 2_000_000  # the fallback's hard cap per run, whatever the duration


@dataclass
class LoadResult:
    tool: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    errors: int
    bytes_per_response: float
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def wrk_version() -> str | None:
    path = shutil.which("wrk")
    if path is None:
        return None
    out = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=10)
    match = re.search(r"wrk\s+(\S+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


def run(
    tool: str, port: int, path: str, *, vary: bool, seconds: float, connections: int, threads: int = 1
) -> LoadResult:
    """GET `path` (or `path` + a new number per request when `vary`) on 127.0.0.1:port for `seconds`."""
    if tool == "wrk":
        return _wrk(port, path, vary, seconds, connections, threads)
    return _fallback(port, path, vary, seconds, connections)


# --- wrk ------------------------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_SIZES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def _wrk(port: int, path: str, vary: bool, seconds: float, connections: int, threads: int) -> LoadResult:
    duration = max(1, round(seconds))
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s",
        *(arg for k, v in HEADERS.items() for arg in ("-H", f"{k}: {v}")),
        "-s", str(LUA), f"http://{HOST}:{port}", "--", "vary" if vary else "fixed", path,
    ]  # fmt: skip
    out = subprocess.run(pinned(cmd, LOAD_CORE), capture_output=True, text=True, timeout=duration + 30)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip()[:500]}")
    return parse_wrk(out.stdout)


def _latency(text: str, label: str) -> float:
    match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    if not match:
        raise RuntimeError(f"no {label}% latency in wrk output:\n{text}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(text: str) -> LoadResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)(B|KB|MB|GB) read", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not total or not rps:
        raise RuntimeError(f"cannot read wrk output:\n{text}")
    requests = int(total.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = sum(int(g) for g in sockets.groups()) if sockets else 0
    read = float(total.group(4)) * _SIZES[total.group(5)]
    return LoadResult(
        tool="wrk",
        rps=float(rps.group(1)),
        p50_ms=_latency(text, "50"),
        p99_ms=_latency(text, "99"),
        requests=requests,
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        errors=errors,
        bytes_per_response=read / requests if requests else 0.0,
        seconds=float(total.group(2)) * _UNITS[total.group(3)] / 1000,
    )


# --- the fallback ---------------------------------------------------------------------------------------------


def _fallback(port: int, path: str, vary: bool, seconds: float, connections: int) -> LoadResult:
    cmd = [python(), "-m", "bench.load", str(port), path, "--seconds", str(seconds), "--connections", str(connections)]
    if vary:
        cmd.append("--vary")
    out = subprocess.run(pinned(cmd, LOAD_CORE), capture_output=True, text=True, timeout=seconds + 60, cwd=BENCH.parent)
    if out.returncode != 0:
        raise RuntimeError(f"the Python load generator failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    return LoadResult(**json.loads(out.stdout.strip().splitlines()[-1]))


class _Counts:
    def __init__(self) -> None:
        self.next_id = 0
        self.done = 0
        self.non2xx = 0
        self.errors = 0
        self.bytes = 0


async def _connection(
    port: int, path: str, vary: bool, deadline: float, counts: _Counts, latencies: list[float]
) -> None:
    extra = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.perf_counter() < deadline and counts.done < MAX_REQUESTS:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                counts.errors += 1
                await asyncio.sleep(0.01)
                continue
        assert reader is not None
        counts.next_id += 1
        target = f"{path}{counts.next_id}" if vary else path
        request = f"GET {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{extra}\r\n".encode()
        began = time.perf_counter()
        try:
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            body = await asyncio.wait_for(reader.readexactly(int(length.group(1))), 5) if length else b""
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            counts.errors += 1
            writer.close()
            reader = writer = None
            continue
        ended = time.perf_counter()
        if ended > deadline:
            break
        latencies.append(ended - began)
        counts.done += 1
        counts.bytes += len(head) + len(body)
        if not head[9:10] == b"2":
            counts.non2xx += 1
    if writer is not None:
        writer.close()


async def _main(port: int, path: str, vary: bool, seconds: float, connections: int) -> LoadResult:
    counts, latencies = _Counts(), []  # type: ignore[var-annotated]
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(_connection(port, path, vary, deadline, counts, latencies) for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0

    return LoadResult(
        tool="python",
        rps=counts.done / elapsed,
        p50_ms=pick(0.50),
        p99_ms=pick(0.99),
        requests=counts.done,
        non2xx=counts.non2xx,
        errors=counts.errors,
        bytes_per_response=counts.bytes / counts.done if counts.done else 0.0,
        seconds=elapsed,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description="closed-loop HTTP/1.1 GET load on 127.0.0.1"
    )
    parser.add_argument("port", type=int)
    parser.add_argument("path")
    parser.add_argument("--vary", action="store_true", help="append a new number to the path on every request")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(_main(args.port, args.path, args.vary, min(args.seconds, 600.0), args.connections))
    print(json.dumps(result.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
