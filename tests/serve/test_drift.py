"""Contract drift: each check of an exchange on its own, the tally, the exit summary and the JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from mockserver.serve.config import Config
from mockserver.serve.forward.drift import VIOLATION, WARNING, Drift, Report, unmatched
from mockserver.serve.forward.proxy import checker as judge
from mockserver.serve.pipeline.core import build_mock
from tests.support import SHOP

MOCK = build_mock(Config(spec=SHOP))
CHECKER = judge(MOCK)
PETS = MOCK.spec.find("listPets")
PET = MOCK.spec.find("getPet")
assert PETS is not None and PET is not None
JSON = {"content-type": "application/json"}


def _response(status: int = 200, headers: dict[str, str] | None = None, body: bytes | None = b"[]",
              method: str = "GET", credentials: bool = True) -> list[Drift]:  # fmt: skip
    return CHECKER.response(PETS, method, status, {**JSON, "x-total-count": "2", **(headers or {})}, body, credentials)


def test_a_conforming_answer_has_no_findings():
    assert _response(body=b'[{"id": 1, "name": "Rex", "kind": "dog", "barks": true}]') == []


@pytest.mark.parametrize(
    "status, credentials, severity, words",
    [
        (500, True, VIOLATION, "status 500 is not documented (documented: 200, 422)"),
        (404, True, VIOLATION, "status 404 is not documented"),
        (429, True, WARNING, "rate limited"),
        (401, False, WARNING, "the request carried no valid credentials"),
        (401, True, VIOLATION, "status 401 is not documented"),  # credentials sent: the server's (as `check`)
        (403, False, WARNING, "the request carried no valid credentials"),
        (403, True, VIOLATION, "status 403 is not documented"),
    ],
)
def test_undocumented_statuses(status, credentials, severity, words):
    (found,) = _response(status, credentials=credentials)
    assert (found.pointer, found.severity, found.direction) == ("/status", severity, "response")
    assert words in found.reason


def test_body_header_and_media_type_findings():
    (bad_type,) = _response(body=b'[{"id": "one", "name": "Rex"}]')
    assert (bad_type.pointer, bad_type.severity) == ("/body/0/id", VIOLATION)
    assert [d.pointer for d in _response(body=b"[{")] == ["/body"]
    assert "not valid JSON" in _response(body=b"nope")[0].reason
    (media,) = _response(headers={"content-type": "text/html"})
    assert media.pointer == "/header/content-type" and "'text/html' is not documented" in media.reason
    (missing,) = CHECKER.response(PETS, "GET", 200, JSON, b"[]", True)
    assert (missing.pointer, missing.reason) == ("/header/X-Total-Count", "required header missing")
    (wrong,) = _response(headers={"x-total-count": "-1"})
    assert wrong.pointer == "/header/X-Total-Count" and "minimum" in wrong.reason
    assert _response(headers={"x-total-count": "12"}) == []  # a header is text: "12" is the integer 12


def test_what_cannot_be_judged_is_not_a_finding():
    assert _response(method="HEAD", body=b"") == []
    assert _response(body=None) == []  # a content coding the proxy could not undo: the body is not judged


def test_request_findings_come_from_the_mocks_validators():
    found = CHECKER.request(PETS, {}, [], {"limit": ["0"], "status": ["lost"]}, {}, {}, b"")
    assert [(d.direction, d.pointer) for d in found] == [("request", "/query/limit"), ("request", "/query/status")]
    (bad_id,) = CHECKER.request(PET, {"petId": "abc"}, [], {}, {}, {}, b"")
    assert bad_id.pointer == "/path/petId" and bad_id.operation == "GET /pets/{petId}"


def test_the_tally_prints_each_finding_a_bounded_number_of_times():
    report = Report([PETS.key, PET.key], print_limit=2)
    drift = Drift(PETS.key, "response", "/body/0/id", "'one' is not of type 'integer'")
    shown = [report.add(PETS.key, [drift], f"GET /v1/pets?n={i}") for i in range(5)]
    assert [len(s) for s in shown] == [1, 1, 0, 0, 0]
    report.add("", [unmatched("GET", 307)], "GET /v1/pets/")
    report.add("", [unmatched("GET", 307)], "GET /v1/other/")  # grouped by method and status
    report.error("cannot connect to http://127.0.0.1:9: refused")
    summary = report.summary("proxy")
    assert summary[0].startswith("mockserver: proxy FAILED: 7 requests forwarded, 1 upstream error; ")
    assert "1 distinct violation (5 in all) in 1 operation, 1 distinct warning" in summary[0]
    assert any("seen 5 times; first: GET /v1/pets?n=0" in line for line in summary)
    assert any("(no operation) response /status: GET on a path no operation matches, answered 307 (seen 2 times"
               in line for line in summary)  # fmt: skip
    assert summary[-1] == "  upstream error: cannot connect to http://127.0.0.1:9: refused (seen 1 time)"
    assert Report([]).summary("serve")[0].startswith("mockserver: serve PASSED: 0 requests")


def test_junit_has_a_case_per_operation(tmp_path):
    report = Report([PETS.key, PET.key, "POST /pets"])
    bad_id = Drift(PETS.key, "response", "/body/0/id", "bad id")
    found = [bad_id, Drift(PETS.key, "response", "/status", "429", WARNING)]
    report.add(PETS.key, found, "GET /v1/pets")
    report.add(PET.key, [], "GET /v1/pets/1")
    report.add("", [unmatched("GET", 404)], "GET /v1/nope")
    path = tmp_path / "junit.xml"
    report.write_junit(path, "proxy")
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    cases = {case.get("classname"): case for case in suite.iter("testcase")}
    assert list(cases) == [PETS.key, PET.key, "POST /pets", "(no operation)"]
    assert {case.get("name") for case in cases.values()} == {"drift"}
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["exit-code"] == "1"  # what `report merge` reads: a violation was seen
    (failure,) = cases[PETS.key].findall("failure")
    assert failure.get("message") == "GET /pets response /body/0/id: bad id" and failure.get("type") == "response"
    assert "/status: 429" in cases[PETS.key].findtext("system-out", "")
    assert cases[PET.key].find("failure") is None and cases[PET.key].find("skipped") is None
    assert cases["POST /pets"].find("skipped") is not None


def test_answers_are_checked_against_the_response_view(tmp_path):
    contract = tmp_path / "secret.yaml"
    contract.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /me:\n    get:\n      responses:\n"
        "        '200':\n          description: me\n          content:\n            application/json:\n"
        "              schema:\n                type: object\n                properties:\n"
        "                  name: {type: string}\n                  password: {type: string, writeOnly: true}\n"
    )
    mock = build_mock(Config(spec=str(contract)))
    checker = judge(mock)
    op = mock.spec.operations[0]
    assert checker.response(op, "GET", 200, JSON, b'{"name": "ann"}', True) == []
    (leak,) = checker.response(op, "GET", 200, JSON, b'{"name": "ann", "password": "pw"}', True)
    assert leak.pointer.startswith("/body") and leak.severity == VIOLATION  # a writeOnly property never comes back


NULLABLE_SECRET = """openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /api/settings:
    get:
      responses:
        '200':
          description: settings
          content:
            application/json:
              schema:
                type: object
                properties:
                  llm_model: {type: string}
                  llm_api_key:
                    anyOf: [{type: string, format: password, writeOnly: true}, {type: 'null'}]
"""


def test_a_nullable_write_only_secret_answered_null_is_no_leak_and_a_value_is(tmp_path):
    """FastAPI's `SecretStr | None`: real OpenHands answers `"llm_api_key": null`."""
    contract = tmp_path / "settings.yaml"
    contract.write_text(NULLABLE_SECRET)
    mock = build_mock(Config(spec=str(contract)))
    checker = judge(mock)
    op = mock.spec.operations[0]
    assert checker.response(op, "GET", 200, JSON, b'{"llm_model": "m", "llm_api_key": null}', True) == []
    (leak,) = checker.response(op, "GET", 200, JSON, b'{"llm_model": "m", "llm_api_key": "sk-123456"}', True)
    assert leak.pointer.startswith("/body") and leak.severity == VIOLATION


def test_a_real_405_to_head_is_not_a_violation():
    """HEAD goes to the GET operation (the contract lists no HEAD); a server that refuses it says nothing against
    the contract."""
    for status in (405, 404, 501):  # 404: a framework that routes no HEAD (OpenHands behind its static files)
        (found,) = CHECKER.response(PETS, "HEAD", status, {**JSON, "allow": "GET"}, b"", True)
        assert found.severity == WARNING and "documents no HEAD" in found.reason
    assert CHECKER.response(PETS, "GET", 405, JSON, b"{}", True)[0].severity == VIOLATION
