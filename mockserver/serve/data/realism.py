"""Readable data by name, and coherence between fields: what a frontend developer expects to see.

Rules: names are matched as whole words, never substrings (`security_analyzer` holds no `uri`, `runtime_image` no
`time`): a name splits into lower-case words at `_ - . /`, spaces, digits and camelCase humps. The parent's words
(its title, definition or property name) settle what a bare `name` is: a person's in a user, a repository's
`owner/repo` in a repository, two capitalised words elsewhere. Nothing here validates against a schema: the
generator and the producer keep a value only when it stays valid.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from ...contract.schemas import Schema, SchemaSet
from .words import (
    _CONTAINER,
    _COUNT,
    _EARLY,
    _IMAGE,
    _LATE,
    _LIMITS,
    _MAIN_LISTS,
    _PERSON,
    _REPO,
    _SECRET,
    _STAMPS,
    _TEXT,
    _TIME,
    _TITLE,
    _TOTAL,
    _URL,
    CITIES,
    FIRST,
    LAST,
    WORDS,
)

EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)
MAX_PAGE = 100  # a limit-like query parameter above this is served this many items

_SPLIT = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@lru_cache(maxsize=8192)
def words(name: str) -> tuple[str, ...]:
    """`sandbox_runtime_containerImage` -> ("sandbox", "runtime", "container", "image")."""
    return tuple(w.lower() for w in _SPLIT.findall(name))


def moment(rng: random.Random) -> datetime:
    return EPOCH + timedelta(seconds=rng.randint(0, 600 * 86400))


def hex_id(rng: random.Random, length: int = 12) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def text(name: str, context: str, rng: random.Random) -> str:
    """A readable string for a property `name` inside an object described by `context` (its words decide too)."""
    w = words(name)
    ws, last = set(w), (w[-1] if w else "")
    ctx = set(words(context))
    pick = rng.choice
    if "email" in ws or last == "mail":
        return f"{pick(FIRST).lower()}.{pick(LAST).lower()}@example.com"
    if ws & _IMAGE and ws & _CONTAINER:
        return f"ghcr.io/{pick(WORDS)}/{pick(WORDS)}:{rng.randint(0, 4)}.{rng.randint(0, 20)}"
    if ws & _URL or (ws & _IMAGE and last in _IMAGE | {"url"}):
        suffix = ".png" if ws & _IMAGE else ""
        return f"https://example.com/{pick(WORDS)}/{rng.randint(1, 999)}{suffix}"
    if last in ("uuid", "guid"):
        return uuid(rng)
    if last == "id" or name.lower() == "id":
        return hex_id(rng)
    if last in ("sha", "digest", "hash", "checksum", "commit"):
        return hex_id(rng, 40)
    if (ws & _REPO and last in ("name", "repo", "repository", "slug")) or (
        last == "name" and "full" in ws and ctx & _REPO
    ):
        return f"{pick(WORDS)}-labs/{pick(WORDS)}-{pick(WORDS)}"
    if "branch" in ws or last == "ref":
        return pick(["main", "develop", f"feature/{pick(WORDS)}-{pick(WORDS)}"])
    if w in (("first", "name"), ("firstname",), ("given", "name")):
        return pick(FIRST)
    if w in (("last", "name"), ("lastname",), ("family", "name"), ("surname",)):
        return pick(LAST)
    if last in ("username", "login", "handle", "nickname") or w == ("user", "name"):
        return f"{pick(FIRST).lower()}-{pick(LAST).lower()}"
    if last in ("author", "owner", "assignee", "creator", "reviewer", "user") or (
        last == "name" and (ws & {"full", "display", "person", "contact"} or ctx & _PERSON)
    ):
        return person(rng)
    if last in ("hostname", "host", "domain"):
        return f"{pick(WORDS)}.example.com"
    if last in ("filename", "file", "path", "dir", "directory", "folder"):
        return f"src/{pick(WORDS)}/{pick(WORDS)}.py"
    if last == "name" or last == "slug":
        return f"{pick(WORDS)}-{pick(WORDS)}" if last == "slug" else f"{pick(WORDS).title()} {pick(WORDS).title()}"
    if ws & _TITLE:
        return " ".join(pick(WORDS) for _ in range(rng.randint(2, 5))).capitalize()
    if ws & _TEXT:
        return " ".join(pick(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."
    if "version" in ws:
        return f"{rng.randint(0, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
    if ws & _SECRET:
        return hex_id(rng, 24)
    if ws & {"color", "colour"}:
        return f"#{rng.randint(0, 0xFFFFFF):06x}"
    if ws & {"language", "lang", "locale"}:
        return pick(["en", "nl", "pt", "ja", "de", "fr"])
    if ws & {"country"}:
        return pick(["NL", "PT", "JP", "KE", "CA", "NZ"])
    if ws & {"currency"}:
        return pick(["EUR", "USD", "JPY", "GBP"])
    if ws & {"timezone", "tz"}:
        return pick(["Europe/Amsterdam", "Asia/Tokyo", "America/Toronto", "UTC"])
    if ws & {"city", "town"}:
        return pick(CITIES)
    if ws & {"phone", "mobile", "tel", "telephone"}:
        return f"+31 20 555 {rng.randint(1000, 9999)}"
    if ws & {"address", "street"}:
        return f"{rng.randint(1, 200)} {pick(WORDS).title()} Street"
    if ws & {"ip"}:
        return f"192.0.2.{rng.randint(1, 254)}"
    if last in ("status", "state", "type", "kind", "category", "role", "mode", "level"):
        return pick(WORDS)
    if ws & _TIME:
        return moment(rng).strftime("%Y-%m-%dT%H:%M:%SZ")
    return " ".join(pick(WORDS) for _ in range(rng.randint(1, 3)))


# Unix time of 2025-01-01 and 2027-01-01: a timestamp integer is a moment of 2025-2026, like generated dates
_EPOCH_LOW, _EPOCH_HIGH = int(EPOCH.timestamp()), int(datetime(2027, 1, 1, tzinfo=timezone.utc).timestamp()) - 1
_EPOCH_WORDS = re.compile(r"\b(unix|epoch|posix)\b", re.IGNORECASE)


def timestamp(name: str, description: str = "") -> int:
    """1 when an integer is a Unix time in seconds, 1000 in milliseconds, 0 when it is not one: by a description
    that says unix/epoch, or a name ending in `at` (`created_at`) or made of a moment's word (`created`,
    `timestamp`)."""
    w = words(name)
    said = bool(_EPOCH_WORDS.search(description))
    moment = bool(w) and (
        w[-1] in ("at", "timestamp")
        or (len(w) == 1 and w[0] in _STAMPS)
        or (w[-1] in ("time", "date") and bool(set(w[:-1]) & (_EARLY | _LATE)))
    )  # `start_time`
    if not (said or moment):
        return 0
    milli = "milli" in description.lower() or (w and w[-1] in ("ms", "millis", "milliseconds"))
    return 1000 if milli else 1


def identifier(name: str) -> bool:
    """Whether a property names an identifier (`id`, `gid`, `user_id`, `uuid`, `key`): its values should differ."""
    w = words(name)
    return bool(w) and w[-1] in ("id", "gid", "uuid", "guid", "key", "ids", "slug")


def int_range(name: str, description: str = "") -> tuple[int, int]:
    scale = timestamp(name, description)
    if scale:
        return _EPOCH_LOW * scale, _EPOCH_HIGH * scale
    ws = set(words(name))
    if "year" in ws:
        return 2019, 2026
    if "age" in ws:
        return 18, 80
    if "port" in ws:
        return 1024, 65535
    if "page" in ws:
        return 1, 10
    if ws & {"percent", "percentage", "pct", "progress", "score"}:
        return 0, 100
    if ws & {"seconds", "secs", "timeout", "duration", "ttl", "expires", "interval"}:
        return 30, 3600
    if ws & {"price", "amount", "cost", "balance", "fee"}:
        return 1, 500
    if ws & _COUNT:
        return 0, 12
    w = words(name)
    if w and w[-1] in ("id", "number", "no"):
        return 1, 9999
    return 0, 100


def uuid(rng: random.Random) -> str:
    import uuid as uuid_module

    return str(uuid_module.UUID(int=rng.getrandbits(128), version=4))


# --- headers --------------------------------------------------------------------------------------------------------


def header_text(name: str, rng: random.Random) -> str | None:
    """A conventional value for a well-known response header, or None to fall back on the schema and the name."""
    n = name.lower()
    if n in ("location", "content-location"):
        return f"https://example.com/{rng.choice(WORDS)}/{rng.randint(1, 999)}"
    if n == "etag":
        return f'"{hex_id(rng, 16)}"'
    if n in ("last-modified", "date", "expires"):
        return moment(rng).strftime("%a, %d %b %Y %H:%M:%S GMT")
    if n == "link":
        return f'<https://example.com/{rng.choice(WORDS)}?page=2>; rel="next"'
    if n == "retry-after":
        return str(rng.randint(1, 120))
    if n == "cache-control":
        return rng.choice(["no-cache", "max-age=60", "private, max-age=0"])
    if n == "content-language":
        return rng.choice(["en", "nl", "pt"])
    if n == "www-authenticate":
        return 'Bearer realm="example"'
    return None


_FIELD_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
MAX_HEADER = 200


def valid_field_value(value: str) -> bool:
    """Whether a string is a valid HTTP field value (RFC 9110 5.5, visible ASCII) of at most MAX_HEADER characters."""
    return value == "" or (len(value) <= MAX_HEADER and _FIELD_VALUE.fullmatch(value) is not None)


def field_value(value: Any) -> str:
    """A generated header value written as OpenAPI's `simple` style does: arrays and objects comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(field_value(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k},{field_value(v)}" for k, v in value.items())
    return str(value)


def ascii_text(value: str) -> str:
    """Visible ASCII only, trimmed: what a header value may hold."""
    return "".join(c for c in value if " " <= c <= "~").strip()[:MAX_HEADER]


# --- coherence ------------------------------------------------------------------------------------------------------


def coherent_counts(obj: dict[str, Any], fits: Callable[[str, int], bool]) -> None:
    """Sets count-like integers (`total`, `count`, `total_entries`, `num_results`) to the length of the list beside
    them, where `fits(name, n)` says the property takes that value. The list is the one sharing a word with the
    count, else the only list of the object."""
    lists = {k: v for k, v in obj.items() if isinstance(v, list)}
    if not lists:
        return
    for key, value in obj.items():
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        ws = set(words(key))
        if not ws & _TOTAL:
            continue
        rest = {_singular(w) for w in ws - _TOTAL - {"entries", "items", "results", "of"}}
        named = [k for k in lists if rest and rest & {_singular(w) for w in words(k)}]
        target = named[0] if len(named) == 1 else next(iter(lists)) if len(lists) == 1 else None
        if target is None and ws & {"entries", "items", "results"}:
            target = next((k for k in lists if k in _MAIN_LISTS), None) or (
                next(iter(lists)) if len(lists) == 1 else None
            )
        if target is not None and fits(key, len(lists[target])):
            obj[key] = len(lists[target])


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def ordered_times(obj: dict[str, Any]) -> None:
    """Swaps timestamps so that `created_at` <= `updated_at` (and started <= ended, ...): only between two strings
    of the same shape (both date-times, or both dates), so each stays valid where the other was."""
    early = [k for k, v in obj.items() if isinstance(v, str) and set(words(k)) & _EARLY and _when(v) is not None]
    late = [k for k, v in obj.items() if isinstance(v, str) and set(words(k)) & _LATE and _when(v) is not None]
    for first in early:
        for second in late:
            a, b = obj[first], obj[second]
            if first == second or len(a) != len(b):
                continue
            if (_when(a) or EPOCH) > (_when(b) or EPOCH):
                obj[first], obj[second] = b, a


def _when(value: str) -> datetime | None:
    if len(value) < 10 or not value[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def consistent(value: Any) -> Any:
    """`coherent_counts` on every object of a value (used after a list was resized; the caller validates)."""
    if isinstance(value, dict):
        out = {k: consistent(v) for k, v in value.items()}
        coherent_counts(out, lambda _name, _n: True)
        return out
    if isinstance(value, list):
        return [consistent(v) for v in value]
    return value


def page_size(query: dict[str, list[str]]) -> int | None:
    """The size a limit-like query parameter (`limit`, `per_page`, `page_size`, `pageSize`, ...) asks for."""
    for name, values in query.items():
        if words(name) in _LIMITS and values and values[-1].isdigit():
            return min(int(values[-1]), MAX_PAGE)
    return None


def main_list(value: Any, schema: Schema, schemas: SchemaSet) -> tuple[tuple[str, ...], Schema, list[Any]] | None:
    """The list a page of results is in: the body itself, or its only list property (else one named like `items`),
    with the path to it and its items' schema."""
    resolved = _array_or_object(schemas.resolve(schema), schemas)
    if isinstance(value, list):
        items = resolved.get("items") if isinstance(resolved, dict) else None
        return ((), items, value) if items is not None else None
    if not isinstance(value, dict) or not isinstance(resolved, dict):
        return None
    lists = [k for k, v in value.items() if isinstance(v, list)]
    if len(lists) > 1:
        lists = [k for k in lists if k in _MAIN_LISTS][:1]
    if len(lists) != 1:
        return None
    name = lists[0]
    prop = schemas.properties(resolved).get(name)
    prop = _array_or_object(schemas.resolve(prop), schemas) if prop is not None else None
    items = prop.get("items") if isinstance(prop, dict) else None
    return ((name,), items, value[name]) if items is not None else None


def _array_or_object(schema: Any, schemas: SchemaSet) -> Any:
    """The branch of a nullable union that is not null (`anyOf: [X, null]` -> X)."""
    if isinstance(schema, dict) and "type" not in schema:
        for keyword in ("anyOf", "oneOf"):
            branches = [schemas.resolve(b) for b in schema.get(keyword) or []]
            real = [b for b in branches if b != {"type": "null"}]
            if len(real) == 1:
                return real[0]
    return schema


def replace_at(value: Any, path: tuple[str, ...], new: Any) -> Any:
    if not path:
        return new
    return {**value, path[0]: replace_at(value[path[0]], path[1:], new)}


# --- error bodies ---------------------------------------------------------------------------------------------------


def printable(value: Any) -> bool:
    """Whether every string in a value is readable text (no control characters, no lone surrogates, no private use)."""
    if isinstance(value, str):
        return all(c.isprintable() and not ("\ud800" <= c <= "\udfff") for c in value)
    if isinstance(value, dict):
        return all(printable(k) and printable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(printable(v) for v in value)
    return True


def readable_strings(value: Any, rng: random.Random, name: str = "") -> Any:
    """The value with every string that is not plain readable text replaced by a readable one of the same length
    class (used on a last-resort draw; the caller keeps the result only when it stays valid)."""
    if isinstance(value, str):
        if all(c in string.printable and c not in "\t\n\r\x0b\x0c" for c in value):
            return value
        return text(name, "", rng)[: max(len(value), 1)]
    if isinstance(value, dict):
        return {k: readable_strings(v, rng, k) for k, v in value.items()}
    if isinstance(value, list):
        return [readable_strings(v, rng, name) for v in value]
    return value
