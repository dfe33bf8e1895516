"""Loading an OpenAPI 3.0/3.1 document into a `Spec` of `Operation`s: the only module that knows OpenAPI's layout.

Rules: external `$ref`s (relative files, URLs) are bundled into the document's `components` first, so everything
after works on one self-contained document (the same one `check` hands to its engine). Non-schema `$ref`s
(parameters, responses, ...) are inlined; schema `$ref`s become `$defs` (see schemas.py); security schemes are read
by security.py. A user mistake is a `DocumentError` naming the file, the JSON pointer and the reason; by default
(docs/leniency.md) one that leaves an operation servable is a warning instead, and an operation that cannot be built
is kept with the reason (`Operation.unservable`) so the mock answers it with a problem and serves the others;
`strict` refuses them all. `x-` extensions are data: nothing inside them is bundled. Both products take the `Spec`,
never the raw document, for anything the model answers (operations, prefix, security).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlparse

from referencing import Registry, Resource, Specification
from referencing.exceptions import Unresolvable

from . import documents
from .documents import DocumentError, pointer
from .schemas import Schema, SchemaSet, lookup
from .security import SecurityScheme, parse_schemes

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_OPAQUE = Specification.OPAQUE
_PACKAGE = Path(__file__).resolve().parent.parent
BUILTIN = _PACKAGE.parent / "contracts" / "builtin.yaml"
if not BUILTIN.exists():  # installed as a wheel: contracts/ and fixtures/ ship inside the package
    BUILTIN = _PACKAGE / "_builtin" / "contracts" / "builtin.yaml"


@dataclass
class Parameter:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: Schema
    style: str
    explode: bool
    allow_empty: bool = False  # a query parameter sent with an empty value (`?flag=`) is valid, whatever its schema


_NO_CONTENT = frozenset({"204", "205", "304", "1XX"})  # statuses whose answers carry no content

# OpenAPI 3.0.3 and 3.1.1, Parameter Object: a header parameter with one of these names "SHALL be ignored" (the
# media type and the security scheme say what they carry)
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})


@dataclass
class MediaType:
    schema: Schema | None
    examples: dict[str, Any]


@dataclass
class Response:
    status: str  # "200", "4XX" or "default"
    content: dict[str, MediaType]
    headers: dict[str, tuple[bool, Schema]]  # name -> (required, schema)


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # template, without the server prefix
    operation_id: str
    parameters: list[Parameter]
    body_required: bool
    responses: dict[str, Response]
    security: list[list[SecurityScheme]]  # alternatives, each a list that must all be present; [] = none needed
    bodies: dict[str, MediaType] = field(default_factory=dict)  # every documented request media type -> its object
    unservable: tuple[str, ...] = ()  # why the operation cannot be served: (file, JSON pointer, reason); () if it can
    key: str = field(init=False)  # "METHOD /path", read several times per request: computed once

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.method} {self.path}")

    @property
    def requires_auth(self) -> bool:
        """Whether every alternative needs credentials (an empty requirement `{}` makes them optional)."""
        return bool(self.security)

    def named(self, name: str) -> bool:
        """Whether `name` is this operation's operationId, "METHOD /path" or its path (any case)."""
        return name.lower() in (self.operation_id.lower(), self.key.lower(), self.path.lower())

    def response_for(self, status: int) -> Response | None:
        """The documented response for a status: exact code, then range (4XX), then default."""
        return (
            self.responses.get(str(status))
            or self.responses.get(f"{str(status)[0]}XX")
            or self.responses.get("default")
        )


@dataclass
class Spec:
    source: str
    document: dict[str, Any]
    version: str
    prefix: str
    operations: list[Operation]
    schemas: SchemaSet
    security_schemes: dict[str, SecurityScheme] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def find(self, name: str) -> Operation | None:
        """An operation by operationId or "METHOD /path"."""
        for op in self.operations:
            if name in (op.operation_id, op.key) or name.upper() == op.key.upper():
                return op
        return None

    def select(self, names: list[str]) -> list[Operation]:
        """The operations any of `names` designates (operationId, "METHOD /path" or a path); all when empty.
        A name that designates nothing raises `LookupError` with that name."""
        wanted = [name.strip() for name in names if name.strip()]
        if not wanted:
            return list(self.operations)
        for name in wanted:
            if not any(op.named(name) for op in self.operations):
                raise LookupError(name)
        return [op for op in self.operations if any(op.named(name) for name in wanted)]


def builtin() -> tuple[str, str]:
    """The built-in contract and fixtures folder, as named by contracts/builtin.yaml."""
    manifest = documents.load(str(BUILTIN))
    return str((BUILTIN.parent / manifest["spec"]).resolve()), str((BUILTIN.parent / manifest["fixtures"]).resolve())


def load_spec(source: str | Path | None = None, *, strict: bool = False) -> Spec:
    """The contract at `source`. `strict`: every mistake refuses it (else those the mock can work around are
    warnings in `Spec.warnings`)."""
    source = builtin()[0] if source is None else str(source)
    data = documents.load(source)
    if not isinstance(data, dict):
        raise DocumentError(source, "", "not an OpenAPI document (top level is not a mapping)")
    version = data.get("openapi")
    if "swagger" in data:
        raise DocumentError(source, "/swagger", "Swagger/OpenAPI 2.0 is not supported; convert it to OpenAPI 3")
    if not isinstance(version, str) or not re.fullmatch(r"3\.[01]\.\d+(-.+)?", version):
        raise DocumentError(source, "/openapi", f"expected an OpenAPI version 3.0.x or 3.1.x, got {version!r}")
    warnings: list[str] = []
    document = _bundle(data, source, None if strict else warnings)
    spec = _build(document, source, version, strict)
    spec.warnings[:0] = warnings
    return spec


# --- bundling -----------------------------------------------------------------------------------------------------


def _uri(source: str) -> str:
    return source if documents.is_url(source) else Path(source).resolve().as_uri()


def _retrieve(uri: str) -> Resource[Any]:
    location = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
    try:
        return _OPAQUE.create_resource(documents.load(location))
    except DocumentError as exc:
        raise _Unretrievable(exc) from None


class _Unretrievable(Exception):
    def __init__(self, error: DocumentError) -> None:
        self.error = error


# Keys whose values are maps of names (a property, a path, a media type ...), not of keywords: an entry named
# `default` or `x-rate-limit` there is a name
_NAME_MAPS = frozenset({
    "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "paths", "webhooks", "schemas",
    "responses", "parameters", "examples", "requestBodies", "headers", "securitySchemes", "links", "callbacks",
    "content", "encoding", "variables", "mapping", "pathItems",
})  # fmt: skip


def _bundle(root: dict[str, Any], source: str, warnings: list[str] | None = None) -> dict[str, Any]:
    """The document with every external `$ref` copied into `components`. With `warnings` (not strict), a `$ref`
    that cannot be fetched is left as it is, with a warning (what it points at then accepts anything)."""
    root_uri = _uri(source)
    registry: Registry[Any] = Registry(retrieve=_retrieve).with_resource(root_uri, _OPAQUE.create_resource(root))  # type: ignore[call-arg]
    bundled: dict[str, dict[str, Any]] = {}  # components section -> name -> content
    keys: dict[str, str] = {}  # absolute target URI -> "section/name"

    def walk(node: Any, base: str, file: str, where: str, names: bool = False) -> Any:
        if isinstance(node, list):
            return [walk(item, base, file, f"{where}/{i}") for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if names:
                out[key] = walk(value, base, file, f"{where}/{documents.escape(str(key))}")
            elif key == "$ref" and isinstance(value, str):
                out[key] = lenient(value, base, file, f"{where}/$ref")
            elif key in ("example", "default", "const", "enum") or (key == "examples" and isinstance(value, list)):
                out[key] = value
            elif isinstance(key, str) and key.startswith("x-"):
                out[key] = value  # an extension is data: nothing inside it is fetched (nor needed to serve)
            else:
                out[key] = walk(value, base, file, f"{where}/{documents.escape(str(key))}", key in _NAME_MAPS)
        return out

    def lenient(value: str, base: str, file: str, where: str) -> str:
        try:
            return ref(value, base, file, where)
        except DocumentError as exc:
            if warnings is None:
                raise
            if urldefrag(urljoin(base, value))[0] != root_uri:  # inside the document: said where it is read
                warnings.append(f"{exc}; left unresolved")
            return value

    def ref(value: str, base: str, file: str, where: str) -> str:
        target = urljoin(base, value)
        uri, fragment = urldefrag(target)
        fragment = unquote(fragment)
        if uri == root_uri:
            if lookup(root, fragment) is None and fragment:
                raise DocumentError(file, where, f"$ref {value!r} points nowhere")
            return "#" + fragment
        if target in keys:
            return "#/components/" + keys[target]
        try:
            resolved = registry.resolver(base_uri=base).lookup(value)
        except _Unretrievable as exc:
            raise DocumentError(file, where, f"$ref {value!r}: {exc.error}") from None
        except Unresolvable as exc:
            cause: BaseException | None = exc
            for _ in range(5):  # referencing wraps our error twice: Unresolvable <- Unretrievable <- _Unretrievable
                if cause is None or isinstance(cause, _Unretrievable):
                    break
                cause = cause.__cause__ or cause.__context__
            if isinstance(cause, _Unretrievable):
                raise DocumentError(file, where, f"$ref {value!r}: {cause.error}") from None
            raise DocumentError(file, where, f"$ref {value!r} points nowhere") from None
        stem = Path(urlparse(uri).path).stem
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{stem}_{fragment.rsplit('/', 1)[-1]}" if fragment else stem)
        section = _section(where)
        taken = bundled.setdefault(section, {})
        existing = (root.get("components") or {}).get(section) or {}
        key, n = name, 1
        while key in taken or key in existing:
            n += 1
            key = f"{name}_{n}"
        keys[target] = f"{section}/{key}"
        taken[key] = None
        target_file = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
        taken[key] = walk(resolved.contents, uri, target_file, fragment)
        return "#/components/" + keys[target]

    document = walk(root, root_uri, source, "")
    for section, items in bundled.items():
        components = document.setdefault("components", {})
        components.setdefault(section, {}).update(items)
    return document


_SCHEMA_WORDS = {"schema", "schemas", "items", "properties", "allOf", "anyOf", "oneOf", "not", "additionalProperties"}
_SECTIONS = {
    "parameters": "parameters", "responses": "responses", "requestBody": "requestBodies",
    "requestBodies": "requestBodies", "headers": "headers", "examples": "examples", "links": "links",
}  # fmt: skip


def _section(where: str) -> str:
    """The `components` section a bundled target belongs in, judged from where its `$ref` stood."""
    segments = where.split("/")
    if _SCHEMA_WORDS & set(segments):
        return "schemas"
    return next((_SECTIONS[s] for s in reversed(segments) if s in _SECTIONS), "schemas")


# --- building operations ------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, document: dict[str, Any], source: str, version: str, strict: bool = False) -> None:
        self.document = document
        self.file = source
        self.strict = strict
        self.schemas = SchemaSet(document, source, openapi30=version.startswith("3.0"), strict=strict)
        self.security_schemes = parse_schemes(document, source)
        self.warnings: list[str] = []

    def mistake(self, error: DocumentError, instead: str) -> None:
        """A mistake the mock can work around: refused when strict, else a warning saying what is done instead."""
        if self.strict:
            raise error
        self.warnings.append(f"{error}; {instead}")

    def deref(self, node: Any, where: str) -> tuple[Any, str]:
        """Follows non-schema `$ref`s; returns the object and the pointer it came from."""
        seen = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise DocumentError(self.file, where, f"$ref {ref!r} refers to itself")
            seen.add(ref)
            target = lookup(self.document, ref[1:]) if ref.startswith("#") else None
            if target is None:
                raise DocumentError(self.file, where + "/$ref", f"$ref {ref!r} points nowhere")
            node, where = target, ref[1:]
        return node, where

    def mapping(self, node: Any, where: str, what: str) -> dict[str, Any]:
        node, where = self.deref(node, where)
        if not isinstance(node, dict):
            raise DocumentError(self.file, where, f"{what} must be a mapping")
        return node

    def schema(self, node: Any, where: str) -> Schema:
        return self.schemas.convert(node, where)

    def media(self, content: Any, where: str) -> dict[str, MediaType]:
        content = self.mapping(content, where, "content")
        out = {}
        for media, obj in content.items():
            w = f"{where}/{documents.escape(media)}"
            obj = self.mapping(obj, w, "a media type object")
            schema = self.schema(obj["schema"], w + "/schema") if "schema" in obj else None
            examples: dict[str, Any] = {}
            if "example" in obj:
                examples["example"] = obj["example"]
            for name, ex in (obj.get("examples") or {}).items():
                ex, _ = self.deref(ex, f"{w}/examples/{documents.escape(name)}")
                if isinstance(ex, dict) and "value" in ex:
                    examples[name] = ex["value"]
            out[media] = MediaType(schema, examples)
        return out

    def security(self, requirements: Any, where: str) -> list[list[SecurityScheme]]:
        if not isinstance(requirements, list):
            raise DocumentError(self.file, where, "security must be a list of requirement objects")
        alternatives = []
        for i, requirement in enumerate(requirements):
            if not isinstance(requirement, dict):
                raise DocumentError(self.file, f"{where}/{i}", "a security requirement must be a mapping")
            schemes = []
            for name in requirement:
                if name not in self.security_schemes:
                    error = DocumentError(
                        self.file, f"{where}/{i}/{documents.escape(name)}", f"unknown security scheme {name!r}"
                    )
                    self.mistake(error, "not required")
                    continue
                schemes.append(self.security_schemes[name])
            if not schemes:
                return []  # an empty requirement {} makes the operation public
            alternatives.append(schemes)
        return alternatives

    def parameters(self, items: Any, where: str) -> dict[tuple[str, str], Parameter]:
        if items is None:
            return {}
        if not isinstance(items, list):
            raise DocumentError(self.file, where, "parameters must be a list")
        out = {}
        for i, raw in enumerate(items):
            obj = self.mapping(raw, f"{where}/{i}", "a parameter")
            w = f"{where}/{i}"
            name, location = obj.get("name"), obj.get("in")
            if not isinstance(name, str) or location not in ("path", "query", "header", "cookie"):
                raise DocumentError(
                    self.file, w, "a parameter needs a string 'name' and 'in' of path, query, header, cookie"
                )
            if "schema" in obj:
                schema = self.schema(obj["schema"], w + "/schema")
            elif "content" in obj:
                media = self.media(obj["content"], w + "/content")
                schema = next(iter(media.values())).schema if media else {}
            else:
                schema = {}
            if location == "header" and name.lower() in IGNORED_HEADERS:
                continue
            style = obj.get("style") or ("form" if location in ("query", "cookie") else "simple")
            out[(location, name.lower() if location == "header" else name)] = Parameter(
                name, location, bool(obj.get("required", location == "path")), schema, style,
                bool(obj.get("explode", style == "form")), location == "query" and obj.get("allowEmptyValue") is True,
            )  # fmt: skip
        return out

    def operations(self) -> list[Operation]:
        paths = self.mapping(self.document.get("paths") or {}, "/paths", "paths")
        global_security = self.document.get("security", [])
        seen_ids: dict[str, str] = {}
        ops = []
        for path, item in paths.items():
            wp = pointer("paths", path)
            if not isinstance(path, str) or not path.startswith("/"):
                self.mistake(DocumentError(self.file, wp, "a path must start with '/'"), "not served")
                continue
            broken: DocumentError | None = None  # a path-level mistake: each of its operations answers it
            try:
                item = self.mapping(item, wp, "a path item")
                shared = self.parameters(item.get("parameters"), wp + "/parameters")
            except DocumentError as exc:
                if self.strict:
                    raise
                item, shared, broken = item if isinstance(item, dict) else {}, {}, exc
            for method in METHODS:
                if method not in item:
                    continue
                w = f"{wp}/{method}"
                op_id = (item[method].get("operationId") if isinstance(item[method], dict) else None) or ""
                if not isinstance(op_id, str) or not op_id:
                    op_id = f"{method.upper()} {path}"
                if op_id in seen_ids:
                    error = DocumentError(
                        self.file, w + "/operationId", f"duplicate operationId {op_id!r} (also at {seen_ids[op_id]})"
                    )
                    self.mistake(error, f"named {method.upper()} {path}")
                    op_id = f"{method.upper()} {path}"
                seen_ids[op_id] = w
                try:
                    if broken is not None:
                        raise broken
                    ops.append(self.operation(path, method, item[method], shared, op_id, global_security))
                except DocumentError as exc:
                    if self.strict:
                        raise
                    self.warnings.append(f"{exc}; {method.upper()} {path} answers a problem, the others are served")
                    ops.append(Operation(method.upper(), path, op_id, _template_parameters(path), False, {}, [],
                                         unservable=(exc.file, exc.pointer, exc.reason)))  # fmt: skip
        return ops

    def operation(self, path: str, method: str, raw: Any, shared: dict[tuple[str, str], Parameter], op_id: str,
                  global_security: Any) -> Operation:  # fmt: skip
        wp = pointer("paths", path)
        w = f"{wp}/{method}"
        obj = self.mapping(raw, w, "an operation")
        params = {**shared, **self.parameters(obj.get("parameters"), w + "/parameters")}
        templated = {param.name for param in _template_parameters(path)}
        for param in _template_parameters(path):
            params.setdefault(("path", param.name), param)
        for key, param in list(params.items()):
            if param.location == "path" and param.name not in templated:  # a path parameter no request can send
                del params[key]
                moved = "{" + param.name + "}" in path  # in the key's `?a={a}` part: a query parameter, as meant
                if moved:
                    params[("query", param.name)] = replace(param, location="query", style="form", explode=True)
                reason = f"path parameter {param.name!r} is not in the path template"
                self.mistake(DocumentError(self.file, w + "/parameters", reason),
                             "read as a query parameter" if moved else "ignored")  # fmt: skip
        body_required = False
        content: dict[str, MediaType] = {}
        if "requestBody" in obj:
            rb = self.mapping(obj["requestBody"], w + "/requestBody", "a request body")
            content = self.media(rb.get("content") or {}, w + "/requestBody/content")
            body_required = bool(rb.get("required", False))
        responses = {}
        raw_responses = self.mapping(obj.get("responses") or {}, w + "/responses", "responses")
        for status, resp in raw_responses.items():
            wr = f"{w}/responses/{documents.escape(str(status))}"
            status = str(status).upper()
            if not re.fullmatch(r"[1-5](\d\d|XX)|DEFAULT", status):
                reason = f"{status!r} is not a status code, a range like 4XX, or default"
                self.mistake(DocumentError(self.file, wr, reason), "response ignored")
                continue
            status = status.lower() if status == "DEFAULT" else status
            resp = self.mapping(resp, wr, "a response")
            headers = {}
            for hname, header in (resp.get("headers") or {}).items():
                wh = f"{wr}/headers/{documents.escape(hname)}"
                header = self.mapping(header, wh, "a header")
                hschema = self.schema(header["schema"], wh + "/schema") if "schema" in header else {}
                headers[hname] = (bool(header.get("required", False)), hschema)
            answered = self.media(resp.get("content") or {}, wr + "/content")
            if answered and status in _NO_CONTENT:
                reason = f"a {status} response has no content in HTTP (RFC 9110), yet content is documented"
                self.mistake(DocumentError(self.file, wr + "/content", reason), "answered without a body")
                answered = {}
            responses[status] = Response(status, answered, headers)
        security = self.security(obj.get("security", global_security), w + "/security")
        return Operation(method.upper(), path, op_id, list(params.values()), body_required, responses, security,
                         content)  # fmt: skip


def _template_parameters(path: str) -> list[Parameter]:
    """A string path parameter per name of a path template (`#...` and `?...` are not the path; RFC 6570 operators,
    `{+name}`, are not the name)."""
    names = re.findall(r"{([^}]+)}", re.split(r"[#?]", path, maxsplit=1)[0])
    return [
        Parameter(n.lstrip("+#./;?&").rstrip("*"), "path", True, {"type": "string"}, "simple", False) for n in names
    ]


def _prefix(document: dict[str, Any]) -> str:
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], dict) or not isinstance(servers[0].get("url"), str):
        return ""
    url = servers[0]["url"]
    for name, var in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((var or {}).get("default", "")))
    return urlparse(url).path.rstrip("/")


def _build(document: dict[str, Any], source: str, version: str, strict: bool = False) -> Spec:
    builder = _Builder(document, source, version, strict)
    operations = builder.operations()
    return Spec(
        source,
        document,
        version,
        _prefix(document),
        operations,
        builder.schemas,
        builder.security_schemes,
        builder.warnings,
    )
