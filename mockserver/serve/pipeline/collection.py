"""What `--stateful` infers from a contract: its collections (a templated item path `/things/{id}` with a GET and at
least one more of POST `/things`, GET `/things`, PUT/PATCH/DELETE `/things/{id}`), each operation's role in one, and
the item schema (the GET's success schema without its null branch). Pure functions of the contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...contract.media import is_json
from ...contract.schemas import SchemaSet
from ...contract.spec import Operation, Spec
from . import negotiation
from .fixture import Fixture

CREATE, READ, LIST, UPDATE, REMOVE = "create", "read", "list", "update", "remove"


@dataclass
class Collection:
    name: str  # the collection path, "/api/conversations"
    read: Operation  # GET /things/{id}
    id_param: str
    id_integer: bool
    id_schema: Any
    item_schema: Any  # the GET's success schema without its null branch
    item_key: str  # generator key of item_schema
    properties: frozenset[str]
    write_only: frozenset[str]
    id_field: str | None  # the item property holding the id, when the item has one
    operations: dict[str, str] = field(default_factory=dict)  # operation key -> role


def json_schema(op: Operation, status: str | None) -> Any:
    response = negotiation.response_of(op, status)
    if response is None:
        return None
    media = next((m for t, m in response.content.items() if is_json(t)), None)
    return media.schema if media is not None else None


def without_null(schema: Any, schemas: SchemaSet) -> Any:
    resolved = schemas.resolve(schema)
    if not isinstance(resolved, dict):
        return resolved
    for keyword in ("anyOf", "oneOf"):
        branches = resolved.get(keyword)
        if isinstance(branches, list):
            real = [b for b in branches if schemas.resolve(b) != {"type": "null"}]
            if len(real) == 1 and len(real) < len(branches) and set(resolved) - {"title", "description"} == {keyword}:
                return without_null(real[0], schemas)
    return resolved


def walk_objects(schema: Any, schemas: SchemaSet, depth: int = 0) -> list[dict[str, Any]]:
    """The object schemas an item can be: itself and its allOf/anyOf/oneOf members, resolved."""
    resolved = schemas.resolve(schema)
    if not isinstance(resolved, dict) or depth > 8:
        return []
    found = [resolved]
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in resolved.get(keyword) or []:
            found += walk_objects(branch, schemas, depth + 1)
    return found


def infer(spec: Spec) -> list[Collection]:
    by_key = {op.key: op for op in spec.operations}
    found = []
    for op in spec.operations:
        segments = op.path.rstrip("/").split("/")
        last = segments[-1]
        if op.method != "GET" or not (last.startswith("{") and last.endswith("}")) or len(segments) < 3:
            continue
        base = "/".join(segments[:-1])
        roles = {
            f"POST {base}": CREATE, f"GET {base}": LIST, f"PUT {op.path}": UPDATE, f"PATCH {op.path}": UPDATE,
            f"DELETE {op.path}": REMOVE,
        }  # fmt: skip
        present = {key: role for key, role in roles.items() if key in by_key}
        if not present:
            continue
        schema = json_schema(op, negotiation.default_status(op))
        item = without_null(schema, spec.schemas) if schema is not None else None
        objects = walk_objects(item, spec.schemas) if item is not None else []
        if not any(o.get("type") == "object" or "properties" in o for o in objects):
            continue
        properties = {name: sub for o in objects for name, sub in (o.get("properties") or {}).items()}
        write_only = {n for n, sub in properties.items() if spec.schemas.write_only(sub)}  # required or not
        id_param = last[1:-1]
        param = next((p for p in op.parameters if p.location == "path" and p.name == id_param), None)
        if param is None:  # the last segment is more than one parameter (`/instances/{type}-{version}`)
            continue
        param_schema = spec.schemas.resolve(param.schema)
        id_integer = isinstance(param_schema, dict) and param_schema.get("type") in ("integer", ["integer"])
        id_field = id_param if id_param in properties else "id" if "id" in properties else None
        collection = Collection(
            base, op, id_param, id_integer, param.schema, item, f"{op.key}|state-item", frozenset(properties),
            frozenset(write_only), id_field, {op.key: READ, **present},
        )  # fmt: skip
        found.append(collection)
    return found


def array_of(schema: Any, schemas: SchemaSet) -> Any:
    resolved = without_null(schema, schemas)
    if isinstance(resolved, dict) and (resolved.get("type") == "array" or "items" in resolved):
        return resolved
    return None


def seedable(fixture: Fixture, c: Collection) -> bool:
    return (
        fixture.when == "request" and not fixture.sequence and 200 <= fixture.status < 300
        and isinstance(fixture.body, dict) and set(fixture.path) == {c.id_param}
        and not fixture.query and not fixture.headers
    )  # fmt: skip
