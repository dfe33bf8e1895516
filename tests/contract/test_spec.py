"""Loading contracts: 3.0 and 3.1, relative-file and recursive $refs, and clear errors for broken documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema_rs
import pytest

from mockserver.contract.documents import DocumentError
from mockserver.contract.schemas import accepts_null
from mockserver.contract.spec import load_spec
from tests.support import ROOT, SHOP


def test_builtin_contract_is_the_seed_yaml_unchanged():
    seed = ROOT.parent / "shared" / "seed" / "openhands-get-conversation.md"
    stored = (ROOT / "contracts" / "openhands" / "get-conversation.openapi.yaml").read_text()
    if seed.exists():
        assert stored.strip() in seed.read_text()
    spec = load_spec()
    assert [op.key for op in spec.operations] == ["GET /api/conversations/{conversation_id}"]
    assert spec.prefix == ""  # servers[0] is a host with no path


def test_openapi30_nullable_allof_oneof_and_relative_refs():
    spec = load_spec(SHOP)
    assert spec.prefix == "/v1"
    assert "common_Problem" in spec.document["components"]["schemas"]  # ./common.yaml was bundled in
    pet = spec.find("getPet")
    assert pet is not None
    schema = pet.responses["200"].content["application/json"].schema
    validator = jsonschema_rs.validator_for(spec.schemas.standalone(schema))
    assert validator.is_valid({"id": 1, "name": "Tom", "kind": "cat", "lives": 9, "owner": None})
    assert not validator.is_valid({"id": 1, "name": "Tom", "kind": "cat", "lives": 10})
    assert not validator.is_valid({"id": 1, "name": "Tom", "kind": "dog", "lives": 3})  # oneOf: neither branch
    problem = pet.responses["404"].content["application/json"].schema
    assert jsonschema_rs.validator_for(spec.schemas.standalone(problem)).is_valid(
        {"title": "x", "status": 404, "detail": None}
    )


def test_recursive_schema_validates_nested_instances():
    spec = load_spec(SHOP)
    op = spec.find("categoryTree")
    schema = op.responses["200"].content["application/json"].schema
    validator = jsonschema_rs.validator_for(spec.schemas.standalone(schema))
    tree = {"name": "a", "parent": None, "children": [{"name": "b", "children": [{"name": "c", "children": []}]}]}
    assert validator.is_valid(tree)
    assert not validator.is_valid({"name": "a", "children": [{"name": "b"}]})


def test_null_branch_detection():
    spec = load_spec()
    schema = spec.operations[0].responses["200"].content["application/json"].schema
    assert accepts_null(schema, spec.schemas)


def test_json_contracts_load_too(tmp_path: Path):
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"204": {"description": "x"}}}}},
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    assert load_spec(str(path)).operations[0].key == "GET /a"


BROKEN = {
    "empty": ("", "", "empty document"),
    "not-yaml": ("openapi: [3.1\n", "line", "invalid YAML"),
    "not-openapi": ("hello: world\n", "/openapi", "expected an OpenAPI version"),
    "swagger": ("swagger: '2.0'\ninfo: {}\npaths: {}\n", "/swagger", "2.0 is not supported"),
    "dangling-ref": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n"
        "          description: x\n          content:\n            application/json:\n"
        "              schema: {$ref: '#/components/schemas/Nope'}\n",
        "/paths/~1a/get/responses/200/content/application~1json/schema/$ref",
        "points nowhere",
    ),
    "bad-schema": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n"
        "          description: x\n          content:\n            application/json:\n"
        "              schema: {type: strin}\n",
        "/paths/~1a/get/responses/200/content/application~1json/schema/type",
        "not a valid JSON Schema",
    ),
    "missing-file-ref": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n"
        "          description: x\n          content:\n            application/json:\n"
        "              schema: {$ref: 'other.yaml#/X'}\n",
        "/$ref",
        "other.yaml",
    ),
    "duplicate-operation-id": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n"
        "  /a:\n    get: {operationId: x, responses: {'200': {description: y}}}\n"
        "  /b:\n    get: {operationId: x, responses: {'200': {description: y}}}\n",
        "/paths/~1b/get/operationId",
        "duplicate operationId",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_contracts_name_file_pointer_and_reason(tmp_path: Path, name: str):
    text, where, reason = BROKEN[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(DocumentError) as caught:
        load_spec(str(path), strict=True)
    message = str(caught.value)
    assert str(path) in message
    assert where in message
    assert reason in message


LENIENT = ("dangling-ref", "bad-schema", "missing-file-ref", "duplicate-operation-id")


@pytest.mark.parametrize("name", LENIENT)
def test_mistakes_that_leave_the_contract_servable_are_warnings_by_default(tmp_path: Path, name: str):
    text, where, reason = BROKEN[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    spec = load_spec(str(path))
    said = [w for w in [*spec.warnings, *spec.schemas.mistakes] if str(path) in w and where in w and reason in w]
    assert said and all(not op.unservable for op in spec.operations)
    assert len(spec.operations) == text.count("get:")


@pytest.mark.parametrize("name", sorted(set(BROKEN) - set(LENIENT)))
def test_what_is_not_a_contract_is_refused_even_when_lenient(tmp_path: Path, name: str):
    text, where, reason = BROKEN[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with pytest.raises(DocumentError, match=re.escape(reason)):
        load_spec(str(path))


@pytest.mark.e2e  # an HTTP server on a loopback port
def test_contract_from_an_http_url_with_relative_refs(tmp_path: Path):
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ROOT / "tests" / "contracts"))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/shop.openapi.yaml"
        spec = load_spec(url)
        assert spec.source == url and len(spec.operations) == 7
        assert "common_Problem" in spec.document["components"]["schemas"]  # fetched relative to the URL
        with pytest.raises(DocumentError) as caught:
            load_spec(url.replace("shop", "nothing"))
        assert "HTTP 404" in str(caught.value)
    finally:
        server.shutdown()
        server.server_close()


def test_invalid_contract_examples_are_skipped_with_a_warning(tmp_path: Path, client_factory):
    path = tmp_path / "ex.yaml"
    path.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /n:\n    get:\n      responses:\n        '200':\n"
        "          description: x\n          content:\n            application/json:\n"
        "              schema: {type: object, required: [n], properties: {n: {type: integer}}}\n"
        "              examples:\n                bad: {value: {n: 'not a number'}}\n"
        "                good: {value: {n: 42}}\n"
    )
    client = client_factory(spec=str(path))
    assert client.get("/n").json() == {"n": 42}
    assert client.get("/n", headers={"Prefer": "example=bad"}).status_code == 400
    warnings = client.get("/__mock/health").json()["warnings"]
    assert any("'bad'" in w and "does not match" in w for w in warnings)
