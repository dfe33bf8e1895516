"""Synthetic contracts of N operations, for start-up time and memory against contract size.

Each operation is `GET /resources{i}/{item_id}` behind the same API-key header as the built-in contract, answering
its own component schema (a dozen fields: enums, formats, nullables, arrays, a shared nested `$ref`), plus 404/422.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .servers import KEY_HEADER

STATES = ["DRAFT", "ACTIVE", "PAUSED", "ARCHIVED", "DELETED"]


def _schema(i: int) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"Resource{i}",
        "required": ["item_id", "name", "state"],
        "properties": {
            "item_id": {"type": "string"},
            "name": {"type": "string", "minLength": 1, "maxLength": 80},
            "state": {"type": "string", "enum": STATES},
            "owner": {"$ref": "#/components/schemas/Owner"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
            "count": {"type": "integer", "minimum": 0, "maximum": 10_000},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
            "url": {"anyOf": [{"type": "string", "format": "uri"}, {"type": "null"}]},
            "enabled": {"type": "boolean"},
            f"extra_{i}": {"type": "string"},
        },
    }


def contract(operations: int) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Owner": {
            "type": "object",
            "required": ["id", "email"],
            "properties": {"id": {"type": "integer", "minimum": 1}, "email": {"type": "string", "format": "email"}},
        },
        "Error": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
    }
    paths: dict[str, Any] = {}
    for i in range(operations):
        schemas[f"Resource{i}"] = _schema(i)
        paths[f"/resources{i}/{{item_id}}"] = {
            "get": {
                "operationId": f"get_resource_{i}",
                "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "security": [{"APIKeyHeader": []}],
                "responses": {
                    "200": {
                        "description": "the resource",
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/Resource{i}"}}},
                    },
                    "404": {
                        "description": "no such resource",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                    "422": {
                        "description": "invalid request",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"bench contract, {operations} operations", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"APIKeyHeader": {"type": "apiKey", "in": "header", "name": KEY_HEADER}},
        },
    }


def write(folder: Path, operations: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"contract-{operations}-operations.yaml"
    path.write_text(yaml.safe_dump(contract(operations), sort_keys=False))
    return path


def probe(operations: int) -> str:
    """The last operation's path: the one a lazy server would reach last."""
    return f"/resources{operations - 1}/probe"


def every(operations: int) -> list[str]:
    return [f"/resources{i}/warm" for i in range(operations)]


# --- a richer variant: what real-world contracts hold ------------------------------------------------------------

FAMILIES = 10  # operation kinds, cycled: operation i is of kind i % FAMILIES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "ok", **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def _rich_schemas(operations: int) -> dict[str, Any]:
    """Shared components every family refers to, plus one resource schema per group of FAMILIES operations."""
    secret = {"anyOf": [{"type": "string", "format": "password", "writeOnly": True}, {"type": "null"}]}
    schemas: dict[str, Any] = {
        "Owner": {
            "type": "object",
            "required": ["id", "login"],
            "properties": {
                "id": {"type": "integer", "minimum": 1, "readOnly": True},
                "login": {"type": "string", "minLength": 1},
                "email": {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]},
                "password": {"type": "string", "writeOnly": True},
            },
        },
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "integer", "format": "int32"}, "message": {"type": "string"}},
        },
        "Node": {
            "type": "object",
            "required": ["id", "children"],
            "properties": {
                "id": {"type": "string"},
                "label": {"type": ["string", "null"]},
                "children": {"type": "array", "items": _ref("Node")},
                "parent": {"anyOf": [_ref("Node"), {"type": "null"}]},
            },
        },
        "Pet": {
            "type": "object",
            "required": ["pet_type", "name"],
            "properties": {"pet_type": {"type": "string"}, "name": {"type": "string"}},
        },
        "Cat": {"allOf": [_ref("Pet"), {"type": "object", "properties": {"hunts": {"type": "boolean"}}}]},
        "Dog": {"allOf": [_ref("Pet"), {"type": "object", "properties": {"breed": {"enum": ["Husky", "Dingo"]}}}]},
        "Circle": {
            "type": "object",
            "required": ["kind", "radius"],
            "properties": {"kind": {"type": "string", "enum": ["circle"]}, "radius": {"type": "number", "minimum": 0}},
        },
        "Square": {
            "type": "object",
            "required": ["kind", "side"],
            "properties": {"kind": {"type": "string", "enum": ["square"]}, "side": {"type": "number", "minimum": 0}},
        },
        "Shape": {
            "oneOf": [_ref("Circle"), _ref("Square")],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"circle": "#/components/schemas/Circle", "square": "#/components/schemas/Square"},
            },
        },
        "PushPayload": {
            "type": "object",
            "required": ["ref", "size"],
            "properties": {"ref": {"type": "string"}, "size": {"type": "integer", "minimum": 0}},
        },
        "IssuesPayload": {
            "type": "object",
            "required": ["action", "number"],
            "properties": {"action": {"enum": ["opened", "closed"]}, "number": {"type": "integer", "minimum": 1}},
        },
        "Event": {
            "type": "object",
            "required": ["id", "type", "payload", "created_at"],
            "properties": {
                "id": {"type": "string"},
                "type": {"type": "string"},
                "payload": {
                    "oneOf": [_ref("PushPayload"), _ref("IssuesPayload"), {"title": "Other", "type": "object"}]
                },
                "created_at": {"type": "string", "format": "date-time"},
            },
        },
        "Settings": {
            "type": "object",
            "properties": {
                "language": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "llm_api_key": secret,
                "search_api_key": secret,
                "max_iterations": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
            },
        },
        "TokenForm": {
            "type": "object",
            "required": ["grant_type", "client_id"],
            "properties": {
                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                "client_id": {"type": "string", "pattern": "^[a-z0-9-]{3,32}$"},
                "expires_in": {"type": "integer", "minimum": 60, "maximum": 3600},
            },
        },
    }
    for g in range(max(1, (operations + FAMILIES - 1) // FAMILIES)):
        resource = _schema(g)
        resource["required"] = ["item_id", "name", "state", "owner"]
        resource["properties"]["item_id"] = {"type": "string", "readOnly": True}
        resource["properties"]["owner"] = _ref("Owner")
        resource["properties"]["secret"] = {"type": "string", "writeOnly": True}
        resource["properties"]["shape"] = {"anyOf": [_ref("Shape"), {"type": "null"}]}
        schemas[f"Resource{g}"] = resource
    return schemas


def _rich_operation(i: int) -> tuple[str, str, dict[str, Any]]:
    """(path, method, operation) of operation i."""
    g, kind = divmod(i, FAMILIES)
    resource = _ref(f"Resource{g}")
    path_id = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    errors = {"422": _json(_ref("Error"), "invalid"), "default": _json(_ref("Error"), "error")}
    page = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
    ]
    op: dict[str, Any] = {"operationId": f"op_{i}"}
    if kind == 0:
        path, method = f"/g{g}/resources/{{item_id}}", "get"
        op |= {"parameters": path_id, "responses": {
            "200": _json(resource, headers={"ETag": {"required": True, "schema": {"type": "string"}},
                                            "Last-Modified": {"schema": {"type": "string"}}}),
            "404": _json(_ref("Error"), "missing"), **errors}}  # fmt: skip
    elif kind == 1:
        path, method = f"/g{g}/resources", "post"
        location = {"Location": {"required": True, "schema": {"type": "string", "format": "uri"}}}
        op |= {"requestBody": {"required": True, "content": {"application/json": {"schema": resource}}},
               "responses": {"201": _json(resource, headers=location), **errors}}  # fmt: skip
    elif kind == 2:
        path, method = f"/g{g}/resources", "get"
        listing = {"type": "object", "required": ["items", "total"],
                   "properties": {"items": {"type": "array", "items": resource},
                                  "total": {"type": "integer", "minimum": 0}}}  # fmt: skip
        op |= {"parameters": page, "responses": {"200": _json(listing), **errors}}
    elif kind == 3:
        path, method = f"/g{g}/pets/{{pet_id}}", "put"
        pet = {"oneOf": [_ref("Cat"), _ref("Dog")], "discriminator": {"propertyName": "pet_type"}}
        op |= {"parameters": [{"name": "pet_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
               "requestBody": {"required": True, "content": {"application/json": {"schema": pet}}},
               "responses": {"200": _json({"type": "object", "required": ["pet_type"],
                                           "properties": {"pet_type": {"type": "string"}}}), **errors}}  # fmt: skip
    elif kind == 4:
        path, method = f"/g{g}/shapes/{{shape_id}}", "get"
        op |= {"parameters": [{"name": "shape_id", "in": "path", "required": True, "schema": {"type": "string"}}],
               "responses": {"200": _json(_ref("Shape")), "default": _json(_ref("Error"), "error")}}  # fmt: skip
    elif kind == 5:
        path, method = f"/g{g}/trees/{{node_id}}", "get"
        op |= {"parameters": [{"name": "node_id", "in": "path", "required": True, "schema": {"type": "string"}}],
               "responses": {"200": _json(_ref("Node")), **errors}}  # fmt: skip
    elif kind == 6:
        path, method = f"/g{g}/events", "get"
        op |= {"parameters": page[1:], "responses": {"200": _json({"type": "array", "items": _ref("Event")}),
               "default": _json(_ref("Error"), "error")}}  # fmt: skip
    elif kind == 7:  # the same shape as kind 0's path, another method and parameter name
        path, method = f"/g{g}/resources/{{resource_key}}", "delete"
        op |= {"parameters": [{"name": "resource_key", "in": "path", "required": True, "schema": {"type": "string"}}],
               "responses": {"204": {"description": "deleted"}, "default": _json(_ref("Error"), "error")}}  # fmt: skip
    elif kind == 8:
        path, method = f"/g{g}/tokens", "post"
        op |= {"requestBody": {"required": True,
                               "content": {"application/x-www-form-urlencoded": {"schema": _ref("TokenForm")}}},
               "responses": {"200": _json({"type": "object", "required": ["access_token"],
                                           "properties": {"access_token": {"type": "string"}}}), **errors}}  # fmt: skip
    else:
        path, method = f"/g{g}/settings", "patch"
        op |= {"requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Settings")}}},
               "responses": {"200": _json(_ref("Settings")), **errors}}  # fmt: skip
    return path, method, op


def rich_contract(operations: int) -> dict[str, Any]:
    """A contract of `operations` operations in ten kinds (cycled): shared `$ref` components, readOnly and writeOnly
    properties (FastAPI's `SecretStr | None` too), a discriminated union with `mapping` in responses and one without
    in request bodies, a recursive tree, a `oneOf` with a catch-all branch, a form body, `default`-only responses,
    same-shape paths with different methods, 3.1 type arrays, and paged lists with `limit`/`per_page`."""
    paths: dict[str, Any] = {}
    for i in range(operations):
        path, method, op = _rich_operation(i)
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": f"rich bench contract, {operations} operations", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": _rich_schemas(operations)},
    }


def write_rich(folder: Path, operations: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rich-contract-{operations}-operations.yaml"
    text = yaml.safe_dump(rich_contract(operations), sort_keys=False)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


# --- a collection, for --stateful ---------------------------------------------------------------------------------

STATEFUL_ITEM = "t-1"  # the item the fixture seeds: what the --stateful row reads


def write_stateful(folder: Path) -> tuple[Path, Path]:
    """A contract with one collection (`POST /things`, `GET /things`, `GET`/`PUT`/`DELETE /things/{thing_id}`) and a
    fixtures folder whose one fixture seeds the item `STATEFUL_ITEM`; returns (contract, fixtures folder)."""
    thing = {
        "type": "object",
        "required": ["thing_id", "name", "state"],
        "properties": {
            "thing_id": {"type": "string"},
            "name": {"type": "string", "minLength": 1, "maxLength": 80},
            "state": {"type": "string", "enum": STATES},
            "owner": _ref("Owner"),
            "created_at": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        },
    }
    item = {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}}
    missing = {"description": "no such thing", "content": {"application/json": {"schema": _ref("Error")}}}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "bench collection", "version": "1.0.0"},
        "paths": {
            "/things": {
                "get": {"operationId": "list_things", "responses": {
                    "200": _json({"type": "array", "items": _ref("Thing")})}},
                "post": {"operationId": "create_thing", "requestBody": {
                    "required": True, "content": {"application/json": {"schema": _ref("Thing")}}},
                    "responses": {"201": _json(_ref("Thing"))}},
            },
            "/things/{thing_id}": {
                "get": {"operationId": "get_thing", "parameters": [item],
                        "responses": {"200": _json(_ref("Thing")), "404": missing}},
                "put": {"operationId": "put_thing", "parameters": [item], "requestBody": {
                    "required": True, "content": {"application/json": {"schema": _ref("Thing")}}},
                    "responses": {"200": _json(_ref("Thing")), "404": missing}},
                "delete": {"operationId": "delete_thing", "parameters": [item],
                           "responses": {"204": {"description": "gone"}, "404": missing}},
            },
        },
        "components": {"schemas": {
            "Thing": thing,
            "Owner": {"type": "object", "required": ["id", "email"], "properties": {
                "id": {"type": "integer", "minimum": 1}, "email": {"type": "string", "format": "email"}}},
            "Error": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
        }},
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    contract = folder / "stateful-contract.yaml"
    contract.write_text(yaml.safe_dump(document, sort_keys=False))
    fixtures = folder / "stateful-fixtures"
    fixtures.mkdir(exist_ok=True)
    seeded = {
        "operation": "GET /things/{thing_id}",
        "name": "seeded",
        "match": {"path": {"thing_id": STATEFUL_ITEM}},
        "response": {"status": 200, "body": {"thing_id": STATEFUL_ITEM, "name": "Seeded thing", "state": "ACTIVE",
                                             "owner": {"id": 1, "email": "owner@example.com"},
                                             "created_at": "2026-01-02T03:04:05Z", "tags": ["bench"]}},
    }  # fmt: skip
    (fixtures / "seeded.yaml").write_text(yaml.safe_dump(seeded, sort_keys=False))
    return contract, fixtures


def write_broken_rich(folder: Path, operations: int) -> Path:
    """The rich contract with a mistake in its last operation (a schema whose `type` is a number): found only once
    everything before it is read, the slowest refusal."""
    document = rich_contract(operations)
    path, method, _ = _rich_operation(operations - 1)
    response = next(iter(document["paths"][path][method]["responses"].values()))
    response["content"] = {"application/json": {"schema": {"type": 12}}}
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"broken-rich-contract-{operations}-operations.yaml"
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    return target
