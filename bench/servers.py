"""The processes under test: start one pinned to a core, time process start -> first 200, read its memory, stop it.

Rules: every server is our own child, started in its own session and stopped by its pid (SIGTERM, then SIGKILL);
every wait is bounded. Only 127.0.0.1 is ever contacted. Memory comes from /proc/PID/status (VmHWM = peak RSS).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
CACHE = BENCH / ".cache"
HOST = "127.0.0.1"
API_KEY = "bench-key"
KEY_HEADER = "X-Session-API-Key"
HEADERS = {KEY_HEADER: API_KEY}
SERVER_CORE = 0
LOAD_CORE = 1
POLL = 0.005  # seconds between start-up probes: the resolution of "time to first 200"


class ServerError(Exception):
    pass


def can_pin() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(cmd: list[str], core: int | None) -> list[str]:
    if core is None or not can_pin():
        return cmd
    return ["taskset", "-c", str(core), *cmd]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def journal_total(port: int) -> int:
    """How many requests a mock's journal has counted (-1 when it cannot say)."""
    try:
        status, body = get(port, "/__mock/requests?limit=0")
        return int(json.loads(body)["total"]) if status == 200 else -1
    except (OSError, ValueError, KeyError):
        return -1


def proc_status(pid: int, field: str) -> float | None:
    """A `Vm*` line of /proc/PID/status in MB (10^6 bytes), or None where /proc is missing or the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024 / 1e6  # the kernel's kB are KiB
    except OSError:
        return None
    return None


@dataclass
class Running:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    startup_s: float
    ready_rss_mb: float | None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def peak_rss_mb(self) -> float | None:
        return proc_status(self.pid, "VmHWM")

    def rss_mb(self) -> float | None:
        return proc_status(self.pid, "VmRSS")

    def stop(self) -> None:
        stop(self.proc)


def stop(proc: subprocess.Popen[bytes], grace: float = 5) -> None:
    """SIGTERM (a mockserver prints its summary and writes what it holds), then SIGKILL after `grace` seconds; its
    pid only."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(
    name: str,
    cmd: list[str],
    probe: str,
    *,
    port: int,
    log: Path,
    env: dict[str, str] | None = None,
    core: int | None = SERVER_CORE,
    timeout: float = 60.0,
) -> Running:
    """Start `cmd` and wait for a 200 on `probe`; the clock runs from just before the fork to that 200."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(
            pinned(cmd, core), stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )  # fmt: skip
    deadline = started + timeout
    while True:
        if proc.poll() is not None:
            raise ServerError(f"{name} exited with {proc.returncode} before answering:\n{_tail(log)}")
        try:
            status, _ = get(port, probe, HEADERS, timeout=2.0)
        except (OSError, http.client.HTTPException):
            status = 0
        if status == 200:
            elapsed = time.perf_counter() - started
            return Running(name, proc, port, log, elapsed, proc_status(proc.pid, "VmRSS"))
        if status not in (0, 503):  # bound but answering something else: the probe or the command is wrong
            stop(proc)
            raise ServerError(f"{name} answered {status} to GET {probe}:\n{_tail(log)}")
        if time.perf_counter() > deadline:
            stop(proc)
            raise ServerError(f"{name} gave no 200 within {timeout:.0f} s:\n{_tail(log)}")
        time.sleep(POLL)


def python() -> str:
    return sys.executable


# --- contention: the servers' core is pinned for us, not reserved; other processes can still run on it ----------


def core_times(core: int) -> tuple[int, int]:
    """(busy, total) clock ticks of one core from /proc/stat; busy includes irq, softirq and steal."""
    try:
        with open("/proc/stat") as stat:
            for line in stat:
                if line.startswith(f"cpu{core} "):
                    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in line.split()[1:9])
                    busy = user + nice + system + irq + softirq + steal
                    return busy, busy + idle + iowait
    except (OSError, ValueError):
        pass
    return 0, 0


def process_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


class CoreWatch:
    """How much of the server's core went to anything but the server while a measurement ran."""

    def __init__(self, pid: int, core: int = SERVER_CORE) -> None:
        self.pid, self.core = pid, core
        self.busy, self.total = core_times(core)
        self.own = process_ticks(pid)

    def own_seconds(self) -> float:
        """CPU seconds the process used since the watch started."""
        return (process_ticks(self.pid) - self.own) / os.sysconf("SC_CLK_TCK")

    def foreign_share(self) -> float | None:
        busy, total = core_times(self.core)
        own = process_ticks(self.pid)
        if total <= self.total:
            return None
        return max(0.0, (busy - self.busy) - (own - self.own)) / (total - self.total)


def wait_quiet(limit: float, threshold: float = 0.15) -> tuple[float, float]:
    """Wait (at most `limit` s) until both cores are below `threshold` busy over half a second.

    Returns (seconds waited, the last busy share seen on the busier core)."""
    began = time.perf_counter()
    share = 1.0
    while True:
        before = [core_times(c) for c in (SERVER_CORE, LOAD_CORE)]
        time.sleep(0.5)
        after = [core_times(c) for c in (SERVER_CORE, LOAD_CORE)]
        shares = [(b1 - b0) / (t1 - t0) if t1 > t0 else 0.0 for (b0, t0), (b1, t1) in zip(before, after, strict=True)]
        share = max(shares)
        waited = time.perf_counter() - began
        if share < threshold or waited >= limit:
            return waited, share
