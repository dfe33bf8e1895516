"""`check`, `fuzz` and the contract suite against the zoo: each defect is flagged by the right check, valid
variants raise nothing, Authorization credentials arrive and are enforced, and the two halves of the project agree
(check passes against our own mock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver import cli
from mockserver.check import conformance
from mockserver.contract.spec import load_spec
from mockserver.serve.app import create_app
from mockserver.serve.config import Config

from . import zoo
from .conftest import Served

pytestmark = pytest.mark.e2e  # real servers on loopback ports

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
FAST = ["--seed", "11", "--max-examples", "5", "--no-progress", "--request-timeout", "3"]


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    return zoo.KEY


def run_args(command: str, tmp_path: Path) -> list[str]:
    if command == "check":
        return FAST
    # --max-requests ends the run long before --duration; the phases that find these defects come first
    return [
        *FAST,
        "--rate-limit",
        "1000",
        "--max-requests",
        "80",
        "--duration",
        "20",
        "--cassette",
        str(tmp_path / "cassette.yaml"),
    ]


@pytest.mark.parametrize("command", ["check", "fuzz"])
@pytest.mark.parametrize("name", list(zoo.DEFECTS))
def test_flags_each_defect(
    zoo_server: Served, command: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main([command, f"{zoo_server.url}/zoo/{name}", *run_args(command, tmp_path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"  {zoo.DEFECTS[name][1]}: " in out, out
    assert "Reproduce: curl -X GET" in out
    assert (tmp_path / "cassette.yaml").exists() == (command == "fuzz")


@pytest.mark.parametrize("command", ["check", "fuzz"])
@pytest.mark.parametrize("name", list(zoo.VALID))
def test_passes_valid_variants(
    zoo_server: Served, command: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main([command, f"{zoo_server.url}/zoo/{name}", *run_args(command, tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASSED" in out.splitlines()[-1]
    assert not (tmp_path / "cassette.yaml").exists()


@pytest.mark.parametrize("name", list(zoo.AUTH_VARIANTS))
def test_check_sends_authorization_credentials(
    zoo_server: Served, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Bearer, basic (the key as the password of an empty user) and oauth2: each arrives, and each is enforced
    spec = tmp_path / "auth.json"
    spec.write_text(json.dumps(zoo.AUTH_CONTRACT))
    before = zoo.AUTHORIZED.copy()
    code = cli.main(["check", f"{zoo_server.url}/zoo/{name}", "--spec", str(spec), *FAST])
    out = capsys.readouterr().out
    assert all(zoo.AUTHORIZED[scheme] > before[scheme] for scheme in zoo.AUTHORIZATION), (zoo.AUTHORIZED, out)
    if zoo.AUTH_VARIANTS[name]:
        assert code == 1, out
        assert out.count(f"  {zoo.AUTH_VARIANTS[name]}: ") == len(zoo.AUTHORIZATION), out
    else:
        assert code == 0, out
        assert "warning:" not in out, out  # no contract warning, no hook error


@pytest.mark.slow
def test_contract_suite_agrees_on_every_server(zoo_server: Served, tmp_path: Path) -> None:
    contract_suite_agrees(zoo_server, tmp_path, [*zoo.DEFECTS, *zoo.VALID])


def test_contract_suite_agrees(zoo_server: Served, tmp_path: Path) -> None:
    contract_suite_agrees(zoo_server, tmp_path, ["bad_date_time", "auth_ignored", "body_null"])


def contract_suite_agrees(zoo_server: Served, tmp_path: Path, names: list[str]) -> None:
    """`pytest contracts --base-url URL` against zoo servers, one process each, in parallel."""
    env = {**os.environ, "MOCKSERVER_API_KEY": zoo.KEY}
    runs = {}
    for name in names:
        xml = tmp_path / f"{name}.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(CONTRACTS),
            "--base-url",
            f"{zoo_server.url}/zoo/{name}",
            "-p",
            "no:cacheprovider",
            "-q",
            "--max-examples",
            "5",
            "--seed",
            "11",
            f"--junitxml={xml}",
        ]
        process = subprocess.Popen(
            command, cwd=CONTRACTS.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        runs[name] = (process, xml)
    for name, (process, xml) in runs.items():
        output, _ = process.communicate(timeout=120)
        assert zoo.KEY not in output
        results = {}
        for case in ET.parse(xml).iter("testcase"):
            failure = case.find("failure")
            results[case.get("name", "")] = "passed" if failure is None else (failure.text or "")
        assert len(results) == len(conformance.CHECKS) + 1, output
        failed = {test for test, text in results.items() if text != "passed"}
        if name in zoo.VALID:
            assert not failed, output
        else:
            assert any(zoo.DEFECTS[name][1] in test for test in failed), (name, output)
            assert process.returncode == 1


def test_check_passes_against_our_own_mock(capsys: pytest.CaptureFixture[str]) -> None:
    with Served(create_app(Config(api_key=zoo.KEY, request_log=False))) as mock:
        code = cli.main(["check", mock.url, *FAST, "--max-examples", "20"])
    out = capsys.readouterr().out
    assert code == 0, out


def test_formats_are_checked() -> None:
    # "yesterday" as a date-time fails: Schemathesis validates formats in response bodies, and so do we
    with Served(zoo.app) as served:
        plan = conformance.Plan(f"{served.url}/zoo/bad_date_time", api_key=zoo.KEY, seed=1, max_examples=3)
        report = conformance.run(plan, load_spec(None))
    [finding] = report.findings
    assert finding.message == 'at created_at: "yesterday" is not a "date-time"'
