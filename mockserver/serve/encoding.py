"""Bodies as bytes: JSON through orjson (about 3x the standard library), text media as text.

Rules: never raises for a value the generator or a fixture can hold; integers past 64 bits fall back to the standard
library, which orjson refuses.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """JSON bytes; falls back to the standard library for what orjson refuses (huge integers)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=True).encode()


def encode(value: Any, media: str) -> bytes:
    """A body for a media type: a string as itself for non-JSON media, JSON otherwise."""
    if isinstance(value, str) and "json" not in media.lower():
        return value.encode()
    return dumps(value)


def serializable(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True
