"""A body that breaks its schema, told as a person needs it: the innermost reason and where it is (`anyOf [Thing,
null]` alone says only "not valid"), and a key naming where it failed, so that the same broken field in a hundred
bodies is one finding.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from ..contract.words import count

if TYPE_CHECKING:
    from .findings import FailureInfo


def schema_detail(failure: FailureInfo) -> tuple[str, str]:
    """The innermost reason a body fails its schema (`anyOf [Thing, null]` alone says only "not valid"), and a key
    naming where it failed."""
    root = failure.root_schema
    path, schema_path = list(failure.instance_path), list(failure.schema_path)
    reason = _tidy(failure.validation_message or failure.message, failure.instance)
    if isinstance(root, dict):
        inner = _innermost(root, schema_path, failure.instance, depth=0)
        if inner is not None:
            path, reason, schema_path = path + inner[0], inner[1], schema_path + inner[2]
    where = "/".join(str(part) for part in path) or "(body)"
    return f"at {where}: {_short(reason)}", f"{where}|{'/'.join(map(str, schema_path))}"


def _innermost(
    root: dict[str, Any], schema_path: list[Any], instance: Any, depth: int
) -> tuple[list[Any], str, list[Any]] | None:
    """Follow a failed anyOf/oneOf into the branch that fits the value's type: (path, message, schema path)."""
    if depth > 5 or not schema_path or schema_path[-1] not in ("anyOf", "oneOf"):
        return None
    node: Any = root
    for part in schema_path:
        node = node[part] if isinstance(node, dict | list) else None
    if not isinstance(node, list):
        return None
    # Keep only what $refs point into, then put each branch at the top
    holders = {k: v for k, v in root.items() if k in ("$defs", "definitions", "components") or k.startswith("x-")}
    chosen = None
    types: list[str] = []
    for index, branch in enumerate(node):
        if not isinstance(branch, dict):
            continue
        candidate = {**holders, **branch}
        try:
            errors = list(jsonschema_rs.validator_for(candidate, validate_formats=True).iter_errors(instance))
        except Exception:
            return None
        if not errors:
            return None
        first = errors[0]
        if not list(first.instance_path) and type(first.kind).__name__ == "Type":
            types.append(_type_name(candidate, root))
            continue
        chosen = (index, candidate, first)
        break
    if chosen is None:
        expected = " or ".join(dict.fromkeys(types))
        return [], f"{_preview(instance)} is not of type {expected}", []
    index, candidate, error = chosen
    path = list(error.instance_path)
    value = instance
    for part in path:
        value = value[part]
    deeper = _innermost(candidate, list(error.schema_path), value, depth + 1)
    if deeper:
        return path + deeper[0], deeper[1], [index, *error.schema_path, *deeper[2]]
    return path, _tidy(error.message, value), [index, *error.schema_path]


def _type_name(schema: dict[str, Any], root: dict[str, Any]) -> str:
    if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict):
            return str(target.get("title") or target.get("type") or schema["$ref"].rsplit("/", 1)[-1])
    if "type" in schema:
        return str(schema["type"]) if not isinstance(schema["type"], list) else "/".join(schema["type"])
    return "the schema"


def _tidy(message: str, value: Any) -> str:
    """A validator message names the whole value first; a long one is shortened to its kind."""
    cut = message.find(" is not ")
    return _preview(value) + message[cut:] if cut > 0 else message


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= 60:
        return text
    if isinstance(value, list):
        return f"an array of {count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"an object with {count(len(value), 'property')}"
    return text[:57] + "…"


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
