"""Request validation: parameters and bodies against the request view of their schemas. Returns violations, never
raises.

Rules: validators are compiled once per operation at start-up, against the request view (readOnly properties are
not required there, see contract/schemas.py). Parameter strings and form fields are coerced to the type their
schema asks for (integer, number, boolean, array) before validation, as a real framework would parse them. A body is
read as its media type says: JSON parsed and validated, forms (urlencoded and multipart) parsed into fields and
validated, XML checked for well-formedness (never parsed as JSON, never with entities), text validated as a string,
other media taken as they come. A media type the operation does not document is the only reason for a 415.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs
import orjson

from ...contract import media as mediatypes
from ...contract.documents import DocumentError, escape
from ...contract.schemas import REQUEST, RESPONSE, Schema, SchemaSet
from ...contract.spec import MediaType, Operation, Parameter, Spec
from .forms import form_fields, xml_mistake

MAX_VIOLATIONS = 20
MEDIA_TYPE = "value_error.media_type"  # the violation type that makes a 415
ANNOTATIONS = frozenset(  # keywords that never reject a value
    {"title", "description", "examples", "example", "default", "deprecated", "readOnly", "writeOnly", "$comment"}
)


@dataclass(frozen=True)
class Violation:
    loc: tuple[str | int, ...]
    msg: str
    type: str


# The mock refuses, and the proxy reports, a request with more query fields than it reads
TOO_MANY_QUERY = Violation(("query",), "Too many query parameters", "value_error.too_many")


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
    return schemas.validator(schema)  # one compiled validator per distinct schema


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", type(None): "null", dict: "object", list: "array"}


def _types(schema: Schema, schemas: SchemaSet, depth: int = 0) -> set[str]:
    schema = schemas.resolve(schema)
    if not isinstance(schema, dict) or depth > 8:
        return set()
    if isinstance(schema.get("$ref"), str):  # a `$ref` with siblings (stream-io: `description`, `title`)
        return _types({"$ref": schema["$ref"]}, schemas, depth + 1) | _types(
            {k: v for k, v in schema.items() if k != "$ref"}, schemas, depth + 1
        )
    kind = schema.get("type")
    found = set(kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else [])
    if kind is None and isinstance(schema.get("enum"), list):  # no `type`: the enum's values say (nexmo: true, 0)
        found |= {_JSON_TYPES.get(type(v), "string") for v in schema["enum"]}
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        found |= _types(branch, schemas, depth + 1)
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
        schema = schemas.view(param.schema, REQUEST)
        self.validator = compile_schema(schema, schemas)
        self.types = _types(schema, schemas)
        resolved = schemas.resolve(schema)
        items = resolved.get("items", {}) if isinstance(resolved, dict) else {}
        self.item_types = _types(items, schemas)
        # an object's properties and their types: deepObject (`filter[k]=v`) and exploded form (`k=v`) query objects
        self.fields = {name: _types(sub, schemas) for name, sub in schemas.properties(schema).items()} \
            if "object" in self.types else {}  # fmt: skip
        # Any string passes a bare {type: string}: no validator call on the request path for the common path id.
        constraints = {k: v for k, v in resolved.items() if k not in ANNOTATIONS} if isinstance(resolved, dict) else {}
        self.any_string = constraints in ({}, {"type": "string"})

    def gather(self, query: dict[str, list[str]], declared: set[str]) -> dict[str, Any] | None:
        """A query object sent as its properties: `name[key]=v` (deepObject), or each `key=v` (form, exploded: its
        properties, or for a map every name no other parameter declares)."""
        name, style = self.param.name, self.param.style
        if style == "deepObject":
            found = {k[len(name) + 1 : -1]: v for k, v in query.items() if k.startswith(name + "[") and k.endswith("]")}
        elif style == "form" and self.param.explode and self.fields:
            found = {k: query[k] for k in self.fields if k in query}
        elif style == "form" and self.param.explode:
            found = {k: v for k, v in query.items() if k not in declared}
        else:
            return None
        if not found:  # an exploded empty object leaves nothing on the wire: required, it is that empty object
            return {} if style == "form" and self.param.required else None
        return {k: _json_or(v[-1], self.fields.get(k, set())) for k, v in found.items()}

    def _unstyled(self, values: list[str]) -> list[str]:
        """A path value's label (`.v`) or matrix (`;name=v`) prefix taken off; space- or pipe-delimited arrays split."""
        style, value = self.param.style, values[-1]
        if style == "label" and value.startswith("."):
            return [value[1:].replace(".", ",")] if self.param.explode else [value[1:]]
        if style == "matrix" and value.startswith(";"):
            prefix = f";{self.param.name}="
            return [",".join(p.removeprefix(prefix[1:]) for p in value[1:].split(";"))]
        if style in ("spaceDelimited", "pipeDelimited") and len(values) == 1:
            return [",".join(value.split(" " if style == "spaceDelimited" else "|"))]
        return values

    def coerce(self, values: list[str]) -> Any:
        if self.param.style not in ("simple", "form"):
            values = self._unstyled(values)
        if "array" in self.types and not ({"string", "integer", "number", "boolean"} & self.types):
            if {"object", "array"} & self.item_types:  # OpenAPI leaves these undefined: JSON items, as clients send
                return [_json_or(v, self.item_types) for v in values]
            if len(values) == 1 and not (self.param.explode and self.param.location == "query"):
                values = values[0].split(",") if values[0] != "" else []
            return [_coerce_scalar(v, self.item_types) for v in values]
        if "object" in self.types and values[-1].startswith("{"):
            return _json_or(values[-1], self.types)
        if "object" in self.types and self.param.style == "simple" and "," in values[-1]:
            # a header or path object: `k=v,k2=v2` exploded, `k,v,k2,v2` not
            parts = values[-1].split(",")
            if self.param.explode:
                pairs = [p.partition("=")[::2] for p in parts]
            else:
                pairs = list(zip(parts[::2], parts[1::2], strict=False))
            return {k: _coerce_scalar(v, self.fields.get(k, set())) for k, v in pairs}
        return _coerce_scalar(values[-1], self.types)


def _json_or(value: str, types: set[str]) -> Any:
    """A JSON object or array as sent in a query or header value, else the value typed as a scalar."""
    if value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            pass
    return _coerce_scalar(value, types)


class _BodyCheck:
    """One documented request media type: its validator (request view) and, for forms, how fields are typed."""

    def __init__(self, media: MediaType, schemas: SchemaSet) -> None:
        schema = schemas.view(media.schema, REQUEST) if media.schema is not None else None
        self.validator = compile_schema(schema, schemas) if schema is not None else None
        self.types = _types(schema, schemas) if schema is not None else set()
        self.field_types: dict[str, tuple[set[str], set[str]]] = {}  # name -> (types, item types)
        for name, sub in (schemas.properties(schema) if schema is not None else {}).items():
            resolved = schemas.resolve(sub)  # items: the field's own, or an `anyOf`/`oneOf` branch's (stripe)
            branches = (
                [resolved, *resolved.get("anyOf", []), *resolved.get("oneOf", [])] if isinstance(resolved, dict) else []
            )
            items: Any = next(
                (b["items"] for b in map(schemas.resolve, branches) if isinstance(b, dict) and "items" in b), {}
            )
            self.field_types[name] = (_types(sub, schemas), _types(items, schemas))

    def form(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """Form fields as the schema types them: repeated or comma-free arrays, numbers, booleans, JSON objects."""
        grouped: dict[str, list[str]] = {}
        for name, value in pairs:
            grouped.setdefault(name, []).append(value)
        out: dict[str, Any] = {}
        for name, values in grouped.items():
            types, item_types = self.field_types.get(name, (set(), set()))
            if "array" in types and (
                len(values) > 1 or not {"string", "integer", "number", "boolean", "object"} & types
            ):
                # a repeated field is an array, even where the schema also allows a single value (`anyOf`)
                # items that are objects or arrays as JSON text, as an object field is (stripe, telegram)
                nested = bool({"object", "array"} & item_types)
                out[name] = [_json_or(v, item_types) if nested else _coerce_scalar(v, item_types) for v in values]
            elif "object" in types and values[-1].startswith("{"):
                try:
                    out[name] = orjson.loads(values[-1])
                except orjson.JSONDecodeError:
                    out[name] = values[-1]
            elif values[-1] == "null" and "null" in types:
                out[name] = None  # how a form (and the checker) spells a null field
            else:
                out[name] = _coerce_scalar(values[-1], types)
        return out


class RequestValidator:
    def __init__(self, operation: Operation, schemas: SchemaSet) -> None:
        self.operation = operation
        self.checks = [_ParamCheck(p, schemas) for p in operation.parameters]
        self.bodies = {media: _BodyCheck(obj, schemas) for media, obj in operation.bodies.items()}
        self.media = list(operation.bodies)
        self.path_checks = {c.param.name: c for c in self.checks if c.param.location == "path"}
        self.query_names = {c.param.name for c in self.checks if c.param.location == "query"}
        self.path_any_string = all(c.any_string for c in self.path_checks.values())
        self.bare = not self.bodies and all(c.param.location == "path" and c.any_string for c in self.checks)
        self.path_strings = all(c.types <= {"string"} and c.types for c in self.path_checks.values())

    def path_ok(self, params: dict[str, str]) -> bool:
        """Whether path parameter values (as matched) are valid: how the router tells same-shape templates apart."""
        checks = [(self.path_checks.get(k), v) for k, v in params.items()]
        return all(c is None or c.any_string or c.validator.is_valid(c.coerce([v])) for c, v in checks)

    def coerce_path(self, params: dict[str, str]) -> dict[str, Any]:
        if self.path_strings:
            return params  # every path parameter a string: nothing to coerce (the caller does not change it)
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
        if self.bare and not bad_path and all(name in path for name in self.path_checks):
            return []  # only string path parameters, all there: nothing can be wrong
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
            if (raw is None or raw == []) and "object" in check.types and param.location == "query":
                gathered = check.gather(query, self.query_names)
                if gathered is not None:
                    for error in map(deepest, check.validator.iter_errors(gathered)):
                        found.append(Violation((param.location, param.name, *error.instance_path), error.message,
                                               "value_error"))  # fmt: skip
                        break
                    continue
            if raw is None or raw == []:  # a query name without values was not sent either
                if param.required:
                    found.append(Violation((param.location, param.name), "Field required", "missing"))
                continue
            if check.any_string and not isinstance(raw, list):
                continue
            if param.allow_empty and raw == [""]:  # `?flag=`: allowEmptyValue says an empty value is valid
                continue
            value = check.coerce(raw if isinstance(raw, list) else [raw])
            for error in map(deepest, check.validator.iter_errors(value)):
                loc = (param.location, param.name, *error.instance_path)
                found.append(Violation(loc, error.message, "value_error"))
                break
        if self.bodies:
            found.extend(self._validate_body(body, content_type))
        return found[:MAX_VIOLATIONS]

    def _validate_body(self, body: bytes, content_type: str) -> list[Violation]:
        media = mediatypes.base(content_type)
        kind = mediatypes.kind(media)
        # an empty JSON or XML body is no body; an empty form, text or file is a value
        if not body and (not media or kind in (mediatypes.JSON, mediatypes.XML)):
            return [Violation(("body",), "Field required", "missing")] if self.operation.body_required else []
        documented = self._documented(media)
        if documented is None:
            allowed = ", ".join(self.media)
            shown = repr(media) if media else "none"
            return [Violation(("header", "content-type"), f"Unsupported media type {shown}; expected {allowed}",
                              MEDIA_TYPE)]  # fmt: skip
        check = self.bodies.get(documented)
        if kind == mediatypes.XML:
            mistake = xml_mistake(body)
            return [Violation(("body",), f"XML is not well-formed: {mistake}", "value_error.xml")] if mistake else []
        if check is None or check.validator is None:
            return []
        if kind == mediatypes.JSON:
            try:
                document = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                return [Violation(("body",), f"JSON decode error: {exc}", "json_invalid")]
        elif kind == mediatypes.FORM:
            try:
                text = body.decode()
            except UnicodeDecodeError:
                return [Violation(("body",), "Form body is not valid UTF-8", "value_error.encoding")]
            # a form whose schema is a scalar (spoonacular: `type: string`) is its text, not fields
            scalar = check.types and not ({"object", "array"} & check.types)
            document = (
                _coerce_scalar(text, check.types) if scalar else check.form(parse_qsl(text, keep_blank_values=True))
            )
        elif kind == mediatypes.MULTIPART:
            pairs = form_fields(body, content_type) if body else []
            if pairs is None:
                return [Violation(("body",), "Malformed multipart/form-data body", "value_error.multipart")]
            document = check.form(pairs)
        elif kind == mediatypes.TEXT:
            if not ({"string", "integer", "number", "boolean"} & check.types):
                return []
            try:
                document = _coerce_scalar(body.decode(), check.types)
            except UnicodeDecodeError:
                return [Violation(("body",), "Text body is not valid UTF-8", "value_error.encoding")]
        else:
            return []
        return [
            Violation(("body", *error.instance_path), error.message, "value_error")
            for _, error in zip(
                range(MAX_VIOLATIONS), map(deepest, check.validator.iter_errors(document)), strict=False
            )
        ]

    def _documented(self, media: str) -> str | None:
        """The documented media type a request's one falls under: exact first, then ranges like `text/*`."""
        if not media:  # no Content-Type: a content key that names no media type (spoonacular's "") takes it
            return next((m for m in self.media if not mediatypes.base(m)), None)
        exact = next((m for m in self.media if mediatypes.base(m) == media), None)
        # a content key that names no media type (`""`) is read as `*/*`
        return exact or next((m for m in self.media if mediatypes.matches(media, m) or not mediatypes.base(m)), None)


def check_body(
    operation: Operation, status: int, has_body: bool, body: Any, when: str, spec: Spec, file: str, where: str
) -> None:
    """A fixture's answer against the contract: its status documented (a 401 `when: unauthorized` may not be), its
    body valid against the response view of that status' schema. Raises `DocumentError` at `where`."""
    response = operation.response_for(status)
    if response is None:
        if when == "unauthorized":
            return  # a 401 the contract does not document: nothing to check the body against
        offered = ", ".join(operation.responses)
        raise DocumentError(
            file, f"{where}/status", f"{operation.key} does not document status {status} (it has: {offered})"
        )
    media = next((m for m in response.content.values() if m.schema is not None), None)
    if media is None or not has_body:
        return
    # the response view, as examples and generated bodies: a writeOnly property is never served
    validator = compile_schema(spec.schemas.view(media.schema, RESPONSE, f"{operation.key} {status}"), spec.schemas)

    def _write_only(name: str) -> bool:
        sub = spec.schemas.properties(media.schema).get(name)
        return sub is not None and spec.schemas.write_only(sub)

    for error in map(deepest, validator.iter_errors(body)):
        pointer = f"{where}/body" + "".join("/" + escape(str(p)) for p in error.instance_path)
        name = error.instance_path[-1] if error.instance_path else None
        top = len(error.instance_path) == 1
        if isinstance(name, str) and (error.message.startswith("False schema") or (top and _write_only(name))):
            reason = f"{name!r} is writeOnly in the contract's {status} schema: a response never carries it"
            if not error.message.startswith("False schema"):
                reason += " (but null, when the property is nullable)"
        else:
            reason = f"does not match the contract's {status} schema: {error.message}"
        raise DocumentError(file, pointer, reason)
