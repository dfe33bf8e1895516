"""Each line of the precedence list (negotiation.py's docstring), on its own, in process."""

from __future__ import annotations

import jsonschema_rs
import pytest

from mockserver.contract.spec import load_spec
from mockserver.serve.pipeline.preferences import PreferError, parse_prefer
from tests.support import CONVERSATION, KEY_HEADER, SHOP

KEY = {KEY_HEADER: "any-value"}
SPEC = load_spec()
OP = SPEC.operations[0]


def _validator(status: str) -> jsonschema_rs.Validator:
    schema = OP.responses[status].content["application/json"].schema
    return jsonschema_rs.validator_for(SPEC.schemas.standalone(schema), validate_formats=True)


VALID_200 = _validator("200")
VALID_422 = _validator("422")


# 1. security -------------------------------------------------------------------------------------------------------


def test_missing_key_answers_the_fixture_401_like_openhands(client):
    response = client.get(CONVERSATION + "running")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    assert response.headers["x-mock-source"] == "fixture"


def test_empty_key_is_missing(client):
    assert client.get(CONVERSATION + "running", headers={KEY_HEADER: ""}).status_code == 401


def test_without_fixtures_the_401_is_a_problem_naming_the_credential(client_factory):
    client = client_factory(fixtures="")
    response = client.get(CONVERSATION + "x")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "X-Session-API-Key" in response.json()["detail"]


def test_api_key_option_requires_that_exact_value(client_factory):
    client = client_factory(api_key="s3cret-value")
    assert client.get(CONVERSATION + "running", headers={KEY_HEADER: "wrong"}).status_code == 401
    assert client.get(CONVERSATION + "running", headers={KEY_HEADER: "s3cret-value"}).status_code == 200


def test_any_of_several_security_alternatives_passes(client_factory):
    shop = client_factory(spec=SHOP)
    assert shop.get("/v1/pets").status_code == 401
    assert shop.get("/v1/pets", headers={"Authorization": "Bearer t"}).status_code == 200
    assert shop.get("/v1/pets", params={"api_key": "k"}).status_code == 200
    assert shop.get("/v1/pets/3", headers={"Authorization": "Bearer t"}).status_code == 401  # needs basic
    assert shop.get("/v1/pets/3", headers={"Authorization": "Basic eDp5"}).status_code == 200
    assert (
        shop.post("/v1/pets", json={"name": "Rex", "kind": "dog"}, headers={"Cookie": "session=c"}).status_code == 201
    )
    assert shop.get("/v1/categories/tree").status_code == 200  # security: [] makes it public


def test_security_comes_before_validation(client_factory):
    shop = client_factory(spec=SHOP)
    assert shop.get("/v1/pets", params={"limit": "abc"}).status_code == 401


# 2. request validation ---------------------------------------------------------------------------------------------


def test_invalid_utf8_id_answers_422_valid_against_http_validation_error(client):
    response = client.get(CONVERSATION + "%ff%fe", headers=KEY)
    assert response.status_code == 422
    assert VALID_422.is_valid(response.json())
    assert response.json()["detail"][0]["loc"] == ["path", "conversation_id"]


def test_query_and_body_violations_answer_the_documented_422(client_factory):
    shop = client_factory(spec=SHOP)
    bad_limit = shop.get("/v1/pets", params={"limit": "500"}, headers={"Authorization": "Bearer t"})
    assert bad_limit.status_code == 422
    assert bad_limit.json()["errors"][0]["loc"] == ["query", "limit"]
    bad_body = shop.post("/v1/pets", json={"name": "", "kind": "bird"}, headers={"Cookie": "session=c"})
    assert bad_body.status_code == 422
    assert {tuple(e["loc"]) for e in bad_body.json()["errors"]} >= {("body", "name"), ("body", "kind")}
    not_json = shop.post("/v1/pets", content=b"{", headers={"content-type": "application/json", "Cookie": "session=c"})
    assert not_json.status_code == 422
    missing = shop.post("/v1/pets", headers={"Cookie": "session=c"})
    assert missing.status_code == 422


def test_path_parameter_types_are_checked(client_factory):
    shop = client_factory(spec=SHOP)
    basic = {"Authorization": "Basic eDp5"}
    assert shop.get("/v1/pets/abc", headers=basic).status_code == 422
    assert shop.get("/v1/pets/0", headers=basic).status_code == 422  # minimum: 1
    assert shop.get("/v1/pets/12", headers=basic).status_code == 200


def test_without_a_documented_422_the_error_is_a_plain_problem(client_factory, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /n:\n    get:\n      parameters:\n"
        "        - {name: n, in: query, required: true, schema: {type: integer}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    response = client_factory(spec=str(spec)).get("/n")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"loc": ["query", "n"], "msg": "Field required", "type": "missing"}]


# 3. Prefer ---------------------------------------------------------------------------------------------------------


def test_prefer_code_picks_a_documented_status(client):
    response = client.get(CONVERSATION + "running", headers={**KEY, "Prefer": "code=422"})
    assert response.status_code == 422
    assert VALID_422.is_valid(response.json())


def test_prefer_undocumented_code_is_a_clear_400(client):
    response = client.get(CONVERSATION + "x", headers={**KEY, "Prefer": "code=418"})
    assert response.status_code == 400
    assert response.json()["documented"] == ["200", "422"]


def test_prefer_example_names_a_fixture(client):
    response = client.get(CONVERSATION + "some-other-id", headers={**KEY, "Prefer": "example=stopped"})
    assert response.status_code == 200
    assert response.json()["conversation_id"] == "stopped"
    assert response.headers["x-mock-source"] == "fixture"


def test_prefer_example_names_a_spec_example(client_factory):
    shop = client_factory(spec=SHOP)
    response = shop.post(
        "/v1/pets", json={"name": "Rex", "kind": "dog"}, headers={"Cookie": "session=c", "Prefer": "example=rex"}
    )
    assert response.status_code == 201
    assert response.json()["name"] == "Rex"
    assert response.headers["x-mock-source"] == "example"


def test_prefer_unknown_example_lists_what_exists(client):
    response = client.get(CONVERSATION + "x", headers={**KEY, "Prefer": "example=../../etc/passwd"})
    assert response.status_code == 400
    assert "running" in response.json()["available"]


def test_prefer_branch_null_shows_not_found_even_for_a_fixture_id(client):
    response = client.get(CONVERSATION + "running", headers={**KEY, "Prefer": "branch=null"})
    assert response.status_code == 200
    assert response.json() is None


def test_prefer_branch_index_generates_that_branch(client):
    response = client.get(CONVERSATION + "abc", headers={**KEY, "Prefer": "branch=0"})
    assert response.status_code == 200
    assert response.json()["conversation_id"] == "abc"
    assert client.get(CONVERSATION + "abc", headers={**KEY, "Prefer": "branch=5"}).status_code == 400


def test_prefer_branch_null_on_a_non_nullable_schema_is_400(client_factory):
    shop = client_factory(spec=SHOP)
    response = shop.get("/v1/pets/1", headers={"Authorization": "Basic eDp5", "Prefer": "branch=null"})
    assert response.status_code == 400


def test_prefer_dynamic_true_skips_fixtures(client):
    response = client.get(CONVERSATION + "running", headers={**KEY, "Prefer": "dynamic=true"})
    assert response.headers["x-mock-source"] == "generated"
    assert response.json()["conversation_id"] == "running"  # echoed, but generated
    assert VALID_200.is_valid(response.json())


def test_prefer_dynamic_false_is_static_across_ids(client):
    one = client.get(CONVERSATION + "a", headers={**KEY, "Prefer": "dynamic=false"}).json()
    two = client.get(CONVERSATION + "b", headers={**KEY, "Prefer": "dynamic=false"}).json()
    assert {k: v for k, v in one.items() if k != "conversation_id"} == {
        k: v for k, v in two.items() if k != "conversation_id"
    }


@pytest.mark.parametrize(
    "header, fragment",
    [
        ("code=abc", "code"),
        ("dynamic=maybe", "dynamic"),
        ("branch=x", "branch"),
        ("delay=-5", "delay"),
        ("example=", "example"),
    ],
)
def test_malformed_known_preferences_are_400(client, header, fragment):
    response = client.get(CONVERSATION + "x", headers={**KEY, "Prefer": header})
    assert response.status_code == 400
    assert fragment in response.json()["detail"]


def test_unknown_preferences_are_ignored():
    assert parse_prefer("respond-async, wait=10, return=minimal", 1000).code is None


def test_prefer_delay_is_capped():
    assert parse_prefer("delay=99999999999999", 10_000).delay_ms == 10_000
    with pytest.raises(PreferError):
        parse_prefer("x" * 5000, 10)


# 4-6. fixtures, examples, generated --------------------------------------------------------------------------------


def test_fixture_wins_over_generation(client):
    response = client.get(CONVERSATION + "running", headers=KEY)
    assert response.headers["x-mock-source"] == "fixture"
    assert response.json()["status"] == "RUNNING"


def test_example_wins_over_generation(client_factory):
    shop = client_factory(spec=SHOP)
    response = shop.post("/v1/pets", json={"name": "Rex", "kind": "dog"}, headers={"Cookie": "session=c"})
    assert response.headers["x-mock-source"] == "example"


def test_generated_when_nothing_else(client):
    response = client.get(CONVERSATION + "no-fixture-here", headers=KEY)
    assert response.headers["x-mock-source"] == "generated"
    assert VALID_200.is_valid(response.json())


def test_fixtures_only_answers_null_for_unknown_ids(client_factory):
    client = client_factory(fixtures_only=True)
    assert client.get(CONVERSATION + "unknown", headers=KEY).json() is None
    assert client.get(CONVERSATION + "running", headers=KEY).json()["conversation_id"] == "running"


def test_unknown_path_404_and_wrong_method_405_say_what_exists(client):
    missing = client.get("/api/nothing", headers=KEY)
    assert missing.status_code == 404
    assert missing.json()["paths"] == ["/api/conversations/{conversation_id}"]
    wrong = client.delete(CONVERSATION + "x", headers=KEY)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET"


def test_literal_segment_beats_template(client_factory):
    shop = client_factory(spec=SHOP)
    response = shop.get("/v1/pets/mine", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_server_prefix_is_honoured(client_factory):
    shop = client_factory(spec=SHOP)
    assert shop.get("/pets", headers={"Authorization": "Bearer t"}).status_code == 404
    assert shop.get("/v1/health").text == "ok"


def test_documented_response_headers_are_sent(client_factory):
    shop = client_factory(spec=SHOP)
    response = shop.get("/v1/pets", headers={"Authorization": "Bearer t"})
    assert int(response.headers["x-total-count"]) >= 0


def test_head_falls_back_to_get_without_body(client):
    response = client.head(CONVERSATION + "running", headers=KEY)
    assert response.status_code == 200
    assert response.content == b""


def test_basic_auth_key_is_user_password_or_the_password(client_factory):
    import base64

    def basic(pair: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    with_colon = client_factory(spec=SHOP, api_key="alice:pw")
    assert with_colon.get("/v1/pets/3", headers=basic("alice:pw")).status_code == 200
    assert with_colon.get("/v1/pets/3", headers=basic("bob:pw")).status_code == 401
    password_only = client_factory(spec=SHOP, api_key="pw-123")
    assert password_only.get("/v1/pets/3", headers=basic("anyone:pw-123")).status_code == 200
    assert password_only.get("/v1/pets/3", headers=basic("anyone:nope")).status_code == 401
