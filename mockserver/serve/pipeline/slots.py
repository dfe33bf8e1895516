"""Generated JSON bodies as bytes, once per pool slot, with echoed path parameters spliced into the bytes: the one path
from a generated decision to its answer (`Plan.answer`), for `Producer.produce` and for the core's recipes alike.

Rules: an echo is decided exactly as `Producer._echo` decides it (the same validators); where only the whole body can
decide, the producer's slow path does."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from ...contract.schemas import Schema
from ...contract.spec import Response
from . import negotiation
from .answer import Answer
from .negotiation import Decision

if TYPE_CHECKING:
    from .producer import Producer

WHOLE = object()  # an echo check's verdict: only the whole body can tell
_NO_QUERY: dict[str, list[str]] = {}  # shared, never written
_new = tuple.__new__


@dataclass
class Plan:
    """A generated answer's shared facts: the data's pool key, the response, the body's schema (response view)."""

    producer: Producer
    operation: str  # its key
    key: str
    status: str  # the response key as decided ("404" where the contract says 4XX)
    response: Response | None
    schema: Schema | None
    json: bool  # a JSON body: made once per slot as bytes, path parameters spliced in
    slots: list[SlotBody | None]

    def answer(self, decision: Decision, slot: int, coerced: dict[str, Any]) -> Answer:
        """The generated answer of `decision` at `slot` (a JSON body: bytes per slot, path parameters spliced in);
        `Producer.produce`'s path, and the recipes' for a decision `Producer.prepared` accepted."""
        body = self.slots[slot] if slot < len(self.slots) else None
        if body is None:
            body = self.producer._slot_body(self, slot)
        if body is not None:
            data = body.data if not coerced else body.echoed(coerced)
            if data is not None:  # an Answer without the named tuple's own __new__ (a Python function)
                return _new(Answer, (decision.status, data, decision.source, decision.media, body.headers, None, None))
        if slot != decision.slot:
            decision = negotiation.with_slot(decision, slot)
        return self.producer._generated_value(decision, self, coerced, _NO_QUERY)


_SENTINEL = f"mockserver-echo-{os.urandom(8).hex()}-"  # a string no generated value holds


class SlotBody:
    """One pool slot's JSON body as bytes, and the same body cut where echoed path parameters go: an echo is then
    the parameter's JSON between byte strings, decided exactly as `Producer._echo` decides it."""

    __slots__ = ("producer", "plan", "slot", "value", "data", "headers", "_cuts")

    def __init__(self, producer: Producer, plan: Plan, slot: int, value: Any, data: bytes,
                 headers: tuple[tuple[str, str], ...]) -> None:  # fmt: skip
        self.producer, self.plan, self.slot, self.value, self.data, self.headers = (
            producer, plan, slot, value, data, headers
        )  # fmt: skip
        self._cuts: dict[tuple[str, ...], _Cut | None] = {}

    def echoed(self, coerced: dict[str, Any]) -> bytes | None:
        """The body with `coerced` echoed into same-named fields; None when only the whole body can decide."""
        value = self.value
        if type(value) is not dict:
            return self.data
        if len(coerced) == 1:  # one path parameter, the usual case: the loop below without the loop
            for name, new in coerced.items():
                if name not in value or value[name] == new:
                    return self.data
                one = (name,)
                cut = self._cuts[one] if one in self._cuts else self._cut(one)
                if cut is None:
                    return None
                check = cut.checks[0]
                if not (type(new) is str if check is ANY_STRING else check.is_valid(new)):
                    return self.data
                try:
                    return cut.pieces[0] + orjson.dumps(new) + cut.pieces[1]
                except TypeError:
                    return None
        names = tuple(k for k in coerced if k in value)
        if not names:
            return self.data
        cut = self._cuts[names] if names in self._cuts else self._cut(names)
        if cut is None:
            return None
        out = [cut.pieces[0]]
        changed = False
        for i, name in enumerate(names):
            new, old = coerced[name], value[name]
            if old == new:  # `_echo` leaves an equal value as it was (1 stays 1 for a 1.0, True for a 1)
                out.append(cut.originals[i])
            elif cut.checks[i].is_valid(new):
                try:
                    out.append(orjson.dumps(new))
                except TypeError:
                    return None
                changed = True
            else:
                return self.data  # one echo not valid: none at all, as `_echo`
            out.append(cut.pieces[i + 1])
        return b"".join(out) if changed else self.data

    def _cut(self, names: tuple[str, ...]) -> _Cut | None:
        producer, plan, value = self.producer, self.plan, self.value
        checks = []
        for name in names:
            check = producer._echo_check(plan.key, plan.schema, self.slot, value, name)
            if check is WHOLE:
                found = None
                break
            checks.append(check)
        else:
            marked = dict(value)
            for i, name in enumerate(names):
                marked[name] = f"{_SENTINEL}{i}"
            rest = orjson.dumps(marked)
            pieces = []
            for i in range(len(names)):
                mark = orjson.dumps(f"{_SENTINEL}{i}")
                head, hit, rest = rest.partition(mark)
                if not hit or mark in rest:
                    break
                pieces.append(head)
            pieces.append(rest)
            found = (
                _Cut(pieces, [orjson.dumps(value[n]) for n in names], checks) if len(pieces) == len(names) + 1 else None
            )
        if len(self._cuts) < 16:  # path parameter names: one set per operation in practice
            self._cuts[names] = found
        return found


class _Cut(NamedTuple):
    pieces: list[bytes]  # the body around the echoed values
    originals: list[bytes]  # each echoed field's own value, as JSON
    checks: list[Any]  # each field's validator (`_AnyString` for a bare string)


class _AnyString:
    """The validator of a bare `{type: string}` property: any string, and nothing else, without a call into Rust."""

    @staticmethod
    def is_valid(value: Any) -> bool:
        return type(value) is str


ANY_STRING = _AnyString()


SLOT_BYTES = 4096  # a body kept as bytes per pool slot at most this long (a readable one is about 500 B); the
# long ones (--edge-cases makes some of 10+ KB) are serialized per request instead of doubling their memory
