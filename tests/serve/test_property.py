"""For any conversation id the mock answers a contract-valid body or a documented error, never a 500."""

from __future__ import annotations

from urllib.parse import quote

import jsonschema_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mockserver.contract.spec import load_spec
from mockserver.serve.app import create_app
from mockserver.serve.config import Config
from tests.support import CONVERSATION, KEY_HEADER

SPEC = load_spec()
OP = SPEC.operations[0]
VALIDATORS = {
    int(status): jsonschema_rs.validator_for(
        SPEC.schemas.standalone(r.content["application/json"].schema), validate_formats=True
    )
    for status, r in OP.responses.items()
}
CLIENT = TestClient(create_app(Config(request_log=False)), base_url="http://mock")
TRICKY = st.sampled_from(["..", "../..", "%2F", "%2e%2e%2f", "%00", "%ff", "\u202eevil", "😀", "a/b", "?", "#", " "])
IDS = st.one_of(
    st.text(min_size=1, max_size=200),
    st.lists(TRICKY, min_size=1, max_size=5).map("".join),
    st.integers(min_value=1, max_value=10_000).map(lambda n: "x" * n),
)


def _encode(value: str) -> str:
    # Already-escaped tricks (%2F, %ff) pass through raw; everything else is percent-encoded as a client would.
    return quote(value.encode("utf-8", "surrogatepass"), safe="%" if "%" in value else "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversation_id=IDS, authorized=st.booleans())
def test_any_id_gets_a_valid_body_or_a_documented_error(conversation_id: str, authorized: bool):
    headers = {KEY_HEADER: "k"} if authorized else {}
    response = CLIENT.get(CONVERSATION + _encode(conversation_id), headers=headers)
    assert response.status_code < 500
    if not authorized:
        assert response.status_code in (401, 404)  # routing comes first: a raw '/' makes it another path
        return
    assert response.status_code in (200, 404, 422), response.text[:200]
    if response.status_code in VALIDATORS:
        assert VALIDATORS[response.status_code].is_valid(response.json())
    else:  # an id with a raw '/' is another path: the contract has nothing there
        assert response.json()["status"] == 404


def test_a_ten_thousand_character_id_is_echoed():
    long_id = "é" * 10_000
    response = CLIENT.get(CONVERSATION + quote(long_id), headers={KEY_HEADER: "k"})
    assert response.status_code == 200
    assert response.json()["conversation_id"] == long_id
