"""`mockserver report merge`: shards' JUnit files (as `check --junit-xml` writes them) become one file with every
test case, recounted totals and one exit code: violations 1, then errors and missing shards 2, then inconclusive 3."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver import cli
from mockserver.check import merge, reporting
from mockserver.check.conformance import CHECKS
from mockserver.check.findings import Finding, Report, Request
from mockserver.check.shards import Shard

KEY = "merge-test-key-0123"


def shard_file(
    folder: Path,
    index: int,
    total: int = 4,
    operations: int = 2,
    findings: int = 0,
    errors: int = 0,
    seed: int | None = 7,
    untested: int = 0,
) -> Path:
    ops = [f"GET /s{index}/op{i}" for i in range(operations)]
    report = Report(base_url="http://127.0.0.1:1", operations=ops, seed=seed, seconds=1.5, requests=10 * len(ops))
    for n in range(untested):
        report.untest(ops[-1 - n], "the server kept answering 429")
    for n in range(findings):
        request = Request("GET", f"http://127.0.0.1:1/s{index}/op0?key={KEY}", {"X-Key": KEY}, None)
        report.add(Finding(ops[0], "not_a_server_error", "Server error", f"500 number {n}", request=request))
    report.errors.extend(f"cannot reach the server ({n})" for n in range(errors))
    path = folder / f"shard-{index}.xml"
    reporting.write_junit(report, path, "check", KEY, CHECKS, Shard(index, total))
    return path


def set_exit_code(path: Path, code: int) -> None:
    tree = ET.parse(path)
    for prop in tree.getroot().iter("property"):
        if prop.get("name") == "exit-code":
            prop.set("value", str(code))
    tree.write(path)


def run_merge(tmp_path: Path, inputs: list[Path], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    out = tmp_path / "out" / "merged.xml"
    code = cli.main(["report", "merge", "-o", str(out), *map(str, inputs)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err, out


def test_clean_shards_merge_into_one_suite_with_every_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = [shard_file(tmp_path, i, operations=i) for i in (3, 1, 4, 2)]
    code, text, out = run_merge(tmp_path, inputs, capsys)
    assert code == 0, text
    [suite] = ET.parse(out).getroot().findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == (1 + 2 + 3 + 4) * len(CHECKS) == int(suite.get("tests", ""))
    assert suite.get("failures") == suite.get("errors") == "0"
    assert [c.get("classname") for c in cases][: len(CHECKS)] == ["GET /s1/op0"] * len(CHECKS)  # shard order
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"shards": "4", "seed": "7", "operations": "10", "requests": "100", "exit-code": "0"}
    assert float(suite.get("time", "")) == pytest.approx(6.0)
    assert "mockserver report merge PASSED: 0 failures in 60 test cases from 4 of 4 shards, seed 7" in text
    assert "shard 3/4: PASSED, 3 operations, 18 test cases" in text


def test_a_violation_in_one_shard_fails_the_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = [shard_file(tmp_path, i, findings=2 if i == 3 else 0) for i in range(1, 5)]
    code, text, out = run_merge(tmp_path, inputs, capsys)
    assert code == 1, text
    root = ET.parse(out).getroot()
    failures = [(c.get("classname"), f.get("message")) for c in root.iter("testcase") for f in c.findall("failure")]
    assert failures == [("GET /s3/op0", "Server error")] * 2
    assert root.get("failures") == "2"
    assert "failure: GET /s3/op0 not_a_server_error: Server error" in text
    assert "shard 3/4: FAILED" in text and text.rstrip().endswith("(exit 1)")
    assert KEY not in out.read_text()  # shards were written redacted, and merge adds nothing of its own


@pytest.mark.parametrize(
    "codes, expected",
    [
        ({1: 2}, 2),  # a shard that could not run
        ({1: 2, 2: 1}, 1),  # ... but a violation elsewhere is the news
        ({1: 3}, 3),  # an inconclusive shard
        ({1: 3, 2: 2}, 2),
        ({1: 3, 4: 1}, 1),
        ({1: 0}, 0),
        ({1: 130}, 2),  # a code merge does not know is not a pass
    ],
)
def test_exit_codes(codes: dict[int, int], expected: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = []
    for i in range(1, 5):
        code = codes.get(i, 0)
        path = shard_file(tmp_path, i, findings=int(code == 1), errors=int(code == 2), untested=int(code == 3))
        if code not in (0, 1, 2, 3):
            set_exit_code(path, code)
        inputs.append(path)
    code, text, out = run_merge(tmp_path, inputs, capsys)
    assert code == expected, text
    props = {p.get("name"): p.get("value") for p in ET.parse(out).getroot().iter("property")}
    assert props["exit-code"] == str(expected)
    if 3 in codes.values():
        assert "inconclusive: 1 operation left untested: GET /s1/op1" in text
        assert props["inconclusive"] == "GET /s1/op1"


def test_run_errors_stay_apart_per_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = [shard_file(tmp_path, i, errors=1) for i in range(1, 3)] + [shard_file(tmp_path, i) for i in (3, 4)]
    code, text, out = run_merge(tmp_path, inputs, capsys)
    assert code == 2
    runs = [c.get("name") for c in ET.parse(out).getroot().iter("testcase") if c.get("classname") == "run"]
    assert runs == ["run (shard 1/4)", "run (shard 2/4)"]
    assert "error: run run (shard 1/4): cannot reach the server (0)" in text


@pytest.mark.parametrize(
    "shards, problem",
    [
        ([(1, 4), (2, 4), (4, 4)], "shard 3/4 missing: its operations were not checked"),
        ([(1, 2), (2, 2), (2, 2)], "shard 2/2 given more than once"),
        ([(1, 2), (2, 2), (3, 3)], "runs cut into different numbers of shards: 2, 3"),
    ],
)
def test_incomplete_or_inconsistent_shards_exit_2(
    shards: list[tuple[int, int]], problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = []
    for n, (index, total) in enumerate(shards):
        folder = tmp_path / f"job{n}"
        folder.mkdir()
        inputs.append(shard_file(folder, index, total))
    code, text, out = run_merge(tmp_path, inputs, capsys)
    assert code == 2, text
    assert any(line.startswith("error: ") and problem in line for line in text.splitlines()), text
    assert out.exists()  # what there is, is still merged


def test_a_missing_shard_does_not_hide_a_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = [shard_file(tmp_path, 1, findings=1), shard_file(tmp_path, 2)]
    code, text, _ = run_merge(tmp_path, inputs, capsys)
    assert code == 1 and "shard 3/4, 4/4 missing" in text


def test_different_seeds_are_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = [shard_file(tmp_path, i, total=2, seed=i) for i in (1, 2)]
    code, text, out = run_merge(tmp_path, inputs, capsys)
    assert code == 0
    assert "warning: the shards ran with different seeds (shard 1/2 seed 1, shard 2/2 seed 2)" in text
    assert "seed" not in {p.get("name") for p in ET.parse(out).getroot().iter("property")}


PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest"
errors="0" failures="{failures}" skipped="0" tests="2" time="1.0"><properties><property name="shard" value="{shard}"/>
</properties><testcase classname="contracts.test_contract" name="test_contract[GET /a-{check}]" time="0.5">{failure}
</testcase><testcase classname="contracts.test_contract" name="test_transport[GET /a]" time="0.5"/></testsuite>
</testsuites>"""


def test_contract_suite_shards_merge_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `pytest contracts --shard I/N --junitxml=...` records the shard; the verdict comes from the cases
    inputs = []
    for index, failure in ((1, ""), (2, '<failure message="bad">500</failure>')):
        path = tmp_path / f"pytest-{index}.xml"
        text = PYTEST_XML.format(failures=int(bool(failure)), shard=f"{index}/2", check=index, failure=failure)
        path.write_text(text)
        inputs.append(path)
    code, text, out = run_merge(tmp_path, inputs, capsys)
    assert code == 1, text
    [suite] = ET.parse(out).getroot()
    assert suite.get("name") == "pytest" and suite.get("tests") == "4" and suite.get("failures") == "1"


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "cannot read"),
        ("<testsuites><testsuite>", "not well-formed XML"),
        ("<html/>", "/html: not a JUnit report"),
        ('<testsuite><properties><property name="shard" value="5/4"/></properties></testsuite>', "numbered 1 to 4"),
    ],
)
def test_an_unreadable_input_writes_nothing(
    content: str | None, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.xml"
    if content is not None:
        bad.write_text(content)
    code, text, out = run_merge(tmp_path, [shard_file(tmp_path, 1, total=1), bad], capsys)
    assert code == 2
    assert text.startswith(f"mockserver report merge: error: {bad}") and reason in text, text
    assert "Traceback" not in text
    assert not out.exists()


def test_the_output_cannot_be_an_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = shard_file(tmp_path, 1, total=1)
    before = one.read_text()
    assert cli.main(["report", "merge", str(one), str(one)]) == 2
    assert "is also an input" in capsys.readouterr().err
    assert one.read_text() == before


def test_write_junit_records_what_merge_needs(tmp_path: Path) -> None:
    path = shard_file(tmp_path, 2, total=3, operations=5, findings=1)
    [suite] = ET.parse(path).getroot()
    assert suite[0].tag == "properties"  # first child, as the JUnit schema wants
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"shard": "2/3", "seed": "7", "operations": "5", "requests": "50", "verdict": "FAILED",
                     "exit-code": "1"}  # fmt: skip
    part = merge.read(str(path))
    assert (part.shard, part.seed, part.exit_code, part.operations, part.requests) == (Shard(2, 3), "7", 1, 5, 50)
    assert (part.cases, part.failures, part.errors) == (5 * len(CHECKS), 1, 0)


def test_a_long_list_of_failures_is_cut_in_the_summary_not_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = [shard_file(tmp_path, 1, total=2, findings=merge.SHOWN + 5), shard_file(tmp_path, 2, total=2)]
    code, text, out = run_merge(tmp_path, inputs, capsys)
    assert code == 1
    assert text.count("failure: GET /s1/op0") == merge.SHOWN
    assert f"... and 5 more failures and errors: every one is in {out}" in text
    assert len(list(ET.parse(out).getroot().iter("failure"))) == merge.SHOWN + 5
