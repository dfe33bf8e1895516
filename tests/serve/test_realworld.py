"""Faults found on published contracts (issue 21), each as a minimal contract in tests/contracts/realworld/ that the
mock refused, answered 500 or answered wrongly. Written against behaviour only: the contract in, HTTP out.

Each answer is also checked against the contract with a validator of its own (on the raw document's schema, its
references inlined by the test), so the mock's conversion is not its own judge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import yaml

HERE = Path(__file__).resolve().parent.parent / "contracts" / "realworld"
Client = Callable[..., httpx.Client]


def mock(client_factory: Client, name: str, **options: Any) -> httpx.Client:
    return client_factory(spec=str(HERE / name), **options)


def raw_schema(name: str, pointer: str) -> Any:
    """The schema at `pointer` of the contract file, with its `#/components/...` references inlined and 3.0's
    `nullable` read as 3.0 says, for an independent validator."""
    document = yaml.safe_load((HERE / name).read_text())
    openapi30 = str(document["openapi"]).startswith("3.0")

    def resolve(node: Any, depth: int = 0, names: bool = False) -> Any:
        if isinstance(node, list):
            return [resolve(n, depth) for n in node]
        if not isinstance(node, dict):
            return node
        if names:  # a map of property names: each value is a schema, whatever its name
            return {k: resolve(v, depth) for k, v in node.items()}
        if "$ref" in node and depth < 6:
            target: Any = document
            for token in node["$ref"][2:].split("/"):
                target = target[token]
            return resolve(target, depth + 1)
        out = {
            k: (v if k in ("example", "enum", "const", "default") else resolve(v, depth, k == "properties"))
            for k, v in node.items()
        }
        if isinstance(out.get("required"), list):  # a duplicate (the fault under test) means required once
            out["required"] = list(dict.fromkeys(out["required"]))
        if openapi30 and out.pop("nullable", False) is True:
            out = {"anyOf": [out, {"type": "null"}]}
        return out

    target: Any = document
    for token in pointer.strip("/").split("/"):
        target = target[token.replace("~1", "/")]
    schema = resolve(target)
    # 3.1 documents here may hold 3.0's boolean bounds (the fault under test): read them as 3.0 does
    return json.loads(json.dumps(schema).replace('"exclusiveMinimum": true', '"exclusiveMinimum": 0'))


def check(name: str, pointer: str, value: Any) -> None:
    # formats asserted, as Schemathesis and the mock read them (a oneOf's branches may differ by format alone)
    found = [e.message for e in jsonschema_rs.validator_for(raw_schema(name, pointer), validate_formats=True)
             .iter_errors(value)]  # fmt: skip
    assert not found, found[0]


def ok_200(name: str) -> str:
    return f"/paths/{name}/get/responses/200/content/application~1json/schema"


# --- contract mistakes: a warning, never a refusal ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path", "schema_path", "said"),
    [
        ("duplicate-required.yaml", "/models/gpt-{}", "~1models~1{id}", "duplicate entries in 'required'"),
        ("recursive-anchor.yaml", "/filters", "~1filters", "$recursiveAnchor"),
        ("property-named-keyword.yaml", "/fields/F{}", "~1fields~1{id}", None),
        ("x-extension-ref.yaml", "/stations", "~1stations", None),
    ],
)
def test_a_contract_mistake_is_a_warning_and_the_operation_is_served(
    client_factory: Client, name: str, path: str, schema_path: str, said: str | None
) -> None:
    client = mock(client_factory, name)
    for i in range(8):  # several pool slots
        response = client.get(path.format(i), params={"page": i})
        assert response.status_code == 200, response.text
        if name != "recursive-anchor.yaml":
            check(name, ok_200(schema_path), response.json())
    warnings = client.app.mock.warnings  # type: ignore[attr-defined]
    if said is not None:
        assert any(said in w and HERE.name in w and "#/" in w for w in warnings), warnings


def test_strict_refuses_what_lenient_serves(client_factory: Client) -> None:
    from mockserver.contract.documents import DocumentError

    with pytest.raises(DocumentError) as caught:
        mock(client_factory, "duplicate-required.yaml", strict=True)
    assert caught.value.pointer.endswith("/required") and "not a valid JSON Schema" in caught.value.reason


def test_boolean_exclusive_bounds_in_31_are_read_as_30(client_factory: Client) -> None:
    client = mock(client_factory, "boolean-exclusive.yaml")
    for i in range(16):
        body = client.get("/settings", params={"temperature": "1.5", "x": str(i)}).json()
        assert 0 < body["top_p"] <= 1 and 1 <= body["n"] <= 3
    assert client.get("/settings", params={"temperature": "2"}).status_code == 422  # exclusiveMaximum: true
    assert client.get("/settings", params={"temperature": "1.99"}).status_code == 200


def test_a_pattern_the_regex_engine_refuses_is_dropped_with_a_warning(client_factory: Client) -> None:
    client = mock(client_factory, "invalid-pattern.yaml")
    response = client.post("/output", json={"xhtml": "<p>hi</p>", "code": "EUR"})
    assert response.status_code == 200, response.text
    assert re.fullmatch("[A-Z]{3}", response.json()["code"])  # the valid pattern still applies
    assert client.post("/output", json={"xhtml": "x", "code": "eur"}).status_code == 422
    warnings = client.app.mock.warnings  # type: ignore[attr-defined]
    assert any("/components/schemas/Output/properties/xhtml/pattern" in w for w in warnings), warnings


def test_an_operation_that_cannot_be_built_answers_a_problem_and_the_others_are_served(
    tmp_path: Path, client_factory: Client
) -> None:
    contract = tmp_path / "broken.yaml"
    contract.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n"
        "  /good:\n    get:\n      responses:\n"
        "        '200': {description: ok, content: {application/json: {schema: {type: integer}}}}\n"
        "  /bad:\n    get:\n      parameters: [{$ref: '#/components/parameters/Missing'}]\n"
        "      responses: {'200': {description: ok}}\n"
    )
    client = client_factory(spec=str(contract))
    assert client.get("/good").status_code == 200
    bad = client.get("/bad")
    assert bad.status_code == 501 and bad.headers["content-type"].startswith("application/problem+json")
    problem = bad.json()
    assert problem["pointer"] == "/paths/~1bad/get/parameters/0/$ref" and "points nowhere" in problem["reason"]


# --- generation that cannot fail silently --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "template", "media"),
    [
        ("allof-looser-nullable.yaml", "/attachments/{}", "application/json"),
        ("oneof-array-items.yaml", "/incidents/{}/custom_fields/values", "application/json"),
        ("format-uri-pattern.yaml", "/ResourceTypes/{}", "application/scim+json"),
        ("unsatisfiable-oneof.yaml", "/subscriptions/{}", "application/json"),
        ("unsatisfiable-oneof.yaml", "/plans/{}", "application/json"),
    ],
)
def test_combined_constraints_generate_valid_values_for_every_id(
    client_factory: Client, name: str, template: str, media: str
) -> None:
    client = mock(client_factory, name)
    document = yaml.safe_load((HERE / name).read_text())
    path_key = next(p for p in document["paths"] if p.split("/")[1] == template.split("/")[1])
    pointer = f"/paths/{path_key.replace('/', '~1')}/get/responses/200/content/{media.replace('/', '~1')}/schema"
    for i in range(40):  # more ids than pool slots
        response = client.get(template.format(f"id{i}"))
        assert response.status_code == 200, response.text
        check(name, pointer, response.json())


def test_an_unsatisfiable_schema_is_said_once(client_factory: Client) -> None:
    client = mock(client_factory, "unsatisfiable-oneof.yaml")
    for i in range(10):
        assert client.get(f"/subscriptions/s{i}").status_code == 200
    said = [w for w in client.app.mock.warnings if "GET /subscriptions/{id}" in w]  # type: ignore[attr-defined]
    assert len(said) == 1, said


# --- answers per the OpenAPI text ---------------------------------------------------------------------------------


def test_header_parameters_named_accept_content_type_authorization_are_ignored(client_factory: Client) -> None:
    client = mock(client_factory, "ignored-header-parameters.yaml")
    response = client.get("/incidents", headers={"From": "ops@example.com"})
    assert response.status_code == 200, response.text
    assert client.get("/incidents").status_code == 422  # From is an ordinary header parameter: still required


def test_allow_empty_value(client_factory: Client) -> None:
    client = mock(client_factory, "allow-empty-value.yaml")
    assert client.get("/tasks?opt_pretty=").status_code == 200
    assert client.get("/tasks?opt_pretty=true").status_code == 200
    assert client.get("/tasks?limit=").status_code == 422  # no allowEmptyValue: an empty value is not an integer


def test_event_stream_answers_are_server_sent_events(client_factory: Client) -> None:
    client = mock(client_factory, "event-stream.yaml")
    response = client.post("/chat/completions", json={"model": "gpt-4o", "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block.strip()]
    assert events and all(block.startswith("data: ") for block in events)
    data = [block[len("data: ") :] for block in events]
    payloads = [json.loads(d) for d in data if d != "[DONE]"]
    assert payloads
    pointer = "/paths/~1chat~1completions/post/responses/200/content/text~1event-stream/schema"
    for payload in payloads:
        check("event-stream.yaml", pointer, payload)


# --- realism -------------------------------------------------------------------------------------------------------


def test_examples_before_word_lists_and_timestamps_as_epoch_seconds(client_factory: Client) -> None:
    client = mock(client_factory, "realism.yaml")
    low = datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp()
    high = datetime(2027, 1, 1, tzinfo=timezone.utc).timestamp()
    for i in range(12):
        body = client.get(f"/tasks/t{i}").json()
        assert body["resource_type"] == "task"
        for name in ("created_at", "updated", "expires_at", "timestamp", "created"):
            assert low <= body[name] < high, (name, body[name])
        assert not low <= body["count"] < high
        check("realism.yaml", ok_200("~1tasks~1{task_gid}"), body)


def test_parameter_styles_are_read_as_the_parameter_object_says(client_factory: Client) -> None:
    client = mock(client_factory, "parameter-styles.yaml")
    valid = {"filter[size]": "3", "filter[color]": "red", "ids": "1|2", "number": "2"}
    assert client.get("/items/.5/;tags=a,b", params=valid).status_code == 200
    wrong = client.get("/items/.x/;tags=a,b", params={**valid, "filter[size]": "big"})
    assert wrong.status_code == 422
    assert {tuple(e["loc"]) for e in wrong.json()["errors"]} == {("path", "id"), ("query", "filter", "size")}
    assert client.get("/items/.5/;tags=a", params={**valid, "ids": "1|x"}).status_code == 422


def test_path_keys_with_conditions_and_templates_inside_segments_route(client_factory: Client) -> None:
    client = mock(client_factory, "path-keys.yaml")
    assert set(client.post("/", headers={"X-Amz-Target": "Svc.GetA"}).json()) == {"a"}
    assert set(client.post("/", headers={"X-Amz-Target": "Svc.GetB"}).json()) == {"b"}
    assert set(client.post("/photos").json()) == {"created"}
    assert set(client.post("/photos?uploads").json()) == {"upload_id"}
    assert set(client.get("/v1/operations%2Fop-1").json()) == {"done"}
    assert set(client.post("/v1/operations%2Fop-1:cancel").json()) == {"cancelled"}
    assert client.get("/api/iconsets/v3/categories", params={"platform": "ios7"}).status_code == 200
    assert client.get("/api/iconsets/v3/categories", params={"platform": "web"}).status_code == 422
