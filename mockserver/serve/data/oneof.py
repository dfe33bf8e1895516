"""The `oneOf` of the walk: a value one branch alone accepts, when the branches overlap (a value of one is often a
value of another: objects of different optional properties, an `enum` of another's strings). Rules: only a value
drawn from a branch is changed, with the walk's own RNG (the same request, the same answer), each change checked by
the branches' validators, at most `BUDGET` changes per other branch; a schema without `oneOf` never comes here."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from ...contract.schemas import Schema
from .strings import GenerationError

if TYPE_CHECKING:
    from .walker import Walker

BUDGET = 16  # changes tried per other branch that accepts the value (each one a validation)
DRAW_BUDGET = 48  # changes tried in all during one draw (nested `oneOf`s share it: their cost stays linear)
NOTHING = object()
_ODD: tuple[Any, ...] = (None, "", 0, False, [], {})  # values for a property only another branch describes: null first


def apart(walker: Walker, value: Any, base: dict[str, Any], branch: Schema, alternatives: list[Schema],
          where: tuple[str, int, str]) -> Any:  # fmt: skip
    """`value`, drawn from `branch`, changed so that no other branch of the `oneOf` accepts it: a property another
    branch requires left out, a property of `branch` drawn again (or added) until the other refuses it, or null (else
    a value of another kind) for a property only the other describes. The value as it is when no other branch
    accepts it; `NOTHING` when no change sets it apart."""
    accepts = walker.generator.accepts
    others = [a for a in alternatives if a is not branch and accepts(a, value)]
    if not others:
        return value
    if not isinstance(value, dict) or not accepts(branch, value):
        return NOTHING
    own = walker.merge([base, branch])
    for other in others:
        if not accepts(other, value):
            continue  # set apart by an earlier change
        changes = islice(_changes(walker, value, base, own, walker.merge([other]), where), BUDGET)
        value = next((c for c in changes if _spend(walker) and accepts(branch, c) and not accepts(other, c)), NOTHING)
        if value is NOTHING:
            return NOTHING
    return value if sum(accepts(a, value) for a in alternatives) == 1 else NOTHING


def _changes(walker: Walker, value: dict[str, Any], base: dict[str, Any], own: dict[str, Any],
             other: dict[str, Any], where: tuple[str, int, str]) -> Iterator[dict[str, Any]]:  # fmt: skip
    name, depth, context = where
    mine, theirs = own.get("properties", {}), other.get("properties", {})
    for prop in other.get("required", []):  # a `required` only the other branch has
        if prop in value and prop not in own.get("required", []):
            yield {k: v for k, v in value.items() if k != prop}
    for prop, sub in mine.items():  # a value (an `enum`, a `const`, a type) or a property the other refuses
        if (
            sub is False
            or theirs.get(prop) == sub
            or (prop not in theirs and other.get("additionalProperties") is not False)
        ):
            continue
        for _ in range(2):
            if walker.spent >= DRAW_BUDGET:
                return
            try:
                yield {**value, prop: walker.walk(sub, prop, depth + 1, context or name)}
            except GenerationError:
                break
    if base.get("additionalProperties") is False or {"patternProperties", "propertyNames"} & base.keys():
        return
    for prop in theirs:  # a property only the other branch describes
        if prop not in mine:
            yield from ({**value, prop: odd} for odd in _ODD)


def _spend(walker: Walker) -> bool:
    walker.spent += 1
    return walker.spent <= DRAW_BUDGET
