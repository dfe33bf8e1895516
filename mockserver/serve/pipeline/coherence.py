"""One world without --stateful: the same id is the same entity in every answer. A collection's generated list
holds each item as `GET /things/{id}` answers it (field by field, fixtures included), and a generated item is shaped
the same way wherever it appears:

- a `url`/`href`/`self` field (a string without `format: uri`) points at the item on the mock itself, relative
  (`/things/{id}`), as servers that publish their own paths do: a frontend then calls the mock, not a foreign host;
- a nullable field named like a credential (`session_api_key`, `token`) is null: a mock hands out no secrets;
- where the item's fixtures exist, the enum fields that describe its state (`status`, `runtime_status`) are taken
  together from one of them (chosen by the id), so a generated item never shows a pair no fixture shows.

Rules: only generated answers are reshaped, and a reshaped answer is kept only when it is still valid against the
response view of its schema; anything else is answered as generated. Decided per request (never per shape).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson

from ...contract.media import is_json
from ...contract.schemas import ANSWER, accepts_null
from ...contract.spec import Spec
from ...contract.verdicts import secret_name
from ..data.encoding import encode
from ..data.generation import slot_of
from . import negotiation
from .answer import Answer
from .collection import LIST, READ, Collection, infer, json_schema, seedable, without_null
from .negotiation import Facts
from .preferences import NONE as NO_PREFERENCES

SELF_NAMES = frozenset({"url", "href", "self"})
CACHE = 4096  # entities remembered (an id is any string a client sends: bounded)


class Coherence:
    def __init__(self, spec: Spec, facts: dict[str, Facts], producer: Any, validators: Mapping[str, Any],
                 seed: int) -> None:  # fmt: skip
        self.spec = spec
        self.facts = facts
        self.producer = producer
        self.validators = validators
        self.seed = seed
        self.roles: dict[str, tuple[Collection, str]] = {}
        for c in infer(spec):
            for key, role in c.operations.items():
                if role in (LIST, READ) and key.startswith("GET "):
                    self.roles[key] = (c, role)
        self._checks: dict[str, Any] = {}
        self._states: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
        self._entities: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def applies(self, key: str) -> bool:
        return key in self.roles

    def apply(self, key: str, answer: Answer, params: dict[str, str]) -> Answer:
        c, role = self.roles[key]
        if not 200 <= answer.status < 300 or not answer.media or not is_json(answer.media):
            return answer
        try:
            value = orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            return answer
        if role == READ:
            shaped = self._shape(c, params.get(c.id_param, ""), value)
        else:
            shaped = self._list(c, value)
        if shaped is value or shaped == value or not self._valid(key, str(answer.status), shaped):
            return answer
        return answer._replace(body=encode(shaped, answer.media))

    # --- items ---------------------------------------------------------------------------------------------------

    def _list(self, c: Collection, value: Any) -> Any:
        items, put = _items(value, c, self.spec)
        if items is None or c.id_field is None:
            return value
        check = self._check(f"{c.read.key}|item", c.item_schema)
        changed = []
        for item in items:
            entity = self.entity(c, item.get(c.id_field)) if isinstance(item, dict) else None
            changed.append(entity if entity is not None and check.is_valid(entity) else item)
        return put(changed)

    def entity(self, c: Collection, item_id: Any) -> Any:
        """The item `GET /things/{id}` answers (no preferences, no credentials needed), shaped."""
        if not isinstance(item_id, (str, int)) or isinstance(item_id, bool):
            return None
        key = (c.name, str(item_id))
        if key in self._entities:
            return self._entities[key]
        raw = str(item_id)
        facts = self.facts[c.read.key]
        path = (self.spec.prefix + c.read.path.replace("{" + c.id_param + "}", quote(raw, safe=""))).encode()
        decision = negotiation.negotiate(facts, NO_PREFERENCES, {c.id_param: raw}, {}, {},
                                         lambda: slot_of(self.seed, "GET", path, []))  # fmt: skip
        found: Any = None
        if decision.kind in (negotiation.GENERATE, negotiation.FIXTURE, negotiation.EXAMPLE):
            coerced = self.validators[c.read.key].coerce_path({c.id_param: raw})
            answer = self.producer.produce(c.read, decision, coerced if decision.kind != negotiation.FIXTURE else {})
            if 200 <= answer.status < 300 and answer.media and is_json(answer.media):
                found = orjson.loads(answer.body)
                if decision.kind == negotiation.GENERATE:
                    found = self._shape(c, raw, found)
        self._entities[key] = found
        if len(self._entities) > CACHE:
            self._entities.popitem(last=False)
        return found

    def _shape(self, c: Collection, item_id: str, value: Any) -> Any:
        if not isinstance(value, dict) or not item_id:
            return value
        shaped = dict(value)
        here = self.spec.prefix + c.read.path.replace("{" + c.id_param + "}", quote(item_id, safe=""))
        properties = self.spec.schemas.properties(c.item_schema)
        for name in SELF_NAMES & shaped.keys():
            if _relative_ok(properties.get(name), self.spec):
                shaped[name] = here
        for name, sub in properties.items():  # a mock hands out no credentials: null where the schema allows it
            if (
                name in shaped
                and shaped[name] is not None
                and secret_name(name)
                and accepts_null(sub, self.spec.schemas)
            ):
                shaped[name] = None
        names, states = self._state_model(c)
        if states:
            digest = hashlib.blake2b(item_id.encode(), digest_size=4).digest()
            chosen = states[int.from_bytes(digest, "big") % len(states)]
            for name in names:
                if name in chosen:
                    shaped[name] = chosen[name]
                else:
                    shaped.pop(name, None)
        return shaped

    def _state_model(self, c: Collection) -> tuple[list[str], list[dict[str, Any]]]:
        """The enum fields of the item, and their combinations in the item's fixtures (distinct, in file order)."""
        found = self._states.get(c.name)
        if found is None:
            properties = self.spec.schemas.properties(c.item_schema)
            names = [n for n, sub in properties.items() if _enum(sub, self.spec)]
            combos: list[dict[str, Any]] = []
            for fixture in self.facts[c.read.key].fixtures.by_name.values():
                if seedable(fixture, c):
                    combo = {n: fixture.body[n] for n in names if n in fixture.body}
                    if combo and combo not in combos:
                        combos.append(combo)
            found = self._states[c.name] = (names, combos)
        return found

    def _valid(self, key: str, status: str, value: Any) -> bool:
        op = self.facts[key].operation
        schema = json_schema(op, status)
        if schema is None:
            return False
        view = self.spec.schemas.view(schema, ANSWER, f"{key} {status}")
        return bool(self._check(f"{key}|{status}", view).is_valid(value))

    def _check(self, key: str, schema: Any) -> Any:
        found = self._checks.get(key)
        if found is None:
            found = self._checks[key] = self.spec.schemas.validator(schema)
        return found


def _items(value: Any, c: Collection, spec: Spec) -> tuple[list[Any] | None, Any]:
    """The items of a list answer (bare, or the one array of a wrapper object) and how to put new ones back."""
    if isinstance(value, list):
        return value, lambda items: items
    if isinstance(value, dict):
        arrays = [k for k, v in value.items() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
        if len(arrays) == 1:
            name = arrays[0]
            return value[name], lambda items: {**value, name: items}
    return None, None


def _relative_ok(schema: Any, spec: Spec) -> bool:
    if schema is None:
        return False
    resolved = without_null(schema, spec.schemas)
    return isinstance(resolved, dict) and resolved.get("type") in ("string", None) and "format" not in resolved \
        and "pattern" not in resolved and "enum" not in resolved  # fmt: skip


def _enum(schema: Any, spec: Spec) -> bool:
    resolved = without_null(schema, spec.schemas)
    return isinstance(resolved, dict) and isinstance(resolved.get("enum"), list)
