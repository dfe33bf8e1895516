"""Bundling: every external `$ref` of an OpenAPI document (relative files, URLs) copied into its `components`, so
that everything after works on one self-contained document (contract/spec.py's first step)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlparse

from referencing import Registry, Resource, Specification
from referencing.exceptions import Unresolvable

from . import documents
from .documents import DocumentError
from .schemas import lookup

_OPAQUE = Specification.OPAQUE


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

    internal: dict[str, str] = {}  # a `#...` reference of the root document -> what it becomes (52,609 in Graph)

    def ref(value: str, base: str, file: str, where: str) -> str:
        if base == root_uri and value in internal:
            return internal[value]
        target = urljoin(base, value)
        uri, fragment = urldefrag(target)
        fragment = unquote(fragment)
        if uri == root_uri:
            if lookup(root, fragment) is None and fragment:
                raise DocumentError(file, where, f"$ref {value!r} points nowhere")
            if base == root_uri:
                internal[value] = "#" + fragment
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
