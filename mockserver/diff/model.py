"""One OpenAPI 3.0/3.1 document as the comparison reads it: `$ref`s followed, each schema seen through a `Node` in
which the two dialects agree.

Rules: what is not part of the contract's meaning never reaches a `Node`: `$ref` indirection, key order, titles,
descriptions and examples. 3.0's `nullable: true`, 3.1's `type: [x, "null"]`, an `anyOf`/`oneOf` with a `{type:
null}` branch and a `null` in an enum all read as `nullable`; 3.0's boolean `exclusiveMaximum` reads as 3.1's
number. An `allOf` is merged (properties, required, bounds) so that extracting a shared part changes nothing. Each
schema is read once per document (by pointer), which is what makes a 1,000-operation contract cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..contract.documents import DocumentError, at_pointer, escape

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ANNOTATIONS = frozenset(
    {
        "title",
        "summary",
        "description",
        "example",
        "examples",
        "externalDocs",
        "deprecated",
        "$comment",
        "xml",
        "x-examples",
    }
)
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems",
           "maxItems")  # fmt: skip
MISSING: Any = object()
_DATA = frozenset({"example", "examples", "enum", "const", "default", "x-examples"})  # values, not schemas


@dataclass
class Node:
    """A schema after `$ref`s, nullability and `allOf` are read. Sub-schemas stay raw, with their pointers."""

    pointer: str  # where the schema is written (after following `$ref`s)
    key: str  # identity for memoising (the pointer, or a merge's own name)
    types: frozenset[str] | None = None  # None: any type
    nullable: bool = False
    format: str | None = None
    enum: list[Any] | None = None
    pattern: str | None = None
    bounds: dict[str, float] = field(default_factory=dict)
    properties: dict[str, tuple[Any, str]] = field(default_factory=dict)  # name -> (raw schema, pointer)
    required: set[str] = field(default_factory=set)
    items: tuple[Any, str] | None = None
    variants: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)  # oneOf/anyOf -> branches
    discriminator: dict[str, Any] | None = None
    default: Any = MISSING
    read_only: bool = False
    write_only: bool = False
    nothing: bool = False  # the `false` schema


class Contract:
    def __init__(self, data: Any, file: str) -> None:
        if not isinstance(data, dict):
            raise DocumentError(file, "", "not an OpenAPI document (expected an object at the top)")
        version = data.get("openapi")
        if not isinstance(version, str) or not version.startswith(("3.0", "3.1")):
            found = f"swagger {data['swagger']}" if "swagger" in data else repr(version)
            raise DocumentError(file, "/openapi", f"expected an OpenAPI 3.0 or 3.1 document, found {found}")
        self.data = data
        self.file = file
        self.openapi30 = version.startswith("3.0")
        self._nodes: dict[str, Node] = {}
        self._check_refs()

    def _check_refs(self) -> None:
        """Every `$ref` leads somewhere: a broken contract is refused whole, not only where the comparison looks.
        Each node carries its path as a linked (parent, key) pair, made a pointer only for the error."""
        checked: set[str] = set()
        stack: list[tuple[Any, Any]] = [(self.data, None)]
        while stack:
            node, trail = stack.pop()
            if type(node) is dict:
                ref = node.get("$ref")
                if type(ref) is str and ref not in checked:
                    problem = "is not a local reference (bundle the document first)" if not ref.startswith("#") \
                        else "points nowhere" if self.lookup(ref[1:]) is MISSING else ""  # fmt: skip
                    if problem:
                        raise DocumentError(self.file, _pointer(trail) + "/$ref", f"$ref {ref!r} {problem}")
                    checked.add(ref)
                stack.extend([(v, (trail, k)) for k, v in node.items() if k not in _DATA])
            elif type(node) is list:
                stack.extend([(v, (trail, i)) for i, v in enumerate(node)])

    # --- references -------------------------------------------------------------------------------------------------

    def lookup(self, pointer: str) -> Any:
        return at_pointer(self.data, pointer, MISSING)

    def resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follows `$ref`s (local ones: a bundled document) to the object they name, and its pointer. In 3.1 a
        `$ref` with other keywords beside it is left for `node()`, which reads it as an `allOf`."""
        seen: list[str] = []
        while isinstance(node, dict) and "$ref" in node:
            if not self.openapi30 and any(k not in _ANNOTATIONS and k != "$ref" for k in node):
                return node, pointer
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise DocumentError(self.file, pointer + "/$ref", f"$ref {ref!r} is not a local reference (bundle "
                                    "the document first)")  # fmt: skip
            target = ref[1:]
            if target in seen:
                raise DocumentError(self.file, pointer + "/$ref", f"circular $ref {ref!r}")
            seen.append(target)
            found = self.lookup(target)
            if found is MISSING:
                raise DocumentError(self.file, pointer + "/$ref", f"$ref {ref!r} points nowhere")
            node, pointer = found, target
        return node, pointer

    def part(self, owner: dict[str, Any], key: str, pointer: str, kind: type) -> Any:
        """`owner[key]` when it is a `kind` (dict or list), empty when absent; anything else is a broken document."""
        value = owner.get(key)
        if value is None:
            return kind()
        if not isinstance(value, kind):
            expected = "an object" if kind is dict else "an array"
            raise DocumentError(
                self.file, f"{pointer}/{escape(key)}", f"must be {expected}, got {type(value).__name__}"
            )
        return value

    def obj(self, node: Any, pointer: str) -> tuple[dict[str, Any], str]:
        """A resolved object (a parameter, a response, a request body ...); a non-object is a broken document."""
        found, where = self.resolve(node, pointer)
        if not isinstance(found, dict):
            raise DocumentError(self.file, where, f"expected an object, got {type(found).__name__}")
        return found, where

    # --- operations -------------------------------------------------------------------------------------------------

    def operations(self) -> dict[tuple[str, str], tuple[str, str, dict[str, Any], dict[str, Any]]]:
        """(METHOD, path template with its parameter names blanked) -> (path, pointer, operation, path item)."""
        paths = self.data.get("paths") or {}
        if not isinstance(paths, dict):
            raise DocumentError(self.file, "/paths", "must be an object")
        found: dict[tuple[str, str], tuple[str, str, dict[str, Any], dict[str, Any]]] = {}
        for path, item in paths.items():
            item, where = self.obj(item, "/paths/" + escape(str(path)))
            for method in _METHODS:
                operation = item.get(method)
                if isinstance(operation, dict):
                    key = (method.upper(), template(str(path)))
                    found.setdefault(key, (str(path), f"{where}/{method}", operation, item))
        return found

    # --- schemas ----------------------------------------------------------------------------------------------------

    def node(self, raw: Any, pointer: str, key: str | None = None) -> Node:
        if self.openapi30 and isinstance(raw, dict) and "$ref" in raw and raw.get("nullable") is True:
            # 3.0 ignores a $ref's siblings, but `nullable` beside one is common enough to honour (as schemas.py)
            marked = f"{pointer}?nullable"
            if marked not in self._nodes:
                base = self.node({"$ref": raw["$ref"]}, pointer)
                self._nodes[marked] = replace(base, key=marked, nullable=True)
            return self._nodes[marked]
        raw, pointer = self.resolve(raw, pointer)
        key = key or pointer
        found = self._nodes.get(key)
        if found is None:
            found = self._nodes[key] = Node(pointer, key)  # a placeholder while a recursive schema is read
            self._read(raw, found)
        return found

    def _read(self, raw: Any, out: Node) -> None:
        if raw is False:
            out.nothing = True
            return
        if not isinstance(raw, dict):
            if raw is not True:
                raise DocumentError(self.file, out.pointer, f"schema must be an object, got {type(raw).__name__}")
            return
        pointer = out.pointer
        if "$ref" in raw:  # 3.1: a $ref with constraints beside it is both
            rest = {k: v for k, v in raw.items() if k != "$ref"}
            more: list[Any] = rest["allOf"] if isinstance(rest.get("allOf"), list) else []
            raw = {**rest, "allOf": [{"$ref": raw["$ref"]}, *more]}
        out.read_only = raw.get("readOnly") is True
        out.write_only = raw.get("writeOnly") is True
        out.nullable = raw.get("nullable") is True
        kind = raw.get("type")
        if isinstance(kind, str):
            out.types = frozenset({kind})
        elif isinstance(kind, list):
            out.types = frozenset(str(t) for t in kind)
        if out.types is not None and "null" in out.types:
            out.nullable, out.types = True, out.types - {"null"}
        if isinstance(raw.get("format"), str):
            out.format = raw["format"]
        if isinstance(raw.get("pattern"), str):
            out.pattern = raw["pattern"]
        if "const" in raw:
            out.enum = [raw["const"]]
        elif isinstance(raw.get("enum"), list):
            out.enum = list(raw["enum"])
        if out.enum is not None and None in out.enum:
            out.nullable, out.enum = True, [v for v in out.enum if v is not None]
        for name in _BOUNDS:
            value = raw.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out.bounds[name] = value
        for bound in ("Minimum", "Maximum"):  # 3.0: exclusiveMaximum: true qualifies maximum
            if raw.get("exclusive" + bound) is True and bound.lower() in out.bounds:
                out.bounds["exclusive" + bound] = out.bounds.pop(bound.lower())
        if "default" in raw:
            out.default = raw["default"]
        if isinstance(raw.get("discriminator"), dict):
            out.discriminator = raw["discriminator"]
        properties = raw.get("properties")
        if isinstance(properties, dict):
            base = pointer + "/properties/"
            out.properties = {str(k): (v, base + escape(str(k))) for k, v in properties.items()}
        if isinstance(raw.get("required"), list):
            out.required = {str(name) for name in raw["required"]}
        if isinstance(raw.get("items"), (dict, bool)):
            out.items = (raw["items"], pointer + "/items")
        for keyword in ("oneOf", "anyOf"):
            branches = raw.get(keyword)
            if isinstance(branches, list):
                self._variants(out, keyword, [(b, f"{pointer}/{keyword}/{i}") for i, b in enumerate(branches)])
        branches = raw.get("allOf")
        if isinstance(branches, list):
            for i, branch in enumerate(branches):
                self._merge(out, self.node(branch, f"{pointer}/allOf/{i}"))

    def _variants(self, out: Node, keyword: str, branches: list[tuple[Any, str]]) -> None:
        """A `{type: null}` branch is nullability; a union of one schema and null is that schema, nullable."""
        real = []
        for branch, where in branches:
            resolved, _ = self.resolve(branch, where)
            if isinstance(resolved, dict) and (resolved.get("type") == "null" or resolved.get("enum") == [None]):
                out.nullable = True
            else:
                real.append((branch, where))
        if len(real) == 1 and len(real) < len(branches) and not out.discriminator:
            self._merge(out, self.node(*real[0]))
        elif real:
            out.variants[keyword] = real

    def _merge(self, out: Node, part: Node) -> None:
        """`allOf` (and a union's one non-null branch) folded into `out`: the tighter of each constraint."""
        if part.nothing:
            out.nothing = True
        if part.types is not None:
            out.types = part.types if out.types is None else (out.types & part.types or out.types)
        if part.nullable and out.types is None and not out.properties and not out.enum:
            out.nullable = True  # `allOf: [{$ref: X}]` beside `nullable`, or X itself nullable
        out.format = out.format or part.format
        out.pattern = out.pattern or part.pattern
        if part.enum is not None:
            out.enum = part.enum if out.enum is None else [v for v in out.enum if v in part.enum]
        for name, value in part.bounds.items():
            mine = out.bounds.get(name)
            tighter = max if name.startswith(("min", "exclusiveMin")) else min
            out.bounds[name] = value if mine is None else tighter(mine, value)
        for prop, schema in part.properties.items():
            out.properties.setdefault(prop, schema)
        out.required |= part.required
        out.items = out.items or part.items
        for keyword, branches in part.variants.items():
            out.variants.setdefault(keyword, branches)
        out.discriminator = out.discriminator or part.discriminator
        if out.default is MISSING:
            out.default = part.default
        out.read_only = out.read_only or part.read_only
        out.write_only = out.write_only or part.write_only


def _pointer(trail: Any) -> str:
    tokens = []
    while trail is not None:
        trail, token = trail
        tokens.append(escape(str(token)))
    return "".join("/" + t for t in reversed(tokens))


def template(path: str) -> str:
    """A path with its parameter names blanked: `/pets/{id}` and `/pets/{petId}` are the same operation."""
    out, depth = [], 0
    for char in path:
        if char == "{":
            depth += 1
            if depth == 1:
                out.append("{}")
        elif char == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(char)
    return "".join(out)
