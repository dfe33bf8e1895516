"""Tiny inline contracts for the diff tests: a document from a few operations, and the changes between two."""

from __future__ import annotations

from typing import Any

from mockserver.diff import Change, Contract, compare


def doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None, version: str = "3.1.0",
        **top: Any) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": paths, **top}
    if schemas:
        out.setdefault("components", {})["schemas"] = schemas
    return out


def ok(schema: Any = None, status: str = "200", **response: Any) -> dict[str, Any]:
    """An operation answering `status` with a JSON body of `schema` (none when None)."""
    answer: dict[str, Any] = {"description": "ok", **response}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": schema}}
    return {"responses": {status: answer}}


def post(schema: Any, required: bool = True, **operation: Any) -> dict[str, Any]:
    """A POST taking a JSON body of `schema`."""
    body = {"required": required, "content": {"application/json": {"schema": schema}}}
    return {"requestBody": body, **ok(), **operation}


def request_doc(schema: Any, version: str = "3.1.0", schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return doc({"/pets": {"post": post(schema)}}, schemas, version)


def response_doc(schema: Any, version: str = "3.1.0", schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return doc({"/pets": {"get": ok(schema)}}, schemas, version)


def obj(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    return compare(Contract(old, "old.yaml"), Contract(new, "new.yaml"))  # neither is changed


def found(old: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    """rule -> level of every change found."""
    return {c.rule: c.level for c in changes(old, new)}
