"""Faults the population test (corpus/, issue 21) found on published contracts, each as a minimal contract in
tests/contracts/realworld/ that failed before its fix. Behaviour only: the contract in, HTTP out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent.parent / "contracts" / "realworld"
Client = Callable[..., httpx.Client]


def mock(client_factory: Client, name: str, **options: Any) -> httpx.Client:
    return client_factory(spec=str(HERE / name), **options)


def test_a_server_url_variable_starting_with_a_slash_gives_one_prefix(client_factory: Client) -> None:
    client = mock(client_factory, "server-url-prefix.yaml")
    assert client.get("/api/inventory/v1.0/sources").status_code == 200
    assert client.get("/sources").status_code == 404


def test_a_server_url_that_is_a_bare_host_is_no_prefix(client_factory: Client) -> None:
    client = mock(client_factory, "server-url-host.yaml")
    assert client.get("/v1/nutrition").status_code == 200


def test_a_pattern_no_value_of_its_format_matches_is_no_500(client_factory: Client) -> None:
    client = mock(client_factory, "pattern-outside-format.yaml")
    for i in range(12):  # several pool slots
        response = client.get(f"/shipments/se-{i}/rates")
        assert response.status_code == 200, response.text
        assert response.json()["rate_id"].startswith("se-")


def test_a_timestamp_longer_than_its_plain_form_has_fractions_or_an_offset(client_factory: Client) -> None:
    from datetime import datetime

    client = mock(client_factory, "pattern-outside-format.yaml")
    for i in range(12):
        body = client.get("/filings", params={"page": i}).json()
        assert len(body["filed"]) == 25 and len(body["received"]) >= 24, body
        for value in body.values():
            datetime.fromisoformat(value.replace("Z", "+00:00"))  # RFC 3339, nothing after it
    assert not client.app.mock.warnings  # type: ignore[attr-defined]


def test_a_very_large_unsatisfiable_schema_is_not_given_to_hypothesis(
    tmp_path: Path, client_factory: Client, monkeypatch: Any
) -> None:
    # influxdata.com: hypothesis-jsonschema's set-up on a 70 kB schema took 16-45 s, so the answer timed out
    import json

    from mockserver.serve.data import generation

    calls: list[object] = []
    real = generation._strategy
    monkeypatch.setattr(generation, "_strategy", lambda schema: calls.append(schema) or real(schema))
    fields = {f"field_{i}": {"type": "string", "description": "words " * 20} for i in range(200)}
    part = {"type": "object", "required": ["field_0"], "properties": fields}
    # `additionalProperties: false` beside an `allOf` whose properties it does not list: nothing satisfies it
    schema = {"type": "object", "additionalProperties": False, "allOf": [part]}
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}
    contract = tmp_path / "large.json"
    contract.write_text(json.dumps({"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
                                    "paths": {"/dashboards": {"get": {"responses": ok}}}}))  # fmt: skip
    client = client_factory(spec=str(contract))
    assert client.get("/dashboards").status_code == 200
    assert calls == []
    assert any("no value satisfies" in w for w in client.app.mock.warnings)  # type: ignore[attr-defined]


def test_a_parameter_sharing_its_segment_with_an_enum_parameter_takes_the_rest(client_factory: Client) -> None:
    client = mock(client_factory, "mixed-segments.yaml")
    assert client.get("/blog/getting-started.json").status_code == 200
    assert client.get("/routedFilter/12.5.jsonp").status_code == 200
    assert client.get("/routedFilter/12.5.json").status_code == 200
    assert client.get("/routedFilter/12.5.txt").status_code in (404, 422)  # not one of the enum's values


def test_form_array_items_that_are_objects_are_read_as_json_and_a_repeated_field_is_an_array(
    client_factory: Client,
) -> None:
    from urllib.parse import urlencode

    client = mock(client_factory, "form-nested.yaml")

    def send(pairs: list[tuple[str, str]]) -> int:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return client.post("/sendPhoto", content=urlencode(pairs), headers=headers).status_code

    entities = [("caption_entities", '{"offset": 3, "type": "mention"}'), ("caption_entities", '{"offset": 9}')]
    assert send([("chat_id", "7"), *entities]) == 200
    assert send([("chat_id", "7"), ("caption_entities", '{"offset": "x"}')]) == 422
    assert send([("chat_id", "7"), ("tags", "a"), ("tags", "b")]) == 200
    coupons = [("discounts", '{"coupon": "c1"}'), ("discounts", '{"coupon": "c2"}')]
    assert send([("chat_id", "7"), *coupons]) == 200  # items of an `anyOf` branch (stripe)


def test_a_content_key_naming_no_media_type_takes_any_and_a_scalar_form_is_its_text(client_factory: Client) -> None:
    client = mock(client_factory, "odd-request-media.yaml")
    assert client.request("DELETE", "/mealplanner/dsky/day/2025-01-01", content=b'{"hash": "4b5v"}').status_code == 200
    sent = client.request("DELETE", "/mealplanner/dsky/day/2025-01-01", content=b'{"hash": "4b5v"}',
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert sent.status_code == 200
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/food/detect", content=b"text=I like tacos", headers=form).status_code == 200


def test_a_parameter_enum_without_a_type_is_typed_by_its_values(client_factory: Client) -> None:
    client = mock(client_factory, "untyped-enum.yaml")
    for sent in ("true", "false", "0", "1"):
        assert client.post("/sms", params={"delivered": sent}).status_code == 200, sent
    assert client.post("/sms", params={"delivered": "yes"}).status_code == 422


def test_an_object_field_of_a_nullable_form_is_read_as_json(client_factory: Client) -> None:
    client = mock(client_factory, "nullable-form.yaml")
    fields = {"file": (None, "hello"), "user": (None, '{"id": "u-1"}')}
    assert client.post("/channels/c1/file", files=fields).status_code == 201
    assert client.post("/channels/c1/file", files={"user": (None, '{"name": 3}')}).status_code in (400, 422)


def test_same_shape_templates_are_told_apart_by_their_path_parameters(client_factory: Client) -> None:
    client = mock(client_factory, "same-shape-templates.yaml")
    assert set(client.get("/Contacts/6f1e2a34-9d1b-4c1e-8a7f-2b3c4d5e6f70").json()) == {"by_id"}
    assert set(client.get("/Contacts/CN-12").json()) == {"by_number"}
    assert set(client.get("/items/42").json()) == {"n"}
    assert set(client.get("/items/widget").json()) == {"name"}
    assert client.get("/items/Widget-9").status_code == 422  # neither fits: the first template's verdict


def test_a_very_large_contract_builds_request_validators_on_first_use(monkeypatch: Any) -> None:
    # Microsoft Graph (11,422 operations): building every request validator was a third of its start-up
    from mockserver.contract.spec import load_spec
    from mockserver.serve.pipeline import request_validators

    spec = load_spec(str(HERE / "same-shape-templates.yaml"))
    built: list[str] = []
    real = request_validators.RequestValidator
    monkeypatch.setattr(request_validators, "RequestValidator", lambda op, s: built.append(op.key) or real(op, s))
    assert len(request_validators.Validators(spec.operations, spec.schemas)) == 4 and len(built) == 4  # eager
    monkeypatch.setattr(request_validators, "LAZY_ABOVE", 3)
    lazy = request_validators.Validators(spec.operations, spec.schemas)
    assert len(built) == 4 and len(lazy) == 4
    assert lazy["GET /items/{id}"].path_ok({"id": "7"}) and not lazy["GET /items/{id}"].path_ok({"id": "x"})
    assert built[4:] == ["GET /items/{id}"]


def test_an_empty_example_is_not_served_as_a_value(client_factory: Client) -> None:
    client = mock(client_factory, "empty-example.yaml")
    for i in range(8):
        body = client.get(f"/groups/g{i}").json()
        assert body["note"] and body["groupId"], body


def test_overlapping_one_of_branches_give_a_value_only_one_branch_accepts(client_factory: Client) -> None:
    import jsonschema_rs
    import yaml

    contract = yaml.safe_load((HERE / "oneof-overlapping.yaml").read_text())
    client = mock(client_factory, "oneof-overlapping.yaml")

    def branches(path: str, method: str = "get") -> list[Any]:
        schema = contract["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        return [jsonschema_rs.validator_for(b) for b in schema.get("items", schema)["oneOf"]]

    def exclusive(value: Any, validators: list[Any]) -> bool:
        return sum(v.is_valid(value) for v in validators) == 1

    for i in range(8):  # several pool slots
        registration = client.get("/registration", params={"n": i})
        assert registration.status_code == 200 and exclusive(registration.json(), branches("/registration"))
        exports = client.get("/exports", params={"n": i}).json()
        assert len(exports) >= 3 and all(exclusive(item, branches("/exports")) for item in exports), exports
        check = client.post("/check", params={"n": i}).json()
        assert exclusive(check, branches("/check", "post")), check
        match = client.get(f"/matches/m{i}").json()
        assert isinstance(match["winner_id"], int) and match["winner_id"] >= 1, match
    assert not client.app.mock.warnings  # type: ignore[attr-defined]
    again = mock(client_factory, "oneof-overlapping.yaml")  # the same request, the same answer
    assert again.get("/registration", params={"n": 3}).json() == client.get("/registration", params={"n": 3}).json()


def test_a_typed_null_beside_a_one_of_of_other_types_is_said_and_served_closest(client_factory: Client) -> None:
    client = mock(client_factory, "oneof-typed-null.yaml")
    response = client.get("/search-repo")
    assert response.status_code == 200 and "namespaceId" in response.json(), response.text
    assert any("no value satisfies" in w for w in client.app.mock.warnings)  # type: ignore[attr-defined]
