"""The CI job of docs/ci.md, as written, in a clean virtual environment: `pip install ./mockserver pytest` (nothing from
this project's test extras), then the contract suite and the bounded fuzz against a server on a free loopback port
(the built-in mock, started from that environment). The commands are read from docs/ci.md, so the job documented is
the job tested; only the server start and the fuzz bound differ (a mock instead of your server; 60 requests instead
of a minute)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import ROOT, Output, stop

pytestmark = pytest.mark.e2e

KEY = "ci-recipe-key-5d2e"
SHIPPED = (
    "pyproject.toml",
    "README.md",
    "mockserver",
    "contracts",
    "fixtures",
)  # what `pip install ./mockserver` reads


def readme_job() -> dict[str, Any]:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    section = text.split("## In CI (GitHub Actions)", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block, "the README's CI section has a yaml block"
    job: dict[str, Any] = yaml.safe_load(block.group(1))["jobs"]["contract"]
    return job


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    found = [s for s in job["steps"] if name in (s.get("name") or s.get("run", ""))]
    assert len(found) == 1, (name, job["steps"])
    return found[0]


def test_the_readme_ci_job_passes_in_a_clean_venv(tmp_path: Path) -> None:
    job = readme_job()
    work = tmp_path / "job"
    checkout = work / "mockserver"  # actions/checkout of this repository, `path: mockserver`
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        else:
            checkout.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON", "MOCKSERVER_"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    def run(command: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=work, env={**env, **extra},
                              capture_output=True, text=True, timeout=600)  # fmt: skip

    install = step(job, "pip install")["run"]
    assert install.split() == ["pip", "install", "./mockserver", "pytest"]
    installed = run(install + " --quiet --disable-pip-version-check")  # pip's cache makes repeats cheap
    assert installed.returncode == 0, installed.stderr[-3000:]
    plugins = run("pip list --format=freeze").stdout
    assert "pytest-timeout" not in plugins and "mockserver==" in plugins

    # The server under test: the built-in mock from that environment, on a free loopback port
    server = subprocess.Popen([str(venv / "bin" / "mockserver"), "serve", "--port", "0", "--no-request-log"],
                              env={**env, "MOCKSERVER_API_KEY": KEY}, cwd=work, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    banner = Output(server.stderr)
    banner.start()
    try:
        banner.ready.wait(60)
        assert banner.banner, banner.text()
        port = banner.banner.group(2)
        suite, fuzz = step(job, "Contract suite"), step(job, "Fuzz")
        secrets = {"MOCKSERVER_API_KEY": KEY}
        assert suite["env"] == fuzz["env"] == {"MOCKSERVER_API_KEY": "${{ secrets.SERVER_API_KEY }}"}
        contract = run(suite["run"].replace(":3000", f":{port}"), **secrets)
        fuzzing = run(
            fuzz["run"].replace(":3000", f":{port}").replace("--duration 60", "--max-requests 60 --duration 300"),
            **secrets,
        )
    finally:
        stop(server)
        banner.join(10)
    assert contract.returncode == 0, contract.stdout[-4000:] + contract.stderr[-2000:]
    assert "INTERNALERROR" not in contract.stdout + contract.stderr and "warning" not in contract.stdout.lower()
    cases = list(ET.parse(work / "reports" / "contract.xml").iter("testcase"))
    assert len(cases) >= 7 and all(case.find("failure") is None for case in cases)
    assert fuzzing.returncode == 0, fuzzing.stdout[-4000:] + fuzzing.stderr[-2000:]
    assert (work / "reports" / "fuzz.xml").is_file()
    for text in (contract.stdout, contract.stderr, fuzzing.stdout, fuzzing.stderr):
        assert KEY not in text
    print(f"README CI job in a clean venv: contract suite {len(cases)} tests passed; fuzz: "
          f"{fuzzing.stdout.strip().splitlines()[-1]}")  # fmt: skip
