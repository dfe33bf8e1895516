"""Reading contract and fixture files: YAML or JSON, from disk or http(s), into plain Python data.

Rules: nothing here trusts its input. A document that is not text, does not parse, expands past a node budget
(YAML alias bombs) or nests past the parser's depth stops with a `DocumentError` naming the file, the line or JSON
pointer, and the reason; never a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 50 * 1024 * 1024
MAX_NODES = 2_000_000  # after alias expansion; a billion-laughs document blows through this quickly
MAX_DEPTH = 200


@dataclass
class DocumentError(Exception):
    file: str
    pointer: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.pointer}" if self.pointer else self.file
        return f"{where}: {self.reason}"


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_text(source: str, *, timeout: float = 5.0) -> str:
    if is_url(source):
        import httpx

        try:
            response = httpx.get(source, timeout=timeout, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise DocumentError(source, "", f"cannot fetch: {exc.__class__.__name__}: {exc}") from None
        if response.status_code != 200:
            raise DocumentError(source, "", f"cannot fetch: HTTP {response.status_code}")
        raw = response.content
    else:
        path = Path(source)
        try:
            if path.is_dir():
                raise DocumentError(source, "", "is a directory, not a file")
            if path.stat().st_size > MAX_BYTES:
                raise DocumentError(source, "", f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
            raw = path.read_bytes()
        except OSError as exc:
            raise DocumentError(source, "", exc.strerror or str(exc)) from None
    if b"\x00" in raw[:8192]:
        raise DocumentError(source, "", "binary file, expected YAML or JSON text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(source, "", f"not UTF-8 text (byte {exc.start})") from None


_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~5x faster where it is built in


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader that keeps timestamps as strings: JSON Schema sees YAML dates as text, not datetime objects."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_STR, _MAP, _SEQ, _MERGE = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq", "merge"))
_SCALARS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float"))
_NO_KEY = object()


class _Unusual(Exception):
    """Something outside what `_load_yaml` builds itself: PyYAML's own loader decides (and words any error)."""


def _load_yaml(text: str) -> Any:
    """What `yaml.load(text, Loader=_Loader)` gives, built from the C parser's events: PyYAML's loader first
    composes a graph of nodes (about five times the data's size in memory, the peak of a large contract's
    start-up) and then walks it. Scalars are resolved and typed by PyYAML's own resolver and constructors, anchors
    shared and `<<` merged as PyYAML does; anything else (explicit tags, keys that are collections, a second
    document, any error) raises `_Unusual` or the parser's error, and the caller asks PyYAML's loader."""
    loader = _Loader(text)
    try:
        events = loader.get_event
        resolve, constructors = loader.resolve, loader.yaml_constructors
        typed: dict[tuple[str, str], Any] = {}
        tags: dict[tuple[str, Any], str] = {}
        anchors: dict[str, Any] = {}
        # a frame: [container, pending key (mappings), merges (mappings)]
        stack: list[list[Any]] = []
        root: Any = None
        events()  # stream start
        if isinstance(loader.peek_event(), yaml.StreamEndEvent):
            return None
        events()  # document start
        while True:
            event = events()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                value: Any = event.value
                tag = event.tag
                if tag is None or tag == "!":
                    found = tags.get((value, event.implicit))
                    if found is None:
                        found = tags[(value, event.implicit)] = resolve(yaml.ScalarNode, value, event.implicit)
                    tag = found
                if tag != _STR:
                    if tag == _MERGE and stack and stack[-1][1] is _NO_KEY and type(stack[-1][0]) is dict:
                        stack[-1][1] = _MERGE  # the next value is merged into this mapping
                        continue
                    if tag not in _SCALARS:
                        raise _Unusual(tag)
                    got = typed.get((tag, value), _NO_KEY)
                    if got is _NO_KEY:
                        got = typed[(tag, value)] = constructors[tag](loader, yaml.ScalarNode(tag, value))
                    value = got
                if event.anchor is not None:
                    anchors[event.anchor] = value
                opened = None
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                mapping = kind is yaml.MappingStartEvent
                if event.tag not in (None, "!", _MAP if mapping else _SEQ):
                    raise _Unusual(event.tag)
                value = {} if mapping else []
                if event.anchor is not None:
                    anchors[event.anchor] = value
                opened = [value, _NO_KEY, None]
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                if frame[2]:
                    _merge(frame[0], frame[2])
                if not stack:
                    break
                continue
            elif kind is yaml.AliasEvent:
                if event.anchor not in anchors:
                    raise _Unusual(event.anchor)
                value, opened = anchors[event.anchor], None
            else:
                raise _Unusual(kind.__name__)
            if not stack:  # the document is this one value
                root = value
                if opened is None:
                    break
            else:
                frame = stack[-1]
                container = frame[0]
                if type(container) is list:
                    container.append(value)
                elif frame[1] is _NO_KEY:
                    if opened is not None or isinstance(value, (dict, list)):
                        raise _Unusual("a key that is a collection")
                    frame[1] = value
                elif frame[1] is _MERGE:
                    merged = value if isinstance(value, list) else [value]
                    if opened is not None or not all(type(m) is dict for m in merged):
                        raise _Unusual("a merge of something else than mappings")
                    frame[2] = [*(frame[2] or []), *reversed(merged)]
                    frame[1] = _NO_KEY
                else:
                    container[frame[1]] = value
                    frame[1] = _NO_KEY
            if opened is not None:
                stack.append(opened)
        events()  # document end
        if not isinstance(loader.peek_event(), yaml.StreamEndEvent):
            raise _Unusual("more than one document")
        return root
    finally:
        loader.dispose()


def _merge(mapping: dict[Any, Any], merged: list[dict[Any, Any]]) -> None:
    """`<<` as PyYAML merges: the merged mappings' pairs first (of a list, the earlier mapping wins), then the
    mapping's own, each key where it first appeared. In place: aliases may already point at the mapping."""
    out: dict[Any, Any] = {}
    for each in merged:
        out.update(each)
    out.update(mapping)
    mapping.clear()
    mapping.update(out)


def parse(text: str, file: str) -> Any:
    if not text.strip():
        raise DocumentError(file, "", "empty document")
    try:
        if text.lstrip().startswith(("{", "[")):
            data = json.loads(text)
        else:
            try:
                data = _load_yaml(text)
            except (_Unusual, yaml.YAMLError, RecursionError, ValueError, TypeError):
                data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as exc:
        raise DocumentError(file, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise DocumentError(file, where, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(file, "", f"invalid YAML: {exc}") from None
    except RecursionError:
        raise DocumentError(file, "", "nested too deeply to parse") from None
    _check_size(data, file)
    return data


def _check_size(data: Any, file: str) -> None:
    # Walks the data as a consumer would, counting shared (aliased) nodes each time they are reached. Each node
    # carries its path as a linked (parent, key) pair, made into a JSON pointer only for an error message.
    budget = MAX_NODES
    stack: list[tuple[Any, int, Any]] = [(data, 0, None)]
    while stack:
        node, depth, trail = stack.pop()
        budget -= 1
        if budget < 0:
            raise DocumentError(file, _pointer(trail), f"expands to more than {MAX_NODES:,} nodes (YAML alias bomb?)")
        if depth > MAX_DEPTH:
            raise DocumentError(file, _pointer(trail), f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise DocumentError(file, _pointer(trail), f"mapping key {key!r} is not a scalar")
                stack.append((value, depth + 1, (trail, key)))
        elif isinstance(node, list):
            stack.extend((item, depth + 1, (trail, i)) for i, item in enumerate(node))


def _pointer(trail: Any, shown: int = 12) -> str:
    tokens = []
    while trail is not None:  # at most MAX_DEPTH + 1 links
        trail, token = trail
        tokens.append(token)
    tokens.reverse()
    return pointer(*tokens[:shown]) + ("/…" if len(tokens) > shown else "")


def load(source: str) -> Any:
    return parse(read_text(source), source)


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: object) -> str:
    return "".join("/" + escape(str(token)) for token in tokens)


def at_pointer(document: Any, pointer: str, missing: Any = None) -> Any:
    """The value at a JSON pointer (RFC 6901) in `document`, or `missing` when nothing is there."""
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return missing
    return node


SUFFIXES = (".yaml", ".yml", ".json")


def folder_files(folder: str) -> list[Path]:
    """The YAML/JSON files under a folder (fixtures), sorted, walked without following links; a file or link that
    resolves outside the folder is an error, so nothing outside it is ever read."""
    root = Path(folder)
    if not root.is_dir():
        raise DocumentError(folder, "", "fixtures folder does not exist or is not a folder")
    root = root.resolve()
    found = []
    for current, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(current) / name
            if path.suffix.lower() not in SUFFIXES:
                continue
            real = path.resolve()
            if not real.is_relative_to(root) or not real.is_file():
                raise DocumentError(
                    str(path), "", "resolves outside the fixtures folder (symlink?); refusing to read it"
                )
            found.append(path)
    return found


def write_atomically(path: Path, text: str) -> None:
    """A file written whole or not at all (a temporary file beside it, then renamed): a reader never sees half of
    it (the recorder's fixtures, read back by --watch)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:40]}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
