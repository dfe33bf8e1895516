"""Outside tools the bench uses, found or installed: wrk (Debian package), Prism (npm), py-spy (PyPI, for profiling).

Rules: installs happen only when allowed (`BENCH_INSTALL=1`, the default, and for apt only as root); each goes to the
ordinary client for its kind (apt-get, npm, pip) and npm/pip installs land in bench/.cache/ (git-ignored). A tool
that is missing and cannot be installed is reported as such, never papered over.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from .servers import CACHE

PRISM_PACKAGE = "@stoplight/prism-cli@5"
PRISM_DIR = CACHE / "prism"
TOOLS_DIR = CACHE / "tools"


def _log(message: str) -> None:
    print(f"bench: {message}", flush=True)


def ensure_wrk(allow_install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not allow_install:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        _log("wrk is missing and cannot be installed here (needs apt-get as root)")
        return None
    _log("installing wrk (apt-get) ...")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
        if done.returncode != 0:
            _log(f"{' '.join(cmd)} failed: {done.stderr.strip()[-300:]}")
            return None
    return shutil.which("wrk")


def prism_bin() -> Path:
    return PRISM_DIR / "node_modules" / ".bin" / "prism"


def ensure_prism(allow_install: bool) -> tuple[Path | None, str]:
    """(path to the prism executable or None, why not / version)."""
    if shutil.which("node") is None:
        return None, "node is missing"
    if not prism_bin().exists():
        if not allow_install:
            return None, "Prism is not installed in bench/.cache/prism and BENCH_INSTALL=0"
        if shutil.which("npm") is None:
            return None, "npm is missing"
        _log(f"installing {PRISM_PACKAGE} into bench/.cache/prism (npm) ...")
        PRISM_DIR.mkdir(parents=True, exist_ok=True)
        (PRISM_DIR / "package.json").write_text('{"name": "bench-prism", "private": true}\n')
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", PRISM_PACKAGE],
            cwd=PRISM_DIR, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        if done.returncode != 0 or not prism_bin().exists():
            return None, f"npm install {PRISM_PACKAGE} failed: {done.stderr.strip()[-300:]}"
    return prism_bin(), prism_version()


def prism_version() -> str:
    try:
        meta = json.loads((PRISM_DIR / "node_modules" / "@stoplight" / "prism-cli" / "package.json").read_text())
        return str(meta.get("version", "unknown"))
    except (OSError, ValueError):
        return "unknown"


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "missing"
    return subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()


def ensure_py_spy(allow_install: bool, python: str) -> str | None:
    found = shutil.which("py-spy") or (
        str(TOOLS_DIR / "bin" / "py-spy") if (TOOLS_DIR / "bin" / "py-spy").exists() else None
    )
    if found or not allow_install:
        return found
    _log("installing py-spy into bench/.cache/tools (pip) ...")
    done = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--target", str(TOOLS_DIR), "py-spy"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        _log(f"pip install py-spy failed: {done.stderr.strip()[-300:]}")
        return None
    return str(TOOLS_DIR / "bin" / "py-spy")
