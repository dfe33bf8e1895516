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
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from . import documents
from .bundling import _bundle
from .documents import DocumentError, pointer
from .model import _NO_CONTENT, IGNORED_HEADERS, METHODS, MediaType, Operation, Parameter, Response, Spec
from .schemas import Schema, SchemaSet, lookup
from .security import SecurityScheme, parse_schemes

__all__ = [
    "BUILTIN",
    "IGNORED_HEADERS",
    "METHODS",
    "MediaType",
    "Operation",
    "Parameter",
    "Response",
    "Spec",
    "builtin",
    "load_spec",
]

_PACKAGE = Path(__file__).resolve().parent.parent
BUILTIN = _PACKAGE.parent / "contracts" / "builtin.yaml"
if not BUILTIN.exists():  # installed as a wheel: contracts/ and fixtures/ ship inside the package
    BUILTIN = _PACKAGE / "_builtin" / "contracts" / "builtin.yaml"


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
    path = re.sub(r"/{2,}", "/", urlparse(url).path).rstrip("/")  # `https://host/{basePath}`, basePath `/api`
    # a URL that is no path (`api.example.com` without a scheme, `Your API URL`, `,`) gives no prefix
    return path if path.startswith("/") and " " not in path else ""


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
