"""Media types, read one way everywhere: a request's or response's Content-Type, an Accept header and a contract's
`content` key. Lower-case, parameters dropped; JSON is `application/json`, `*/json` and `*+json`."""

from __future__ import annotations

import re

JSON, FORM, MULTIPART, XML, TEXT, OPAQUE = "json", "form", "multipart", "xml", "text", "opaque"


def base(media: str) -> str:
    """`Application/JSON; charset=utf-8` -> `application/json`."""
    return media.split(";", 1)[0].strip().lower()


def kind(media: str) -> str:
    """How a body of this media type is read and written: JSON, FORM, MULTIPART, XML, TEXT or OPAQUE."""
    media = base(media)
    if media.endswith("/json") or media.endswith("+json"):
        return JSON
    if media == "application/x-www-form-urlencoded":
        return FORM
    if media == "multipart/form-data":
        return MULTIPART
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return XML
    if media.startswith("text/"):
        return TEXT
    return OPAQUE


def is_json(media: str) -> bool:
    return kind(media) == JSON


def is_xml(media: str) -> bool:
    return kind(media) == XML


def matches(actual: str, declared: str) -> bool:
    """Whether a concrete media type (`base` form) falls under a declared one: equal, `type/*` or `*/*`."""
    declared = base(declared)
    return declared in ("*/*", actual) or (declared.endswith("/*") and actual.startswith(declared[:-1]))


_QVALUE = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\Z")  # RFC 9110 12.4.2


def accepted(accept: str) -> list[tuple[str, float]]:
    """An Accept header's media ranges (`base` form) with their weights, in order (RFC 9110 12.5.1): `q` as sent, 1
    when absent or unreadable; q=0 means "not acceptable"."""
    ranges = []
    for entry in accept.split(","):
        media, *params = entry.split(";")
        media = media.strip().lower()
        if not media:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.match(value) else 1.0
        ranges.append((media, weight))
    return ranges


def weigh(actual: str, ranges: list[tuple[str, float]]) -> tuple[float, int, int] | None:
    """How much a client wants a concrete media type (`base` form), from `accepted()`: (weight, specificity 0-2,
    position) of the most specific range that covers it (a more specific range overrides a broader one: `text/html;
    q=0` beats `text/*`); None when no range covers it."""
    best: tuple[float, int, int] | None = None
    for position, (declared, weight) in enumerate(ranges):
        if matches(actual, declared):
            specificity = 0 if declared == "*/*" else 1 if declared.endswith("/*") else 2
            if best is None or specificity > best[1]:
                best = (weight, specificity, position)
    return best
