"""`mockserver diff` in process: formats, exit codes, the JUnit file, --fail-on, --ignore, unreadable input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import yaml

from mockserver.diff import live_drift
from mockserver.diff.command import main

from .builders import doc, obj, ok, post

S = {"type": "string"}
OLD = doc({"/pets": {"get": ok(obj(("id", "name"), id=S, name=S, kind={"enum": ["cat"]})), "post": post(obj(a=S))},
           "/owners": {"get": ok(S)}})  # fmt: skip
NEW = doc({"/pets": {"get": ok(obj(("id",), id=S, name=S, kind={"enum": ["cat", "dog"]})),
                     "post": post(obj(a={"type": "string", "maxLength": 5}))}})  # fmt: skip


@pytest.fixture
def files(tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.json"
    old.write_text(yaml.safe_dump(OLD))
    new.write_text(json.dumps(NEW))
    return str(old), str(new)


def test_text_is_grouped_by_operation_with_level_rule_reason_and_pointers(files, capsys):
    assert main(list(files)) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("2 breaking (2 ERR, 2 WARN, 0 INFO)")
    block = out.split("\nGET /pets\n")[1].split("\n\n")[0]
    assert "ERR  response-property-became-optional: response 200 application/json, name: became optional" in block
    assert "WARN response-property-enum-value-added" in block
    assert "old: /paths/~1pets/get/responses/200/content/application~1json/schema/properties/name" in block
    assert "\n/owners\n  ERR  api-path-removed-without-deprecation: path removed" in out


def test_json_lists_breaking_and_non_breaking_items(files, capsys):
    assert main([*files, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {item["rule"] for item in report["breaking"]} == {"response-property-became-optional",
                                                             "api-path-removed-without-deprecation"}  # fmt: skip
    assert {item["level"] for item in report["non_breaking"]} == {"WARN"}
    item = report["breaking"][0]
    assert {"operation", "pointer", "rule", "level", "message"} <= set(item)


def test_fail_on_warn_makes_warnings_breaking(files, capsys):
    assert main([*files, "--format", "json", "--fail-on", "warn"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert len(report["breaking"]) == 4 and report["non_breaking"] == []


def test_markdown_for_a_pull_request(files, capsys):
    main([*files, "--format", "markdown"])
    out = capsys.readouterr().out
    assert out.startswith("### :x: API contract: 2 breaking")
    assert "| ERR | `GET /pets` | response 200 application/json, name: became optional |" in out
    assert "<details><summary>2 other change(s)</summary>" in out


def test_junit_xml_in_a_new_folder(files, tmp_path, capsys):
    target = tmp_path / "reports" / "deep" / "diff.xml"
    assert main([*files, "--junit-xml", str(target)]) == 1
    suite = ET.parse(target).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "2"
    names = {case.get("classname") for case in suite.iter("testcase")}
    assert names == {"GET /pets", "/owners", "POST /pets"}


def test_no_change_exits_0_and_junit_has_one_passing_case(tmp_path, capsys):
    one, other = tmp_path / "a.yaml", tmp_path / "a.json"
    one.write_text(yaml.safe_dump(OLD))
    other.write_text(json.dumps(OLD, indent=1))
    assert main([str(one), str(other), "--junit-xml", str(tmp_path / "j.xml")]) == 0
    assert "no breaking change (0 ERR, 0 WARN, 0 INFO)" in capsys.readouterr().out
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("1", "0")


def test_an_ignore_file_accepts_changes_with_their_reason(files, tmp_path, capsys):
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text(
        "- rule: response-property-became-optional\n"
        "  pointer: /paths/~1pets/get/responses/200\n"
        "  reason: name is filled by the UI when missing\n"
        "- rule: api-path-removed-without-deprecation\n"
        "  pointer: /paths/~1owners\n"
        "  operation: /owners\n"
        "  reason: owners moved to the accounts service\n"
    )
    assert main([*files, "--ignore", str(accepted), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["breaking"] == []
    assert {i["reason"] for i in report["ignored"]} == {"name is filled by the UI when missing",
                                                         "owners moved to the accounts service"}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("- rule: no-such-rule\n  pointer: /a\n  reason: r\n", "line 1", "unknown rule 'no-such-rule'"),
        ("- rule: request-property-removed\n  pointer: /a\n", "line 1", "'reason' must be a non-empty string"),
        ("- rule: request-property-removed\n  pointer: /a\n  reason: r\n  pointr: /b\n", "line 4", "unknown key"),
        ("- rule: request-property-removed\n  pointer: a\n  reason: r\n", "line 2", "must be a JSON pointer"),
        ("rule: x\n", "line 1", "expected a list"),
        ("- [unclosed\n", "line 2", "invalid YAML"),
    ],
)
def test_a_bad_ignore_file_exits_2_with_file_line_and_reason(files, tmp_path, capsys, text, where, reason):
    bad = tmp_path / "ignore.yaml"
    bad.write_text(text)
    assert main([*files, "--ignore", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"mockserver: error: {bad}: {where}") and reason in line


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        (
            "openapi: 3.0.0\npaths: {/a: {get: {responses: {'200': {$ref: '#/components/responses/Gone'}}}}}\n",
            "/paths/~1a/get/responses/200/$ref",
            "points nowhere",
        ),
        (
            "openapi: 3.1.0\npaths: {/a: {get: {responses: {'200': {$ref: 'other.yaml#/R'}}}}}\n",
            "/paths/~1a/get/responses/200/$ref",
            "not a local reference",
        ),
        ("swagger: '2.0'\n", "/openapi", "expected an OpenAPI 3.0 or 3.1 document, found swagger 2.0"),
        ("{not json", "line 1", "invalid JSON"),
    ],
)
def test_an_unreadable_contract_exits_2_with_one_line(files, tmp_path, capsys, content, where, reason):
    broken = tmp_path / "broken.yaml"
    broken.write_text(content)
    assert main([files[0], str(broken)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"mockserver: error: {broken}: {where}") and reason in line
    assert main([files[0], str(tmp_path / "missing.yaml")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_live_drift_reports_breaking_items_and_keeps_to_the_base_url_host(files):
    old, new = files
    code, text = live_drift(old, new, "http://127.0.0.1:8000")
    assert code == 1
    assert "contract drift" in text and "ERR GET /pets: response-property-became-optional" in text
    assert "enum-value-added" not in text  # the others are counted, not listed
    assert live_drift(old, old, "http://127.0.0.1:8000")[0] == 0
    code, text = live_drift(old, "http://elsewhere.example/openapi.json", "http://127.0.0.1:8000")
    assert code == 2 and "must be on BASE_URL's host" in text


def test_an_unwritable_junit_file_is_an_error_that_never_hides_a_breaking_change(files, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main([*files, "--junit-xml", str(blocker / "x.xml")]) == 1
    assert main([files[0], files[0], "--junit-xml", str(blocker / "x.xml")]) == 2
    assert "mockserver: error:" in capsys.readouterr().err
