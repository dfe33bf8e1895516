"""The contract is the oracle: Schemathesis, all checks, in process, against the mock built from each contract.

The OpenHands contract requires X-Session-API-Key but documents no 401. A 401/403 to a request that lacks the
credentials the contract requires is correct behaviour, so that one answer is accepted here (see README); every
other check, including `ignored_auth`, runs unchanged.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import UndefinedStatusCode
from starlette.requests import cookie_parser

from mockserver.serve.pipeline.overrides import check
from tests.support import CONVERSATIONS, CONVERSATIONS_FIXTURES, SHOP

from .conformance import KEY, mock_schema


def _schema(source: str | None, **options: object) -> schemathesis.schemas.BaseSchema:
    return mock_schema(source, api_key=KEY, **options)


def _steered() -> schemathesis.schemas.BaseSchema:
    """The built-in mock with runtime overrides that run out as the test goes (newest first), and the sequence
    fixture reached through one of them: what a frontend developer switches on at run time stays in contract."""
    schema = _schema(None)
    mock = schema.app.mock
    op = "GET /api/conversations/{conversation_id}"
    for body in (
        {"operation": op, "prefer": "code=422", "times": 15},
        {"operation": op, "prefer": "branch=null", "times": 15},
        {"operation": op, "prefer": "example=starting-then-running", "times": 15},
        {"operation": op, "prefer": "dynamic=true, delay=0", "times": 15},
    ):
        mock.store.add_override(check(body, mock.spec, 10_000))
    return schema


BASIC = base64.b64encode(f"user:{KEY}".encode()).decode()


def _carries_credentials(case, request) -> bool:
    """Whether the request holds the key exactly where one of the contract's schemes puts it: Hypothesis also draws
    string constants of this module (the key) for path parameters and other headers, which are no credential."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    query = parse_qs(urlsplit(request.url).query)
    cookies = cookie_parser(headers.get("cookie", ""))  # the mock's own, lenient reading: drawn cookies are junk
    for scheme in case.operation.schema.app.mock.spec.security_schemes.values():
        if scheme.location == "query":
            found = query.get(scheme.parameter, [])
        elif scheme.location == "cookie":
            found = [cookies[scheme.parameter]] if scheme.parameter in cookies else []
        else:
            found = [headers.get(scheme.parameter.lower(), "")]
        if any(value in (KEY, f"Bearer {KEY}", f"Basic {BASIC}") for value in found):
            return True
    return False


def _check(case) -> None:
    response = case.call()
    if _carries_credentials(case, response.request):
        assert response.status_code not in (401, 403), "the mock refused valid credentials"
    try:
        case.validate_response(response)
    except FailureGroup as group:
        # A 401/403 to a request without the credentials the contract requires is right, documented or not.
        rest = [f for f in group.exceptions if not (isinstance(f, UndefinedStatusCode) and f.status_code in (401, 403))]
        if rest:
            raise FailureGroup(rest, str(group)) from None


OPENHANDS = _schema(None)
SHOP_SCHEMA = _schema(SHOP)
STEERED = _steered()
STATEFUL = _schema(CONVERSATIONS, fixtures=CONVERSATIONS_FIXTURES, stateful=True)
STATEFUL_SHOP = _schema(SHOP, stateful=True)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@OPENHANDS.parametrize()
@SETTINGS
def test_mock_of_openhands_conforms(case):
    _check(case)


@SHOP_SCHEMA.parametrize()
@SETTINGS
def test_mock_of_richer_openapi30_contract_conforms(case):
    _check(case)


@STEERED.parametrize()
@SETTINGS
def test_mock_with_overrides_and_sequences_conforms(case):
    _check(case)


@STATEFUL.parametrize()
@SETTINGS
def test_stateful_mock_of_the_openhands_conversations_api_conforms(case):
    """POST, GET, list, PATCH and DELETE on one store: what was posted comes back valid, writeOnly never."""
    _check(case)


@STATEFUL_SHOP.parametrize()
@SETTINGS
def test_stateful_mock_of_richer_openapi30_contract_conforms(case):
    _check(case)


def test_the_steered_and_stateful_apps_do_answer_from_overrides_sequences_and_state():
    """The runs above are only worth something if such answers are what their cases get."""
    from starlette.testclient import TestClient

    key = {"X-Session-API-Key": KEY}
    with TestClient(_steered().app) as client:
        sources = [client.get("/api/conversations/any", headers=key).headers["x-mock-source"] for _ in range(20)]
        notes = [e["note"] for e in client.get("/__mock/requests").json()["requests"]]
    assert set(sources) == {"override"} and any("starting-then-running (" in n for n in notes)
    with TestClient(_schema(CONVERSATIONS, fixtures=CONVERSATIONS_FIXTURES, stateful=True).app) as client:
        created = client.post("/api/conversations", json={"title": "t"}, headers=key)
    assert created.headers["x-mock-source"] == "state"


def test_a_401_without_credentials_is_the_one_accepted_deviation():
    """Proof the acceptance above is needed, and narrow: plain Schemathesis flags exactly this 401."""
    operation = OPENHANDS["/api/conversations/{conversation_id}"]["GET"]
    case = operation.Case(path_parameters={"conversation_id": "running"})
    response = case.call()
    assert response.status_code == 401
    with pytest.raises(FailureGroup) as caught:
        case.validate_response(response)
    assert {type(f) for f in caught.value.exceptions} == {UndefinedStatusCode}
