"""Constants and helpers shared by test modules (fixtures live in conftest.py): the one way to start the real CLI
(`serve`, `run_cli`), an app on a loopback port in a thread (`Served`), `free_port`, and `stop`.

Rules: every wait has a deadline, every started process or server is stopped in a `finally`, and traffic goes to
127.0.0.1 only.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parent.parent
SHOP = str(ROOT / "tests" / "contracts" / "shop.openapi.yaml")
CONVERSATIONS = str(ROOT / "tests" / "contracts" / "conversations.openapi.yaml")  # the OpenHands shape, 5 operations
CONVERSATIONS_FIXTURES = str(ROOT / "tests" / "contracts" / "conversations-fixtures")
KEY_HEADER = "X-Session-API-Key"
CONVERSATION = "/api/conversations/"
# Every wait here is a guard against a hang, never a speed bound: on a busy 2-core machine (a CPU hog beside the
# suite) a start, a reload or a clean shutdown can take many times what it takes on a quiet one.
HANG_S = 60.0
# The robustness suite's counts (tests/robustness/support.py `report`), one line per measured fact, printed at the end
# of the run by tests/conftest.py. Kept here, in a module always imported as `tests.support`: a test module's relative
# `.support` and an absolute import would otherwise be two modules with two lists.
COUNTS: list[str] = []


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C first (the server's own clean shutdown), then kill: a test never leaves a server behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=HANG_S / 2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def cli() -> list[str]:
    script = Path(sys.executable).with_name("mockserver")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mockserver"]


# --- the real CLI ----------------------------------------------------------------------------------------------


class Output(threading.Thread):
    """Drains a pipe into memory (so the child never blocks on a full pipe) and signals the start-up banner."""

    BANNER = re.compile(r"mockserver: serving .* on http://(\S+):(\d+)")

    def __init__(self, stream: Any) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []
        self.banner: re.Match[str] | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line)
            if self.banner is None:
                self.banner = self.BANNER.search(line)
                if self.banner:
                    self.ready.set()
        self.ready.set()  # end of stream: the process is gone

    def text(self) -> str:
        return "".join(self.lines)


@dataclass
class Server:
    process: subprocess.Popen[str]
    host: str
    port: int
    stdout: Output
    stderr: Output
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def output(self) -> str:
        return self.stdout.text() + self.stderr.text()

    def rss_kib(self) -> int:
        """Resident memory of the server process, from /proc (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert found, status
        return int(found.group(1))


@contextmanager
def serve(
    *args: str, env: dict[str, str] | None = None, timeout: float = HANG_S, subcommand: str = "serve"
) -> Iterator[Server]:
    """`mockserver serve ARGS --port 0` (or `proxy`) as a subprocess; yields once it listens; always stops it."""
    command = [*cli(), subcommand, *args, "--port", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
        env={**os.environ, **(env or {})}, cwd=ROOT,
    )  # fmt: skip
    out, err = Output(process.stdout), Output(process.stderr)
    out.start()
    err.start()
    try:
        err.ready.wait(timeout)
        if err.banner is None:
            raise AssertionError(f"server did not start within {timeout} s: {' '.join(command)}\n{err.text()}")
        yield Server(process, err.banner.group(1), int(err.banner.group(2)), out, err, list(args))
    finally:
        stop(process)
        out.join(10)
        err.join(10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def run_cli(
    *args: str, timeout: float = HANG_S, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Runs the CLI to completion; returns the result and its wall time (the process is killed on timeout)."""
    start = time.monotonic()
    result = subprocess.run(
        [*cli(), *args], capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout,
        cwd=cwd or ROOT, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return result, time.monotonic() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], object], seconds: float, what: str = "") -> float:
    """Polls `check` until it is true and returns how long that took; fails at the deadline (a hang guard): `seconds`,
    or HANG_S if longer, so that a loaded machine never fails a wait that a quiet one passes in `seconds`."""
    seconds = max(seconds, HANG_S)
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > seconds:
            raise AssertionError(f"{what or 'the condition'} not within {seconds} s")
        time.sleep(0.01)
    return time.monotonic() - began


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Served:
    """A uvicorn server on a free loopback port, in a thread of this process; always stopped."""

    def __init__(self, app: object) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="on", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + HANG_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        if self.thread.is_alive():  # a handler still sleeping: force it
            self.server.force_exit = True
            self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# --- generated contracts ------------------------------------------------------------------------------------------


def rich_contract(operations: int = 1000) -> Path:
    """bench/contracts.py's rich contract of `operations` operations, as a JSON file in bench/out/contracts/ (ignored by
    git). JSON because YAML's writer takes seconds for it, at the collection of each module that uses it; written to a
    temporary file and renamed, because each pytest-xdist worker writes it and none may read half a file."""
    import json
    import tempfile

    from bench.contracts import rich_contract as document

    folder = ROOT / "bench" / "out" / "contracts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rich-contract-{operations}-operations.json"
    text = json.dumps(document(operations), indent=1)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, suffix=".tmp", delete=False) as out:
            out.write(text)
        os.replace(out.name, path)
    return path


def rich_sample(every: int, operations: int = 1000) -> list[str]:
    """One operation in `every` of the rich contract, the kinds taken in turn (operation i is of kind i % FAMILIES)."""
    from bench.contracts import FAMILIES

    return [f"op_{k * every + (k - k * every) % FAMILIES}" for k in range(operations // every)]


# --- real components (Redis, a browser): Debian packages, started here on a free loopback port, always stopped -----


def require(binary: str) -> str:
    """The path of a program a test needs; absent, the test skips, except in CI (`CI` set), where it fails."""
    import pytest

    found = shutil.which(binary)
    if found is None:
        message = f"{binary} is not installed (.ci/run installs it with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway `redis-server` on a free loopback port, nothing written to disk; yields its redis:// URL."""
    binary = require("redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + HANG_S
        while not _pong(port):
            if process.poll() is not None or time.monotonic() > deadline:
                err = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"redis-server did not start on port {port}: {err}")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# `make serve-openhands`: the whole OpenHands 0.53.0 API as its frontend needs it (docs/openhands.md)
OPENHANDS = (
    "contracts/openhands/openapi.json", "--fixtures", "fixtures/openhands", "--fixtures", "fixtures/openhands-app",
    "--auth", "off", "--stateful",
)  # fmt: skip
