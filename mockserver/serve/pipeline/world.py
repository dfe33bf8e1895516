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
from typing import Any

from ...contract.spec import Operation, Spec
from .collection import Collection, json_schema, walk_objects, without_null
from .effects import PENDING, render, schedule
from .fixtures import Fixture
from .negotiation import Facts

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
