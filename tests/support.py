"""Constants and helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOP = str(ROOT / "tests" / "contracts" / "shop.openapi.yaml")
KEY_HEADER = "X-Session-API-Key"
CONVERSATION = "/api/conversations/"


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None, timeout: float = 20.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """Starts `mockserver serve ARGS --port 0` and yields its base URL; always stops it."""
    command = [sys.executable, "-m", "mockserver", "serve", *args, "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + timeout
        url = None
        assert process.stderr is not None
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            found = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
                break
        if url is None:
            process.kill()
            _, err = process.communicate(timeout=5)
            raise AssertionError(f"server did not start: {err}")
        yield url, process
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C first (the server's own clean shutdown), then kill: a test never leaves a server behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
