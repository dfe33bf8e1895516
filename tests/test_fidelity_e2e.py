"""`mockserver check` against the mock serving each fidelity contract: the mock passes its own checker (exit 0).

Real processes on loopback: `mockserver serve CONTRACT --port 0` and `mockserver check URL --spec CONTRACT`. The
1,000-operation contract is sampled here (every 50th operation, `--include`); the full run (all 1,000 operations,
about 15,000 requests, two minutes) is the command in bench/README.md.
"""

from __future__ import annotations

import pytest

from tests.support import ROOT, rich_contract, rich_sample, run_cli, serve

pytestmark = pytest.mark.e2e

FIDELITY = ROOT / "tests" / "contracts" / "fidelity"
KEY = "fidelity-check-key"
CONTRACTS = ["fastapi", "pets", "media", "defaults", "routing", "types31"]


def _check(contract: str, *extra: str) -> None:
    with serve(contract, "--no-request-log", "--api-key", KEY) as server:
        result, _ = run_cli("check", server.url, "--spec", contract, "--api-key", KEY, "--no-progress",
                            "--max-examples", "8", "--seed", "9", *extra, timeout=240)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "PASSED" in result.stdout


@pytest.mark.parametrize("name", CONTRACTS)
def test_mock_passes_its_own_check(name):
    _check(str(FIDELITY / f"{name}.yaml"))


def test_mock_of_the_large_contract_passes_its_own_check_on_a_sample():
    large = rich_contract(1000)
    include = [arg for name in rich_sample(50) for arg in ("--include", name)]
    _check(str(large), *include)


def test_start_up_says_one_line_for_invalid_examples_and_the_serving_line_comes_last(tmp_path):
    from tests.serve.test_fidelity import _examples_contract

    spec = _examples_contract(tmp_path, 40)
    with serve(spec, "--no-request-log") as server:
        lines = [line for line in server.stderr.text().splitlines() if line.startswith("mockserver:")]
    assert len(lines) == 2, lines
    assert "41 contract examples not served" in lines[0] and lines[1].startswith("mockserver: serving")
    with serve(spec, "--no-request-log", "--verbose") as server:
        lines = [line for line in server.stderr.text().splitlines() if line.startswith("mockserver:")]
    assert len(lines) == 42 and lines[-1].startswith("mockserver: serving")
