"""The verdict plumbing both products share: one redaction rule, one "never held against a server" rule, one JUnit
writer (with the `exit-code` property `report merge` reads)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mockserver.contract import security, verdicts


def test_a_secret_is_replaced_by_value_in_every_wire_form():
    key = "s3cret/key"
    text = f"a {key} b {security.basic_token(key)} c s3cret%2Fkey"
    assert verdicts.redact(text, [key]) == "a [redacted] b [redacted] c [redacted]"
    assert verdicts.redact(text, [key], "$K") == "a $K b $K c $K"


@pytest.mark.parametrize(("secret", "replaced"), [("abc", False), ("abcd", True), ("", False), (None, False)])
def test_one_minimum_length_for_replacing_by_value(secret, replaced):
    text = "xx abcd abc yy"
    assert (verdicts.redact(text, [secret]) != text) is replaced
    assert bool(verdicts.key_problem(secret)) is (secret is not None and len(secret) < verdicts.MIN_SECRET)


def test_secret_names_are_found_anywhere_in_the_name():
    assert all(map(verdicts.secret_name, ["Authorization", "X-Session-API-Key", "x-csrftoken", "session_id"]))
    assert not any(map(verdicts.secret_name, ["Content-Type", "conversation_id", "title"]))


@pytest.mark.parametrize(
    ("status", "credentials_sent", "excused"),
    [(429, True, True), (429, False, True), (401, False, True), (403, False, True), (401, True, False),
     (403, True, False), (404, False, False), (500, False, False)],
)  # fmt: skip
def test_never_held_against_a_server(status, credentials_sent, excused):
    assert bool(verdicts.never_held(status, credentials_sent)) is excused


def test_the_junit_writer_counts_its_cases_and_ends_with_the_exit_code(tmp_path: Path):
    suite = verdicts.Suite("mockserver check", 1, properties=[("seed", "7")], seconds=1.25, cases=[
        verdicts.Case("GET /a", "not_a_server_error", [verdicts.Failure("Server error", "not_a_server_error", "t")]),
        verdicts.Case("GET /a", "untested", error="429 for ever"),
        verdicts.Case("POST /a", "read-only", skipped="unsafe"),
        verdicts.Case("GET /b", "drift", output="warning: 1 request"),
    ])  # fmt: skip
    path = tmp_path / "deeper" / "out.xml"
    verdicts.write_junit(path, suite, lambda text: text.replace("429", "[n]"))
    root = ET.parse(path).getroot()
    (element,) = root.findall("testsuite")
    assert root.tag == "testsuites"
    assert {k: element.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == {
        "tests": "4", "failures": "1", "errors": "1", "skipped": "1", "time": "1.250"}  # fmt: skip
    properties = [(p.get("name"), p.get("value")) for p in element.iterfind("properties/property")]
    assert properties == [("seed", "7"), (verdicts.EXIT_CODE, "1")]
    assert [(c.get("classname"), c.get("name")) for c in element.iter("testcase")][0] == (
        "GET /a",
        "not_a_server_error",
    )
    assert element.find("testcase/error").get("message") == "[n] for ever"  # every byte through the redactor
    assert element.find("testcase/system-out").text == "warning: 1 request"


def test_join_keeps_every_case_and_recounts():
    one = ET.fromstring(verdicts.junit(verdicts.Suite("s", 0, [verdicts.Case("GET /a", "c")])))
    cases = [verdicts.Case("GET /a", "c"), verdicts.Case(verdicts.RUN, "run", error="x")]
    two = ET.fromstring(verdicts.junit(verdicts.Suite("s", 2, cases)))
    root, repeated = verdicts.join([(one.findall("testsuite"), "shard 1/2"), (two.findall("testsuite"), "shard 2/2")])
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("errors"), repeated) == ("3", "1", 1)
    assert [c.get("name") for c in suite.iter("testcase")] == ["c", "c", "run (shard 2/2)"]
