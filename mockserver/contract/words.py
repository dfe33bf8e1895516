"""Words in what both products print: a count and its noun agree ("1 operation", "2 operations").

Rules: English plurals only where a message shows a count; one function, so that no message writes "(s)".
"""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "child": "children", "property": "properties", "was": "were", "is": "are"}


def plural(noun: str, n: int) -> str:
    """`noun` as it goes with `n`: "operation" or "operations"; the last word of a phrase ("distinct failure")."""
    if n == 1:
        return noun
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR:
        word = _IRREGULAR[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def count(n: int, noun: str) -> str:
    """ "1 operation", "2 operations", "0 distinct failures"."""
    return f"{n} {plural(noun, n)}"
