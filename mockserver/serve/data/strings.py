"""Strings for the schema walk (walker.py): formats, patterns (an ECMA 262 regex read in Python's dialect), the
contract's own examples and the edge and huge modes' texts. Rules as walker.py's: a value depends only on the RNG."""

from __future__ import annotations

import random
import re
import string
from typing import TYPE_CHECKING, Any

from . import realism

if TYPE_CHECKING:
    from .generation import Generator

_EDGE_STRINGS = (
    "", " ", "O'Brien", "Zoë Saldaña-Ñúñez", "日本語のテキスト", "🚀✨ emoji 👩‍💻", '<b>not bold</b> & "quotes"',
    "مرحبا بالعالم", "Ωmega ✓ ☃", "line one\nline two", "null", "0", "  padded  ",
)  # fmt: skip
_HUGE = "Ωmega ✓ 日本語 ☃ " * 300
_PRINTABLE = "".join(c for c in string.printable if c not in "\t\n\r\x0b\x0c")
_URI = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;="  # RFC 3986, without `%` escapes
_ALPHABETS = {  # the characters a string of a format may hold, for drawing from a pattern it also has
    **dict.fromkeys(("uri", "url", "iri", "uri-reference", "iri-reference", "uri-template"), _URI),
    **dict.fromkeys(("hostname", "idn-hostname"), string.ascii_lowercase + string.digits + "-."),
    **dict.fromkeys(("email", "idn-email"), string.ascii_letters + string.digits + "@.-_+"),
    **dict.fromkeys(("date", "date-time", "time"), string.digits + "-:TZ.+"),
    "uuid": string.hexdigits.lower() + "-",
}


class GenerationError(Exception):
    pass


# ECMA 262 Unicode property classes Python's `re` lacks, as ASCII ranges (a subset: values drawn stay valid)
_PROPERTIES = {
    "L": "A-Za-z", "Lu": "A-Z", "Ll": "a-z", "Letter": "A-Za-z", "N": "0-9", "Nd": "0-9", "Z": " ", "Zs": " ",
    "P": "!-/:-@\\[-`{-~", "S": "$+<=>^`|~", "Alphabetic": "A-Za-z", "Alpha": "A-Za-z", "C": "", "Cc": "",
}  # fmt: skip
_NOT_PROPERTIES = {"C": " -~", "Cc": " -~", "L": "0-9 -/:-@\\[-`{-~", "N": "A-Za-z"}
_PROPERTY = re.compile(r"\\([pP])\{(?:\w+=)?(\w+)\}")


def python_regex(pattern: str) -> str:
    """An ECMA 262 regular expression in Python's dialect, as far as drawing from it goes: named groups `(?<n>`
    become `(?P<n>`, Unicode property classes become ASCII ranges (inside a class or as a class of their own)."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            match = _PROPERTY.match(pattern, i)
            if match is not None:
                negated, name = match.group(1) == "P", match.group(2)
                table = _NOT_PROPERTIES if negated else _PROPERTIES
                ranges = table.get(name, "A-Za-z" if not negated else " -~")
                out.append(ranges if in_class else f"[{ranges or ' -~'}]")
                i = match.end()
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "(" and not in_class and pattern.startswith("(?<", i) and pattern[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


class Strings:
    """The string draws of a `Walker` (its `rng`, `mode`, `lenient` and `generator`)."""

    generator: Generator
    rng: random.Random
    mode: str
    lenient: bool

    def string(self, schema: dict[str, Any], name: str, context: str = "") -> str:
        fmt = schema.get("format")
        text = _formatted(fmt, self.rng) if fmt else None
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            return self.patterned(pattern, name, context, low, high, text, _ALPHABETS.get(str(fmt), _PRINTABLE))
        if text is None and self.mode == "readable" and not realism.identifier(name):
            text = self.example(schema, low, high)  # the contract's own example reads better than any word list
        if text is None:
            if self.mode == "huge":
                text = _HUGE  # one object for every huge string: a large contract has thousands
            elif self.mode == "empty":
                text = ""
            elif self.mode == "edge":
                text = self.rng.choice(_EDGE_STRINGS)
                if high is not None and self.rng.random() < 0.5:
                    text = (text or "x") * (int(high) // max(len(text), 1) + 1)
            else:
                text = realism.text(name, context, self.rng)
        if fmt in ("date-time", "time") and text.endswith("Z") and len(text) < low:
            # a longer timestamp is one with fractional seconds or a numeric offset (RFC 3339), never a word after it
            need = low - len(text)
            if need == 5:
                text = text[:-1] + "+00:00"
            elif need >= 2:
                text = text[:-1] + "." + "".join(self.rng.choice(string.digits) for _ in range(need - 1)) + "Z"
        while len(text) < low:
            text += " " + self.rng.choice(realism.WORDS) if text else self.rng.choice(realism.WORDS)
        if high is not None and len(text) > int(high):
            text = text[: int(high)].rstrip() or text[: int(high)]
        return text

    def example(self, schema: dict[str, Any], low: int, high: Any) -> str | None:
        """One of the schema's string examples that fits its lengths, or None."""
        found = schema.get("examples")
        options = list(found) if isinstance(found, list) else []
        if "example" in schema:  # a 3.1 document may still say `example`
            options.append(schema["example"])
        # an empty example (`example: ""`, vtex's path ids) is a placeholder, not a value to show
        fitting = [o for o in options if isinstance(o, str) and max(low, 1) <= len(o) <= (int(high) if high is not None
                                                                                           else len(o))]  # fmt: skip
        return self.rng.choice(fitting) if fitting else None

    def patterned(self, pattern: str, name: str, context: str, low: int, high: Any, formatted: str | None,
                  alphabet: str) -> str:  # fmt: skip
        """A string for a `pattern`: a readable guess when it matches, else a draw from the regex (of `alphabet`,
        the characters the string's `format` allows)."""
        try:
            compiled = re.compile(python_regex(pattern))
        except re.error:
            if self.lenient:
                return realism.text(name, context, self.rng)
            raise GenerationError(f"pattern {pattern!r} is not a regex Python can read") from None

        def fits(text: str) -> bool:
            return low <= len(text) <= (int(high) if high is not None else len(text)) and bool(compiled.search(text))

        if self.mode in ("readable", "edge"):
            a, b = self.rng.choice(realism.WORDS), self.rng.choice(realism.WORDS)
            guesses = [formatted, realism.text(name, context, self.rng), f"{a}_{b}", f"{a}-{b}", a + b, a.upper()]
            for guess in guesses:
                if guess is not None and fits(guess):
                    return guess
        # an ECMA pattern matches anywhere: a `.*` around it only adds characters the lengths may not allow
        core = re.sub(r"\.\*\$?$", "", re.sub(r"^\^?\.\*", "", pattern)) or pattern
        for attempt in range(5):
            try:  # a format's alphabet may allow no match of the pattern (a `date-time` whose pattern is an id)
                drawn = self.generator.pattern(core, self.rng, alphabet if attempt < 3 else _PRINTABLE)
            except GenerationError:
                if alphabet == _PRINTABLE or attempt >= 3:
                    break
                alphabet = _PRINTABLE
                continue
            if fits(drawn):
                return drawn
            # a draw of the wrong length, stretched by its last character or cut (`[a-z][a-z0-9-]*` of length 36)
            top = int(high) if high is not None else len(drawn)
            repeated = (drawn * (low // max(len(drawn), 1) + 1))[: max(low, 1)]
            for near in (drawn + drawn[-1:] * (low - len(drawn)), drawn[:top], repeated):
                if near and fits(near):
                    return near
        if self.lenient:  # the last resort: a string that fits the pattern or the lengths, not both
            return (formatted or realism.text(name, context, self.rng))[: int(high) if high is not None else None]
        raise GenerationError(f"no string of length {low}..{high} found for pattern {pattern!r}")


def _formatted(fmt: str, rng: random.Random) -> str | None:
    moment = realism.moment(rng)
    word = rng.choice(realism.WORDS)
    if fmt == "date-time":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "date":
        return moment.strftime("%Y-%m-%d")
    if fmt == "time":
        return moment.strftime("%H:%M:%SZ")
    if fmt in ("email", "idn-email"):
        return f"{rng.choice(realism.FIRST).lower()}.{word}@example.com"
    if fmt in ("uri", "url", "iri", "uri-reference", "iri-reference"):
        return f"https://example.com/{word}/{rng.randint(1, 999)}"
    if fmt == "uuid":
        return realism.uuid(rng)
    if fmt in ("hostname", "idn-hostname"):
        return f"{word}.example.com"
    if fmt == "ipv4":
        return f"192.0.2.{rng.randint(1, 254)}"
    if fmt == "ipv6":
        return f"2001:db8::{rng.randint(1, 0xFFFF):x}"
    if fmt == "byte":
        import base64

        return base64.b64encode(word.encode()).decode()
    if fmt == "duration":
        return f"PT{rng.randint(1, 59)}M"
    if fmt == "json-pointer":
        return f"/{word}/{rng.randint(0, 9)}"
    if fmt == "regex":
        return "^[a-z]+$"
    if fmt == "password":
        return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))
    return None
