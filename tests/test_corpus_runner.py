"""The population runner's own judgement (corpus/exercise.py), on a contract of the cases it once got wrong: every
request it builds is valid and every answer is judged as the contract says, so the run has no finding at all."""

from __future__ import annotations

from corpus.exercise import exercise
from tests.support import ROOT

CASES = ROOT / "tests" / "contracts" / "realworld" / "runner-cases.yaml"


def test_the_runner_builds_valid_requests_and_judges_by_the_applicable_media_type_and_operation() -> None:
    result = exercise(str(CASES), "runner-cases.yaml")
    assert result.started and result.requests == result.operations == 6
    assert result.statuses == {"2xx": 6}, result.findings
    assert not result.findings, [f.detail for f in result.findings]
