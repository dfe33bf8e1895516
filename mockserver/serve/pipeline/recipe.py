"""A recipe: how a generated answer was reached for one request shape and operation, so that another path of that
shape, routed there, costs only what depends on the path (core.py learns recipes; `Mock.handle` asks them first).

Rules: a recipe holds only what cannot differ between paths of its shape (security, validation, preferences and
negotiation were passed with them); a fixture that may match, or a bad percent-escape, gives the request back to the
whole pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...contract.spec import Operation
from ..data.generation import path_slots
from . import negotiation
from .fixture import FixtureIndex
from .producer import Producer
from .request import Outcome
from .validation import RequestValidator

if TYPE_CHECKING:
    from .core import Mock

_PER_SHAPE = negotiation.PER_SHAPE
_tuple_new = tuple.__new__  # a named tuple without its keyword handling: the recipe's answer is the hot path


RECIPES = 256  # (request shape, operation) pairs remembered (`Recipe`): a client sends a few shapes


class Recipe:
    """How a generated answer was reached for one request shape (method, query, headers) and operation: another
    path of that shape routed to that operation is looked up in the fixtures, given its pool slot and produced,
    skipping what cannot differ (security, validation, preferences, negotiation). A fixture that matches or a bad
    percent-escape goes through the whole pipeline."""

    __slots__ = ("op", "decision", "query", "secrets", "note", "fixtures", "per_request", "validator", "plan",
                 "slot", "one_name")  # fmt: skip

    def __init__(self, op: Operation, decision: negotiation.Decision, query: dict[str, list[str]],
                 secrets: tuple[str, ...], note: str, fixtures: FixtureIndex | None, per_request: bool,
                 validator: RequestValidator, producer: Producer, method: str, seed: int) -> None:  # fmt: skip
        self.op, self.decision, self.query, self.secrets, self.note = op, decision, query, secrets, note
        self.fixtures = fixtures if fixtures is not None and (fixtures.by_path or fixtures.others) else None
        # one path parameter names the fixtures (the usual case): a path that is no fixture's is told by one lookup
        self.one_name = fixtures.path_names[0] if fixtures is not None and len(fixtures.path_names) == 1 else None
        self.per_request, self.validator = per_request, validator
        self.plan = producer.prepared(op, decision, query)
        # the pool slot of a path of this shape, as `Mock._slot` gives it, with the shape's part worked out once
        self.slot = path_slots(seed, method, sorted((k, v) for k, vs in query.items() for v in vs) if query else [])

    def answer(self, mock: Mock, raw_path: bytes, headers: dict[str, str], params: dict[str, str],
               bad: list[str]) -> Outcome | None:  # fmt: skip
        """The outcome for a request of this shape routed to this operation; None: the whole pipeline decides."""
        op = self.op
        if bad:
            return None
        fixtures = self.fixtures
        if fixtures is not None and (self.one_name is None or fixtures.others
                                     or (params.get(self.one_name, ""),) in fixtures.by_path):  # fmt: skip
            if fixtures.find(params, self.query, headers) is not None:
                return None
        coerced = params if self.validator.path_strings else self.validator.coerce_path(params)
        decision, plan = self.decision, self.plan
        slot = self.slot(raw_path) if self.per_request else decision.slot
        if plan is not None:  # the producer's work that does not depend on the slot, done once
            answer = plan.answer(decision, slot, coerced)
        else:
            answer = mock.producer.produce(op, negotiation.with_slot(decision, slot), coerced, self.query)
        return _tuple_new(Outcome, (answer, op.key, self.secrets, self.note, "", "", _PER_SHAPE, ()))
