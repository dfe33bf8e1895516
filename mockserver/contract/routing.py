"""`Router.match(method, raw_path)`: which operation a request is for, with its path parameters.

Rules: matching is done segment by segment on the raw (still percent-encoded) path, so `%2F` inside an id stays in
the id. Literal segments beat templated ones (`/pets/mine` over `/pets/{id}`, whatever the method: a concrete path
is its own resource). Templates of the same shape (`/items/{item_id}` and `/items/{digest}`: only their parameter
names differ) are one resource: the one that has the method wins (of several that have it, the first whose path
parameters are valid, when the caller says how to tell), and only when none has it is the request a method
mismatch (405, `Allow` listing what they offer together). HEAD falls back to GET. A path key may carry what the
request must also hold after `#` or `?` (published AWS contracts: `/#X-Amz-Target=Svc.Op`, `/{Bucket}?uploads`): it
routes on the path part, and operations of one method there are told apart by those query or header values when the
caller passes them (else the first is taken). Template names lose RFC 6570 operators (`{+name}` is `name`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from . import media
from .spec import Operation

FULL, METHOD, NONE = "full", "method", "none"


class Match(NamedTuple):
    """A named tuple: built on every request."""

    kind: str
    operation: Operation | None = None
    params: dict[str, str] = {}  # noqa: RUF012 - never written: a match's parameters are a new dict
    bad_params: list[str] = []  # noqa: RUF012 - names whose percent-escapes are not UTF-8
    allowed: list[str] = []  # noqa: RUF012
    operations: list[Operation] = []  # noqa: RUF012 - METHOD: those of the templates the path matched


_NO_MATCH = Match(NONE)
_NONE_BAD: list[str] = []  # shared, never written: almost every path decodes
_new = tuple.__new__  # a Match without the named tuple's own __new__ (a Python function): built on every request
_NO_LIST: list[Operation] = []  # shared, never written
_NO_INDEXES: list[int] = []  # shared, never written


@dataclass
class _Template:
    path: str
    segments: list[str | re.Pattern[str]]
    names: list[list[str]]
    score: tuple[int, int]
    operations: dict[str, Operation]
    shape: str  # the path with parameter names left out: templates of one shape match the same paths
    # method -> [(conditions, operation)] when several operations share the path part and the method
    # the segments by kind, so a match does no type test: literal ones, whole-segment parameters ({id}), the rest
    literals: tuple[tuple[int, str], ...] = ()
    whole: tuple[tuple[int, str], ...] = ()
    patterns: tuple[tuple[int, re.Pattern[str], list[str]], ...] = ()
    variants: dict[str, list[tuple[tuple[tuple[str, str | None], ...], Operation]]] | None = None

    def __post_init__(self) -> None:
        literals, whole, patterns = [], [], []
        for i, (segment, names) in enumerate(zip(self.segments, self.names, strict=True)):
            if isinstance(segment, str):
                literals.append((i, segment))
            elif segment.pattern == "(.+?)\\Z" and len(names) == 1:
                whole.append((i, names[0]))
            else:
                patterns.append((i, segment, names))
        self.literals, self.whole, self.patterns = tuple(literals), tuple(whole), tuple(patterns)


def routed(path: str) -> str:
    """The part of a path key a request's path is matched against: what follows `#` or `?` is not a path."""
    return re.split(r"[#?]", path, maxsplit=1)[0] or "/"


def parameter_names(path: str) -> list[str]:
    """The names of a path template's parameters, without RFC 6570 operators (`{+name}`, `{name*}`)."""
    return [name.lstrip("+#./;?&").rstrip("*") for name in re.findall(r"{([^}]+)}", routed(path))]


def _conditions(path: str) -> tuple[tuple[str, str | None], ...]:
    """What a path key's `#...` or `?...` part asks of the request: `k=v` pairs and bare `k` flags."""
    parts = re.split(r"[#?]", path, maxsplit=1)
    if len(parts) < 2:
        return ()
    out: list[tuple[str, str | None]] = []
    for item in re.split(r"[&;]", parts[1]):
        name, eq, value = item.partition("=")
        if name:  # `a={a}`: any value of `a`
            out.append((name, value if eq and not value.startswith("{") else None))
    return tuple(out)


def _compile(
    path: str, enums: dict[str, list[str]] | None = None
) -> tuple[list[str | re.Pattern[str]], list[list[str]]]:
    """A template's segments: literal text, or a regex of its parameters. A parameter that shares its segment with
    another and has an `enum` matches only those values (`{id}{ext}` with ext `.json`: `a.json` is id `a`)."""
    segments: list[str | re.Pattern[str]] = []
    names: list[list[str]] = []
    for part in path.split("/")[1:]:
        found = [name.lstrip("+#./;?&").rstrip("*") for name in re.findall(r"{([^}]+)}", part)]
        if not found:
            segments.append(part)
            names.append([])
            continue
        pieces = re.split(r"{[^}]+}", part)
        groups = [
            "(" + "|".join(map(re.escape, sorted(enums[n], key=len, reverse=True))) + ")"
            if len(found) > 1 and enums and enums.get(n) else "(.+?)" for n in found
        ]  # fmt: skip
        pattern = "".join(re.escape(p) + (groups[i] if i < len(found) else "") for i, p in enumerate(pieces))
        segments.append(re.compile(pattern + r"\Z", re.S))
        names.append(found)
    return segments, names


class Router:
    def __init__(self, operations: list[Operation], prefix: str = "",
                 accepts: Callable[[Operation, dict[str, str]], bool] | None = None) -> None:  # fmt: skip
        """`accepts(operation, path parameters)`: whether the values fit the operation's path parameters; given,
        templates of one shape that all have the method are told apart by it (`/Contacts/{ContactID}`, a uuid,
        and `/Contacts/{ContactNumber}`: the first whose parameters fit wins, else the first)."""
        self.prefix = prefix.encode()
        self.accepts = accepts
        templates: dict[str, _Template] = {}
        for op in operations:
            path = routed(op.path)
            if path not in templates:
                segments, names = _compile(path, _enums(op))
                literal = sum(isinstance(s, str) for s in segments)
                # literal characters count inside mixed segments too: `{name}:cancel` is more literal than `{name}`
                chars = len(re.sub(r"{[^}]+}", "", path)) - len(segments)
                shape = re.sub(r"{[^}]+}", "{}", path)
                templates[path] = _Template(path, segments, names, (literal, chars), {}, shape)
            template = templates[path]
            if op.method in template.operations:  # the same path part and method: told apart by the key's conditions
                variants = template.variants = template.variants or {}
                first = template.operations[op.method]
                variants.setdefault(op.method, [(_conditions(first.path), first)]).append((_conditions(op.path), op))
            else:
                template.operations[op.method] = op
        self._by_length: dict[int, list[_Template]] = {}
        self._shapes: dict[str, list[_Template]] = {}
        for t in sorted(templates.values(), key=lambda t: t.score, reverse=True):
            self._by_length.setdefault(len(t.segments), []).append(t)
            self._shapes.setdefault(t.shape, []).append(t)
        self.paths = list(templates)
        # (template path, method) -> the other templates of its shape that have the method too
        self._rivals = {
            (t.path, m): [o for o in same if o is not t and m in o.operations]
            for same in self._shapes.values() if len(same) > 1 for t in same for m in t.operations
        }  # fmt: skip
        self._rivals = {k: v for k, v in self._rivals.items() if v} if accepts is not None else {}
        if not any(t.variants for t in templates.values()):  # the usual contract: no wrapper to pass through
            self.match = self._match  # type: ignore[method-assign]
        # operations told apart by conditions: those asking more first (`#partNumber&uploadId&x-amz-copy-source`
        # before `#partNumber&uploadId`), so a request that meets both gets the more specific one
        self._variants = {
            (t.path, m): sorted(v, key=lambda pair: -len(pair[0])) for t in templates.values()
            for m, v in (t.variants or {}).items()
        }  # fmt: skip

    def match(self, method: str, raw_path: bytes, query: dict[str, list[str]] | None = None,
              headers: dict[str, str] | None = None) -> Match:  # fmt: skip
        """The operation for a request. `query` and `headers` (lower-case names) tell apart operations whose path
        keys differ only after `#` or `?`; without them the first such operation is taken."""
        found = self._match(method, raw_path)
        op = found.operation
        if not self._variants or op is None or (query is None and headers is None):
            return found
        template_variants = self._variants.get((routed(op.path), op.method))
        if template_variants is None:
            return found
        for conditions, candidate in template_variants:  # the most specific first (see __init__)
            if conditions and all(_holds(name, value, query or {}, headers or {}) for name, value in conditions):
                return found._replace(operation=candidate)
        # else the one that asks nothing more, when it takes the body sent; else one whose request body takes the
        # media type sent (`/analyze#overload=stream`); else the one that asks nothing more; else the first
        sent = media.base((headers or {}).get("content-type", ""))
        plain = next((candidate for conditions, candidate in template_variants if not conditions), None)
        if plain is not None and (not sent or not plain.bodies or _takes(plain, sent)):
            return found._replace(operation=plain)
        for _, candidate in template_variants if sent else ():
            if _takes(candidate, sent):
                return found._replace(operation=candidate)
        return found if plain is None else found._replace(operation=plain)

    def _match(self, method: str, raw_path: bytes, query: object = None, headers: object = None) -> Match:
        if self.prefix:
            if not (raw_path == self.prefix or raw_path.startswith(self.prefix + b"/")):
                return _NO_MATCH
            raw_path = raw_path[len(self.prefix) :] or b"/"
        bad: list[int] = _NO_INDEXES
        if b"%" in raw_path or not raw_path.isascii():
            bad = []
            decoded: list[str] = []
            for i, part in enumerate(raw_path.split(b"/")[1:]):
                raw = unquote_to_bytes(part) if b"%" in part else part
                try:
                    decoded.append(raw.decode())
                except UnicodeDecodeError:
                    decoded.append(raw.decode("utf-8", "replace"))
                    bad.append(i)
        else:  # the common path: plain ASCII, nothing to unquote
            decoded = raw_path.decode("ascii").split("/")[1:]
        for template in self._by_length.get(len(decoded), ()):
            params = _match_segments(template, decoded)
            if params is not None:
                break
        else:
            return _NO_MATCH
        op = template.operations.get(method)
        if op is not None and self._rivals and self.accepts is not None and (template.path, method) in self._rivals:
            if not self.accepts(op, params):
                for other in self._rivals[(template.path, method)]:
                    theirs = _match_segments(other, decoded)
                    if theirs is not None and self.accepts(other.operations[method], theirs):
                        template, op, params = other, other.operations[method], theirs
                        break
        if op is not None:  # the template that matched has the method: the usual case, no other shape to look at
            found = [n for i in bad for n in template.names[i]] if bad else _NONE_BAD
            return _new(Match, (FULL, op, params, found, _NONE_BAD, _NO_LIST))  # type: ignore[arg-type]
        same = self._shapes[template.shape]
        wanted = [method, "GET"] if method == "HEAD" else [method]
        for name in wanted:
            for other in same:
                op = other.operations.get(name)
                if op is not None:
                    params = _match_segments(other, decoded) or {}
                    return Match(FULL, op, params, [n for i in bad for n in other.names[i]])
        allowed = sorted({m for t in same for m in t.operations})
        return Match(METHOD, allowed=allowed, operations=[op for t in same for op in t.operations.values()])


def _enums(operation: Operation) -> dict[str, list[str]]:
    """Path parameter name -> the texts its schema's `enum` allows (numbers and booleans as written in a path)."""
    out = {}
    for param in operation.parameters:
        values = param.schema.get("enum") if param.location == "path" and isinstance(param.schema, dict) else None
        if isinstance(values, list) and values and all(isinstance(v, (str, int, float)) for v in values):
            out[param.name] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return out


def _takes(operation: Operation, sent: str) -> bool:
    return any(media.matches(sent, declared) for declared in operation.bodies)


def _holds(name: str, value: str | None, query: dict[str, list[str]], headers: dict[str, str]) -> bool:
    sent = query.get(name)
    if sent is not None:
        return value is None or value in sent
    header = headers.get(name.lower())
    return header is not None and (value is None or header == value)


def _match_segments(template: _Template, decoded: list[str]) -> dict[str, str] | None:
    for i, literal in template.literals:
        if decoded[i] != literal:
            return None
    params: dict[str, str] = {}
    for i, name in template.whole:
        value = decoded[i]
        if not value:  # a parameter is never empty
            return None
        params[name] = value
    for i, pattern, names in template.patterns:
        found = pattern.match(decoded[i])
        if found is None:
            return None
        params.update(zip(names, found.groups(), strict=False))
    return params
