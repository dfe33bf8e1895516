"""Media types, read one way everywhere: a request's or response's Content-Type, an Accept entry and a contract's
`content` key. Lower-case, parameters dropped; JSON is `application/json`, `*/json` and `*+json`."""

from __future__ import annotations

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
