"""`--stateful` beyond collections: singleton resources and the effects fixtures declare.

A singleton is a path without an id whose GET answers what the last POST/PUT/PATCH on the same path stored
(`/settings`): what was sent (the fields the GET's schema knows) on top of what the GET answered before (its fixture,
else generated data), kept only when valid; until something is stored, the GET answers as without `--stateful`.

An action is an operation under a collection's item path (`POST /things/{id}/start`) with a fixture that has a
`state:` section (pipeline/effects.py): the fixture answers, and its fields are set on the item, now and later.
Creating an item (`POST /things`) applies the `state:` of the create fixture to the new item the same way.

Rules: values live in the store (replicas agree): a singleton under `<path>#singleton`, an item's steps to come under
`<collection>#pending`. Every change is checked against the item's (or singleton's) schema field by field: a field
that would break it is left as it was, so an answer is always valid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ...contract.spec import Operation, Spec
from ..data.generation import GenerationError
from . import negotiation
from .collection import Collection, json_schema, walk_objects, without_null
from .effects import PENDING, render, schedule
from .fixture import Fixture
from .negotiation import Decision, Facts

if TYPE_CHECKING:
    from .stateful import Stateful

SINGLETON = "#singleton"
VALUE = "value"
WRITES = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class Singleton:
    """Read like a Collection of one item (the same `view`, `_fit` and validation apply)."""

    name: str  # the path, "/api/settings"
    read: Operation  # GET /settings
    item_schema: Any  # its success schema, without a null branch
    item_key: str
    properties: frozenset[str]
    write_only: frozenset[str]
    id_field: None = None

    @property
    def store_key(self) -> str:
        return self.name + SINGLETON


def infer_singletons(spec: Spec, collections: list[Collection]) -> dict[str, Singleton]:
    """Operation key -> singleton, for the GET and each write of every path without a template in its last
    segment that is not a collection, whose GET answers an object."""
    taken = {c.name for c in collections}
    by_path: dict[str, dict[str, Operation]] = {}
    for op in spec.operations:
        by_path.setdefault(op.path, {})[op.method] = op
    found: dict[str, Singleton] = {}
    for path, methods in by_path.items():
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if "GET" not in methods or last.startswith("{") or path in taken:
            continue
        writes = [methods[m] for m in WRITES if m in methods]
        if not writes:
            continue
        schema = json_schema(methods["GET"], _success(methods["GET"]))
        item = without_null(schema, spec.schemas) if schema is not None else None
        objects = walk_objects(item, spec.schemas) if item is not None else []
        if not any(o.get("type") == "object" or "properties" in o for o in objects):
            continue
        properties = {name: sub for o in objects for name, sub in (o.get("properties") or {}).items()}
        if not properties:  # a free-form object: nothing to say which posted fields it would keep
            continue
        write_only = frozenset(n for n, sub in properties.items() if spec.schemas.write_only(sub))
        singleton = Singleton(path, methods["GET"], item, f"{methods['GET'].key}|singleton", frozenset(properties),
                              write_only)  # fmt: skip
        for op in (methods["GET"], *writes):
            found[op.key] = singleton
    return found


def _success(op: Operation) -> str | None:
    return next((s for s in op.responses if s.startswith("2")), None)


def action_of(op: Operation, facts: Facts, collections: list[Collection]) -> Collection | None:
    """The collection whose items an operation acts on: its path extends the collection's item path and one of its
    fixtures has a `state:` section."""
    if not any(f.effect is not None for f in facts.fixtures.by_name.values()):
        return None
    for c in collections:
        if op.path.startswith(c.read.path + "/") and op.key not in c.operations:
            return c
    return None


class Effects:
    """Applies fixtures' `state:` sections to items and plays their later steps when the items are read."""

    def __init__(self, store: Any, limit: int, fit: Callable[[Collection, dict[str, Any], dict[str, Any]], Any],
                 fixture_of: Callable[[str, str], Fixture | None]) -> None:  # fmt: skip
        self.store = store
        self.limit = limit
        self.fit = fit  # (collection, item, fields) -> the item with each field that keeps it valid
        self.fixture_of = fixture_of  # (operation key, fixture name) -> the fixture

    def apply(self, c: Collection, item_id: str, item: dict[str, Any], op_key: str, fixture: Fixture,
              scope: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        effect = fixture.effect
        assert effect is not None
        moment = time.time()
        scope = {**scope, "item": item}
        updated = self.fit(c, dict(item), render(effect.now, scope, moment)) if effect.now is not None else item
        self.store.put(c.name, item_id, updated, self.limit)
        if effect.then:
            pending = {"id": item_id, "op": op_key, "fixture": fixture.name, "scope": scope,
                       "steps": schedule(effect, scope, moment)}  # fmt: skip
            self.store.put(c.name + PENDING, item_id, pending, self.limit)
        else:  # a later action replaces what an earlier one left to come
            self.store.delete(c.name + PENDING, item_id)
        return updated

    def advance(self, c: Collection, item_id: str | None = None) -> None:
        """Play the steps that are due, for one item or for every item of the collection."""
        if item_id is not None:
            pending = self.store.get(c.name + PENDING, item_id)
            waiting = [pending] if pending is not None else []
        else:
            waiting = self.store.items(c.name + PENDING)
        now = time.time()
        for pending in waiting:
            steps = pending.get("steps") or []
            due = [s for s in steps if s["due"] <= now]
            if not due:
                continue
            key = str(pending["id"])
            item = self.store.get(c.name, key)
            fixture = self.fixture_of(pending["op"], pending["fixture"])
            if item is None or fixture is None or fixture.effect is None:
                self.store.delete(c.name + PENDING, key)
                continue
            for step in due:
                if step["step"] < len(fixture.effect.then):
                    values = render(fixture.effect.then[step["step"]].values, {**pending["scope"], "item": item},
                                    step["due"])  # fmt: skip
                    item = self.fit(c, item, values)
            self.store.put(c.name, key, item, self.limit)
            rest = [s for s in steps if s["due"] > now]
            if rest:
                self.store.put(c.name + PENDING, key, {**pending, "steps": rest}, self.limit)
            else:
                self.store.delete(c.name + PENDING, key)


# --- answers (Stateful.handle hands these roles over) -----------------------------------------------------


def singleton(st: Stateful, s: Singleton, facts: Facts, body: bytes, accept: str | None) -> Decision | None:
    stored = st.store.get(s.store_key, VALUE)
    op = facts.operation
    if op.method == "GET":
        status = facts.default_status
        schema = st._response_schema(op, status)
        if stored is None or status is None or schema is None:
            return None
        value = st.view(s, stored)  # type: ignore[arg-type]
        return st._answer(facts, value, f"{s.name}: as stored", accept) if st._valid(
            op, status, schema, value) else None  # fmt: skip
    base = stored if stored is not None else _singleton_base(st, s)
    st.store.put(s.store_key, VALUE, st._fit(s, dict(base), parse_object(body)), 1)  # type: ignore[arg-type]
    return None


def _singleton_base(st: Stateful, s: Singleton) -> dict[str, Any]:
    """What the singleton's GET answers before anything is stored: its fixture, else generated data."""
    facts = st.facts[s.read.key]
    fixture = facts.fixtures.find({}, {}, {})
    if fixture is not None and 200 <= fixture.status < 300 and isinstance(fixture.body, dict):
        return dict(fixture.body)
    try:
        value = st.generator.value(s.item_key, s.item_schema, 0)
    except GenerationError:
        return {}
    return dict(value) if isinstance(value, dict) else {}


def action(st: Stateful, c: Collection, facts: Facts, params: dict[str, str], query: dict[str, list[str]],
           headers: dict[str, str], body: bytes) -> Decision | None:  # fmt: skip
    fixture = facts.fixtures.find(params, query, headers)
    if fixture is None or fixture.effect is None:
        return None
    item_id = st._id(c, params.get(c.id_param, ""))
    st.effects.advance(c, item_id)
    item = st.store.get(c.name, item_id)
    if item is not None:
        st.effects.apply(c, item_id, item, facts.operation.key, fixture,
                         {"path": params, "query": first(query), "body": parse_object(body)})  # fmt: skip
    return negotiation.from_fixture(fixture)._replace(reuse=negotiation.NEVER)


def first(query: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in query.items() if v}


def parse_object(body: bytes) -> dict[str, Any]:
    """A request body as the JSON object it should be; {} for anything else."""
    if not body:
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
