"""Bodies as bytes: JSON through orjson (about 3x the standard library), XML for XML media, server-sent events for
`text/event-stream` (each value a `data:` event), text media as text.

Rules: never raises for a value the generator or a fixture can hold; integers past 64 bits fall back to the standard
library, which orjson refuses. XML is written element per property (a list repeats its element), with names made
valid and characters XML 1.0 cannot carry left out.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape

import orjson

from ...contract.media import base, is_json, is_xml

EVENT_STREAM = "text/event-stream"

_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def dumps(value: Any) -> bytes:
    """JSON bytes; falls back to the standard library for what orjson refuses (huge integers)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=True).encode()


def encode(value: Any, media: str, root: str = "response") -> bytes:
    """A body for a media type: XML for XML media (`root` names the document element), a string as itself for
    other non-JSON media, JSON otherwise."""
    if is_xml(media):
        return to_xml(value, root)
    if base(media) == EVENT_STREAM:
        return to_events(value)
    if isinstance(value, str) and not is_json(media):
        return value.encode()
    return dumps(value)


def to_events(value: Any) -> bytes:
    """Server-sent events (the WHATWG `text/event-stream` format): the schema describes an event's data, so a value
    is one `data:` event in JSON; a string already framed as events is sent as it is, other text as one event of
    one `data:` line per line."""
    if isinstance(value, str):
        if re.match(r"(data|event|id|retry)?:", value):
            return value.encode() if value.endswith("\n\n") else (value.rstrip("\n") + "\n\n").encode()
        return ("".join(f"data: {line}\n" for line in value.split("\n")) + "\n").encode()
    return b"data: " + dumps(value) + b"\n\n"


def to_xml(value: Any, root: str) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>']
    if isinstance(value, list):  # a top-level list needs one document element around its items
        parts.append(f"<{_name(root)}>")
        for item in value:
            _element(parts, "item", item)
        parts.append(f"</{_name(root)}>")
    else:
        _element(parts, root, value)
    return "".join(parts).encode()


def _element(parts: list[str], name: str, value: Any) -> None:
    tag = _name(name)
    if value is None:
        parts.append(f"<{tag}/>")
    elif isinstance(value, dict):
        parts.append(f"<{tag}>")
        for key, item in value.items():
            for each in item if isinstance(item, list) else [item]:
                _element(parts, str(key), each)
        parts.append(f"</{tag}>")
    elif isinstance(value, list):
        for item in value:
            _element(parts, name, item)
    else:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        parts.append(f"<{tag}>{escape(_NOT_XML_CHAR.sub('', text))}</{tag}>")


def _name(name: str) -> str:
    clean = _NOT_NAME.sub("_", name) or "item"
    return clean if (clean[0].isalpha() or clean[0] == "_") and not clean.lower().startswith("xml") else "_" + clean


def serializable(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True
