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
