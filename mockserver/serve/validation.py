"""Request validation: parameters and JSON bodies against their schemas. Returns violations, never raises.

Rules: validators are compiled once per operation at start-up. Parameter strings are coerced to the type their
schema asks for (integer, number, boolean, array) before validation, as a real framework would parse them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

from ..contract.schemas import Schema, SchemaSet
from ..contract.spec import Operation, Parameter

MAX_VIOLATIONS = 20
_ANNOTATIONS = frozenset(
    {"title", "description", "examples", "example", "default", "deprecated", "readOnly", "writeOnly", "$comment"}
)


@dataclass(frozen=True)
class Violation:
    loc: tuple[str | int, ...]
    msg: str
    type: str


def deepest(error: jsonschema_rs.ValidationError) -> jsonschema_rs.ValidationError:
    """For anyOf/oneOf failures, the error inside the branch that got furthest: "status: 'PAUSED' is not one of
    [...]" says more than "not valid under any of the schemas listed"."""
    context = getattr(error.kind, "context", None)
    if not context:
        return error
    candidates = [deepest(e) for branch in context for e in branch]
    best = max(candidates, key=lambda e: (len(e.instance_path), type(e.kind).__name__ != "Type"), default=error)
    if len(best.instance_path) == len(error.instance_path) and type(best.kind).__name__ == "Type":
        return error
    return best


def compile_schema(schema: Schema, schemas: SchemaSet) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(schemas.standalone(schema), validate_formats=True)


def _types(schema: Schema, schemas: SchemaSet) -> set[str]:
    schema = schemas.resolve(schema)
    if not isinstance(schema, dict):
        return set()
    kind = schema.get("type")
    found = set(kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else [])
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        found |= _types(branch, schemas)
    return found


def _coerce_scalar(value: str, types: set[str]) -> Any:
    if "integer" in types:
        try:
            return int(value)
        except ValueError:
            pass
    if "number" in types:
        try:
            number = float(value)
            if number == number and abs(number) != float("inf"):
                return number
        except ValueError:
            pass
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    if "null" in types and value in ("", "null") and "string" not in types:
        return None
    return value


class _ParamCheck:
    def __init__(self, param: Parameter, schemas: SchemaSet) -> None:
        self.param = param
        self.validator = compile_schema(param.schema, schemas)
        self.types = _types(param.schema, schemas)
        resolved = schemas.resolve(param.schema)
        items = resolved.get("items", {}) if isinstance(resolved, dict) else {}
        self.item_types = _types(items, schemas)
        # Any string passes a bare {type: string}: no validator call on the request path for the common path id.
        constraints = {k: v for k, v in resolved.items() if k not in _ANNOTATIONS} if isinstance(resolved, dict) else {}
        self.any_string = constraints in ({}, {"type": "string"})

    def coerce(self, values: list[str]) -> Any:
        if "array" in self.types and not ({"string", "integer", "number", "boolean"} & self.types):
            if len(values) == 1 and not (self.param.explode and self.param.location == "query"):
                values = values[0].split(",") if values[0] != "" else []
            return [_coerce_scalar(v, self.item_types) for v in values]
        return _coerce_scalar(values[-1], self.types)


class RequestValidator:
    def __init__(self, operation: Operation, schemas: SchemaSet) -> None:
        self.operation = operation
        self.checks = [_ParamCheck(p, schemas) for p in operation.parameters]
        body = operation.body
        self.body = compile_schema(body.schema, schemas) if body is not None and body.schema is not None else None
        self.path_checks = {c.param.name: c for c in self.checks if c.param.location == "path"}

    def coerce_path(self, params: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in params.items():
            check = self.path_checks.get(name)
            out[name] = check.coerce([value]) if check else value
        return out

    def validate(
        self,
        path: dict[str, str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        cookies: dict[str, str],
        body: bytes,
        content_type: str,
        bad_path: list[str],
    ) -> list[Violation]:
        found: list[Violation] = []
        for name in bad_path:
            found.append(Violation(("path", name), "Percent-escapes are not valid UTF-8", "value_error.encoding"))
        sources: dict[str, Any] = {"path": path, "query": query, "header": headers, "cookie": cookies}
        for check in self.checks:
            param = check.param
            if param.name in bad_path and param.location == "path":
                continue
            source = sources[param.location]
            key = param.name.lower() if param.location == "header" else param.name
            raw = source.get(key)
            if raw is None or raw == []:  # a query name without values was not sent either
                if param.required:
                    found.append(Violation((param.location, param.name), "Field required", "missing"))
                continue
            if check.any_string and not isinstance(raw, list):
                continue
            value = check.coerce(raw if isinstance(raw, list) else [raw])
            for error in map(deepest, check.validator.iter_errors(value)):
                loc = (param.location, param.name, *error.instance_path)
                found.append(Violation(loc, error.message, "value_error"))
                break
        if self.operation.body is not None or self.operation.body_media:
            found.extend(self._validate_body(body, content_type))
        return found[:MAX_VIOLATIONS]

    def _validate_body(self, body: bytes, content_type: str) -> list[Violation]:
        if not body:
            return [Violation(("body",), "Field required", "missing")] if self.operation.body_required else []
        media = content_type.split(";")[0].strip().lower()
        if self.operation.body_media and not any(_media_matches(media, m) for m in self.operation.body_media):
            allowed = ", ".join(self.operation.body_media)
            return [
                Violation(
                    ("header", "content-type"),
                    f"Unsupported media type {media!r}; expected {allowed}",
                    "value_error.media_type",
                )
            ]
        if self.body is None:
            return []
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return [Violation(("body",), f"JSON decode error: {exc}", "json_invalid")]
        return [
            Violation(("body", *error.instance_path), error.message, "value_error")
            for _, error in zip(range(MAX_VIOLATIONS), map(deepest, self.body.iter_errors(document)), strict=False)
        ]


def _media_matches(actual: str, declared: str) -> bool:
    declared = declared.split(";")[0].strip().lower()
    if declared in ("*/*", actual):
        return True
    if declared.endswith("/*"):
        return actual.startswith(declared[:-1])
    return False
