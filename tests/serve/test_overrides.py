"""Runtime overrides (`/__mock/overrides`) and Prism-style query controls (`?__code=`): what a frontend developer
steers without touching the app's requests."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import CONVERSATION, KEY_HEADER

KEY = {KEY_HEADER: "k"}
OP = "GET /api/conversations/{conversation_id}"


def test_an_override_changes_the_next_answer_and_says_so(client):
    added = client.post("/__mock/overrides", json={"operation": OP, "prefer": "code=422"})
    assert added.status_code == 201
    assert added.headers["location"] == f"/__mock/overrides/{added.json()['id']}"
    answer = client.get(CONVERSATION + "running", headers=KEY)
    assert answer.status_code == 422 and answer.headers["x-mock-source"] == "override"
    assert "detail" in answer.json()
    entry = client.get("/__mock/requests?limit=1").json()["requests"][0]
    assert entry["source"] == "override" and entry["override"] == added.json()["id"]
    assert entry["note"].startswith(f"override {added.json()['id']} (code=422)")


def test_an_undocumented_status_is_forced_with_the_mocks_own_document(client):
    client.post("/__mock/overrides", json={"operation": OP, "prefer": "code=500"})
    answer = client.get(CONVERSATION + "running", headers=KEY)
    assert answer.status_code == 500 and answer.headers["x-mock-source"] == "override"
    assert answer.json()["title"] == "Internal Server Error"
    assert "forced by a runtime override" in answer.json()["detail"]


def test_overrides_apply_after_security_and_validation(client):
    client.post("/__mock/overrides", json={"operation": OP, "prefer": "code=500"})
    assert client.get(CONVERSATION + "running").status_code == 401  # no key: security first


def test_params_narrow_an_override_and_the_most_specific_wins(client):
    client.post("/__mock/overrides", json={"operation": OP, "prefer": "code=422"})
    client.post(
        "/__mock/overrides", json={"operation": OP, "params": {"conversation_id": "running"}, "prefer": "branch=null"}
    )
    assert client.get(CONVERSATION + "running", headers=KEY).json() is None
    assert client.get(CONVERSATION + "stopped", headers=KEY).status_code == 422


def test_times_counts_uses_then_the_override_is_gone(client):
    client.post("/__mock/overrides", json={"operation": OP, "prefer": "code=422", "times": 2})
    statuses = [client.get(CONVERSATION + "running", headers=KEY).status_code for _ in range(4)]
    assert statuses == [422, 422, 200, 200]
    assert client.get("/__mock/overrides").json()["overrides"] == []


def test_an_override_delay_applies_to_the_normal_answer(client_factory, monkeypatch):
    import mockserver.serve.app as app_module

    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(app_module, "_sleep", fake_sleep)
    client = client_factory()
    client.post("/__mock/overrides", json={"operation": OP, "prefer": "delay=300"})
    answer = client.get(CONVERSATION + "running", headers=KEY)
    assert answer.json()["status"] == "RUNNING" and slept == [0.3]


def test_remove_one_or_all(client):
    first = client.post("/__mock/overrides", json={"operation": OP, "prefer": "code=422"}).json()["id"]
    client.post("/__mock/overrides", json={"operation": OP, "prefer": "branch=null"})
    assert client.get(f"/__mock/overrides/{first}").json()["prefer"] == "code=422"
    assert client.delete(f"/__mock/overrides/{first}").status_code == 204
    assert client.delete(f"/__mock/overrides/{first}").status_code == 404
    assert client.get(CONVERSATION + "running", headers=KEY).json() is None
    assert client.delete("/__mock/overrides").json() == {"removed": 1}
    assert client.get(CONVERSATION + "running", headers=KEY).json()["status"] == "RUNNING"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"prefer": "code=500"}, "operation"),
        ({"operation": "GET /nope", "prefer": "code=500"}, "operation"),
        ({"operation": OP}, "prefer"),
        ({"operation": OP, "prefer": "code=5000"}, "prefer"),
        ({"operation": OP, "prefer": "frobnicate=1"}, "prefer"),
        ({"operation": OP, "prefer": "code=500", "params": {"id": "x"}}, "params.id"),
        ({"operation": OP, "prefer": "code=500", "times": 0}, "times"),
        ({"operation": OP, "prefer": "code=500", "when": "always"}, "when"),
        ([1, 2], "(body)"),
        ({"operation": OP, "prefer": "example=nope"}, "prefer"),
        ({"operation": OP, "prefer": "branch=9"}, "prefer"),
        ({"operation": OP, "prefer": "code=503, branch=0"}, "prefer"),
        ({"operation": OP, "prefer": 5}, "prefer"),
        ({"operation": OP, "fault": "explode"}, "fault"),
        ({"operation": OP, "response": []}, "response"),
        ({"operation": OP, "response": {"status": 200, "extra": 1}}, "/response/extra"),
        ({"operation": OP, "response": {"status": "200"}}, "/response/status"),
        ({"operation": OP, "response": {"status": 503}}, "/response/status"),
        ({"operation": OP, "response": {"status": 200, "headers": ["x"]}}, "/response/headers"),
        (
            {"operation": OP, "response": {"status": 200, "headers": {"Content-Length": "9"}}},
            "/response/headers/Content-Length",
        ),
        ({"operation": OP, "response": {"status": 200, "headers": {"X-A": {"b": 1}}}}, "/response/headers/X-A"),
        (
            {"operation": OP, "response": {"status": 200, "headers": {"Content-Type": "text/csv"}, "body": "a"}},
            "/response/headers/Content-Type",
        ),
        ({"operation": OP, "response": {"status": 200, "body": {"status": "PAUSED"}}}, "/body/status"),
        ({"operation": OP, "response": {"status": 200, "body": None}, "prefer": "code=422"}, "prefer"),
        (
            {"operation": OP, "response": {"status": 200, "body": None}, "allow_undocumented": "yes"},
            "allow_undocumented",
        ),
        (
            {"operation": OP, "response": {"status": 599, "body": "x" * 300_000}, "allow_undocumented": True},
            "/response/body",
        ),
    ],
)
def test_a_bad_override_is_a_400_naming_the_member(client, body, field):
    answer = client.post("/__mock/overrides", json=body)
    assert answer.status_code == 400
    assert answer.json()["field"] == field and answer.json()["detail"].startswith(field)
    assert client.get("/__mock/overrides").json()["overrides"] == []


def test_an_override_by_operation_id(client):
    body = {"operation": "get_conversation_api_conversations__conversation_id__get", "prefer": "code=422"}
    assert client.post("/__mock/overrides", json=body).json()["operation"] == OP


def test_remembered_answers_are_not_served_while_an_override_is_active(client):
    assert client.get(CONVERSATION + "abc", headers=KEY).status_code == 200  # remembered
    client.post("/__mock/overrides", json={"operation": OP, "prefer": "code=422"})
    assert client.get(CONVERSATION + "abc", headers=KEY).status_code == 422
    client.delete("/__mock/overrides")
    assert client.get(CONVERSATION + "abc", headers=KEY).status_code == 200


@pytest.mark.parametrize(
    "query, check",
    [
        ("__code=422", lambda r: r.status_code == 422),
        ("__example=stopped", lambda r: r.json()["status"] == "STOPPED"),
        ("__dynamic=true", lambda r: r.headers["x-mock-source"] == "generated"),
        ("__branch=null", lambda r: r.json() is None),
    ],
)
def test_query_controls_are_the_prefer_vocabulary(client, query, check):
    assert check(client.get(CONVERSATION + f"running?{query}", headers=KEY))


def test_query_controls_are_stripped_before_validation_and_matching(client_factory, tmp_path):
    (tmp_path / "q.yaml").write_text(
        "operation: GET /pets\nmatch: {query: {status: sold}}\nresponse: {status: 200, headers: {X-Total-Count: '0'},"
        " body: []}\n"
    )
    from tests.support import SHOP

    client = client_factory(spec=SHOP, fixtures=str(tmp_path))
    auth = {"Authorization": "Bearer t"}
    plain = client.get("/v1/pets?status=sold", headers=auth)
    controlled = client.get("/v1/pets?status=sold&__delay=0", headers=auth)
    assert plain.headers["x-mock-source"] == controlled.headers["x-mock-source"] == "fixture"
    assert client.get("/v1/pets?__code=422", headers=auth).status_code == 422


def test_a_bad_query_control_is_a_400_naming_it(client):
    answer = client.get(CONVERSATION + "running?__code=abc", headers=KEY)
    assert answer.status_code == 400 and "__code" in answer.json()["detail"]


def test_an_override_wins_over_query_controls_and_prefer(client):
    client.post("/__mock/overrides", json={"operation": OP, "prefer": "branch=null"})
    answer = client.get(CONVERSATION + "running?__example=stopped", headers={**KEY, "Prefer": "example=running"})
    assert answer.json() is None


CONVERSATION_BODY = {
    "conversation_id": "pinned",
    "title": "Pinned by a test",
    "status": "STOPPED",
    "created_at": "2026-01-01T00:00:00Z",
    "last_updated_at": "2026-01-01T00:00:00Z",
}


def test_a_response_override_answers_exactly_that(client):
    response = {"status": 200, "headers": {"X-Trace": "abc"}, "body": CONVERSATION_BODY}
    added = client.post("/__mock/overrides", json={"operation": OP, "response": response, "prefer": "delay=0"})
    assert added.status_code == 201, added.text
    answer = client.get(CONVERSATION + "running", headers=KEY)
    assert answer.status_code == 200 and answer.json() == CONVERSATION_BODY
    assert answer.headers["x-trace"] == "abc" and answer.headers["x-mock-source"] == "override"
    assert answer.headers["content-type"] == "application/json"
    entry = client.get("/__mock/requests?limit=1").json()["requests"][0]
    assert entry["override"] == added.json()["id"] and "response 200" in entry["note"]


def test_a_body_the_contract_forbids_is_refused_with_its_pointer(client):
    body = {**CONVERSATION_BODY, "status": "PAUSED"}
    refused = client.post("/__mock/overrides", json={"operation": OP, "response": {"status": 200, "body": body}})
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith('/body/status: "PAUSED" is not one of')
    assert refused.json()["field"] == "/body/status"


def test_an_undocumented_status_needs_allow_undocumented(client):
    response = {"status": 503, "headers": {"Retry-After": "3"}, "body": {"error": "maintenance"}}
    refused = client.post("/__mock/overrides", json={"operation": OP, "response": response})
    assert refused.status_code == 400 and "allow_undocumented" in refused.json()["detail"]
    added = client.post("/__mock/overrides", json={"operation": OP, "response": response, "allow_undocumented": True})
    assert added.status_code == 201
    answer = client.get(CONVERSATION + "running", headers=KEY)
    assert (answer.status_code, answer.json(), answer.headers["retry-after"]) == (503, {"error": "maintenance"}, "3")


def test_a_documented_status_without_a_body_answers_empty(client):
    client.post("/__mock/overrides", json={"operation": OP, "response": {"status": 200}})
    answer = client.get(CONVERSATION + "running", headers=KEY)
    assert answer.status_code == 200 and answer.content == b""


def test_the_check_endpoint_judges_without_adding(client):
    bad = {"operation": OP, "response": {"status": 200, "body": {**CONVERSATION_BODY, "status": "PAUSED"}}}
    verdict = client.post("/__mock/overrides/check", json=bad).json()
    assert verdict["ok"] is False and verdict["field"] == "/body/status" and "PAUSED" in verdict["reason"]
    good = client.post("/__mock/overrides/check", json={"operation": OP, "prefer": "code=422"}).json()
    assert good["ok"] is True and good["override"]["prefer"] == "code=422"
    assert client.post("/__mock/overrides/check", content=b"{").json()["ok"] is False
    assert client.get("/__mock/overrides").json()["overrides"] == []


def test_a_forced_422_carries_a_real_validation_error(client_factory):
    from tests.support import SHOP

    client = client_factory(spec=SHOP)
    auth = {"Authorization": "Bearer t"}
    answer = client.get("/v1/pets?__code=422", headers=auth)
    refused = client.get("/v1/pets?limit=abc", headers=auth)
    assert answer.status_code == 422 and refused.status_code == 422
    # the forced body is what the mock's own validation says of a broken request: same shape, real names
    assert answer.json().keys() == refused.json().keys()
    assert "query/limit" in answer.text and refused.json()["status"] == answer.json()["status"] == 422


def test_a_forced_error_names_a_real_parameter(client):
    detail = client.get(CONVERSATION + "running?__code=422", headers=KEY).json()["detail"]
    assert detail[0]["loc"] == ["path", "conversation_id"] and detail[0]["msg"] == "Field required"


def test_every_status_like_field_says_the_status_sent(client_factory):
    client = client_factory(spec="contracts/openhands/openapi.json", fixtures=["fixtures/openhands"], auth="off")
    seen = 0
    for op in client.get("/__mock/operations").json()["operations"]:
        for status in (s for s in op["statuses"] if s.isdigit() and s[0] in "45"):
            if op["method"] != "GET" or "{" in op["path"]:
                continue
            answer = client.get(op["path"] + f"?__code={status}")
            if answer.status_code != int(status):
                continue  # a parameter the request lacks: refused first, as it should be
            seen += 1
            body = answer.json()
            found = [v for k, v in _walk(body) if k.lower() in ("status", "code", "status_code")]
            assert all(str(v) == status for v in found), (op["operation"], status, body)
            assert not isinstance(body, dict) or body != {}, (op["operation"], status)
    assert seen >= 3


def _walk(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


# --- nothing a client sends to the admin API crashes the mock ---------------------------------------------------


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_MEMBERS = st.sampled_from(["operation", "params", "prefer", "response", "fault", "times", "allow_undocumented"])
_RESPONSE = st.fixed_dictionaries(
    {},
    optional={
        "status": st.integers(-5, 700) | _JSON,
        "headers": _JSON | st.dictionaries(st.text(), _JSON),
        "body": _JSON,
    },  # fmt: skip
)
_OVERRIDE = st.dictionaries(_MEMBERS, _JSON | _RESPONSE | st.just(OP) | st.sampled_from(["reset", "code=200"]))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(body=_OVERRIDE)
def test_any_override_is_added_or_refused_with_one_clear_400(client, body):
    checked = client.post("/__mock/overrides/check", json=body)
    assert checked.status_code == 200
    added = client.post("/__mock/overrides", json=body)
    assert added.status_code in (201, 400), added.text
    assert (added.status_code == 201) == checked.json()["ok"]
    if added.status_code == 400:
        assert added.json()["detail"].startswith(added.json()["field"])
    else:  # whatever was added answers, and the journal can be asked about it
        answer = client.get(CONVERSATION + "running", headers=KEY)
        assert answer.status_code < 500 or answer.headers["x-mock-source"] == "override"
        client.delete("/__mock/overrides")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(["method", "path", "operation", "status", "source", "limit", "x"]),
                             st.text(max_size=30)))  # fmt: skip
def test_any_journal_query_is_answered_or_refused(client, query):
    found = client.get("/__mock/requests", params=query)
    assert found.status_code in (200, 400)
    assert client.delete("/__mock/requests", params=query).status_code in (204, 400)


def test_a_response_header_is_checked_against_its_documented_schema(client_factory):
    from tests.support import SHOP

    client = client_factory(spec=SHOP)
    response = {"status": 200, "headers": {"X-Total-Count": "many"}, "body": []}
    refused = client.post("/__mock/overrides", json={"operation": "GET /pets", "response": response})
    assert refused.status_code == 400 and refused.json()["field"] == "/response/headers/X-Total-Count"
    response["headers"] = {"X-Total-Count": "-1"}
    assert client.post("/__mock/overrides", json={"operation": "GET /pets", "response": response}).status_code == 400
    response["headers"] = {"X-Total-Count": "0"}
    assert client.post("/__mock/overrides", json={"operation": "GET /pets", "response": response}).status_code == 201
    answer = client.get("/v1/pets", headers={"Authorization": "Bearer t"})
    assert (answer.json(), answer.headers["x-total-count"]) == ([], "0")


def test_an_admin_body_past_the_limit_is_one_clear_400(client_factory):
    client = client_factory(max_body_bytes=1000)
    big = {"operation": OP, "response": {"status": 200, "body": {"title": "x" * 2000}}}
    refused = client.post("/__mock/overrides", json=big)
    assert refused.status_code == 400 and "larger than 1000 bytes" in refused.json()["detail"]
