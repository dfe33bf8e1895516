"""`--stateful`: collections inferred from the contract. POST on `/things` creates what `GET /things/{id}` returns and
`GET /things` lists; PUT/PATCH on `/things/{id}` update, DELETE removes (then the contract's not-found answer).

Rules: a collection is a templated item path `/things/{id}` with a GET and at least one more of POST `/things`,
GET `/things`, PUT/PATCH/DELETE `/things/{id}`; its item schema is the GET's success schema without its null branch.
Items start as the fixtures of that GET (single 2xx object answers matched on the id alone) and live in the store
(serve/store.py), at most `--state-size` per collection, oldest out. New ids are a function of the seed and a
counter, so a replayed session gets the same ids. What is stored is what was sent (fields the item schema knows),
on top of a generated item valid against the schema; what is answered leaves out writeOnly properties (including
`anyOf: [{writeOnly: true}, null]`, FastAPI's `SecretStr | None`; `SchemaSet.write_only` decides, as the response
view does) and is checked against the contract, falling back to generated data, so every body stays valid.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson

from ...contract.schemas import ANSWER, accepts_null
from ...contract.spec import Operation, Spec
from ..data import realism
from ..data.generation import POOL, GenerationError, Generator
from ..store import Store
from . import negotiation, problems, world
from .collection import (
    CREATE,
    LIST,
    READ,
    REMOVE,
    Collection,
    array_of,
    infer,
    json_schema,
    seedable,
    walk_objects,
    without_null,
)  # fmt: skip
from .negotiation import Decision, Facts
from .validation import compile_schema
from .world import Effects, action_of, infer_singletons
from .world import first as _first
from .world import parse_object as _object

SINGLE, ACTION = "singleton", "action"

_NEXT = frozenset({"next", "cursor", "page"})  # words of nullable fields that point at more pages: null, it is whole


class Stateful:
    def __init__(self, spec: Spec, generator: Generator, facts: dict[str, Facts], store: Store, seed: int,
                 limit: int) -> None:  # fmt: skip
        self.spec = spec
        self.generator = generator
        self.facts = facts
        self.store = store
        self.seed_value = seed
        self.limit = limit
        self.collections = infer(spec)
        self.roles: dict[str, tuple[Any, str]] = {
            key: (c, role) for c in self.collections for key, role in c.operations.items()
        }
        self.singletons = infer_singletons(spec, self.collections)
        self.roles.update({key: (s, SINGLE) for key, s in self.singletons.items()})
        for op in spec.operations:
            acted_on = action_of(op, facts[op.key], self.collections) if op.key not in self.roles else None
            if acted_on is not None:
                self.roles[op.key] = (acted_on, ACTION)
        self.effects = Effects(store, limit, self._fit, lambda op, name: self.facts[op].fixtures.by_name.get(name))
        self._validators: dict[str, Any] = {}
        self._views: dict[tuple[str, str | None], Any] = {}
        self.seeds: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.seeded: dict[str, frozenset[str]] = {}  # read operation -> names of fixtures that became items
        for c in self.collections:
            items, names = [], set()
            index = facts[c.read.key].fixtures
            for fixture in index.by_name.values():
                if seedable(fixture, c):
                    items.append((fixture.path[c.id_param], fixture.body))
                    names.add(fixture.name)
            self.seeds[c.name] = items
            self.seeded[c.read.key] = frozenset(names)

    def seed(self) -> None:
        for c in self.collections:
            self.store.seed(c.name, self.seeds[c.name], self.limit)

    def role(self, op: Operation) -> tuple[Any, str] | None:
        return self.roles.get(op.key)

    def item(self, collection: str, item_id: str) -> dict[str, Any] | None:
        """An item as it is now (its due steps played), for whoever needs the world's state (the event streams)."""
        c = next((c for c in self.collections if c.name == collection), None)
        if c is None:
            return None
        self.effects.advance(c, item_id)
        return self.store.get(c.name, item_id)

    def listing(self, op: Operation, params: dict[str, str], query: dict[str, list[str]],
                headers: dict[str, str]) -> Decision | None:  # fmt: skip
        """Without --stateful: a collection's list made of its item fixtures (the list and each item's detail agree),
        when no fixture of the list answers the request."""
        found = self.roles.get(op.key)
        if found is None or found[1] != LIST or not self.seeds.get(found[0].name):
            return None
        facts = self.facts[op.key]
        if facts.fixtures.find(params, query, headers) is not None:
            return None
        return self._list(found[0], facts, query, headers.get("accept"))

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"collection": c.name, "item": c.read.key, "id": c.id_param, "operations": c.operations,
             "items": len(self.store.items(c.name))}
            for c in self.collections
        ]  # fmt: skip

    # --- answering ----------------------------------------------------------------------------------------------

    def handle(self, op: Operation, params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> Decision | None:  # fmt: skip
        """The answer from state, or None: answer as without --stateful (what a singleton's write or an action
        answers; a singleton nothing was stored in)."""
        collection, role = self.roles[op.key]
        facts = self.facts[op.key]
        accept = headers.get("accept")
        if role == SINGLE:
            return world.singleton(self, collection, facts, body, accept)
        if role == ACTION:
            return world.action(self, collection, facts, params, query, headers, body)
        if role == CREATE:
            return self._create(collection, facts, params, query, headers, body)
        if role == LIST:
            self.effects.advance(collection)
            return self._list(collection, facts, query, accept)
        item_id = self._id(collection, params.get(collection.id_param, ""))
        self.effects.advance(collection, item_id)
        item = self.store.get(collection.name, item_id)
        if role == READ:
            if item is not None:
                return self._answer(facts, self.view(collection, item), f"item {collection.name}/{item_id}", accept)
            fixture = facts.fixtures.find(params, query, headers, self.seeded.get(op.key, frozenset()))
            if fixture is not None:
                return negotiation.from_fixture(fixture)
            return self.not_found(facts, accept, f"no item {item_id!r} in {collection.name}")
        if item is None:
            return self.not_found(facts, accept, f"no item {item_id!r} in {collection.name}")
        if role == REMOVE:
            self.store.delete(collection.name, item_id)
            return self._acknowledge(facts, collection, item, accept, f"deleted {collection.name}/{item_id}")
        posted = _object(body)
        if op.method == "PATCH":
            updated = self._fit(collection, dict(item), posted)
        else:
            updated = self._build(collection, posted, item_id, 0)
        self.store.put(collection.name, item_id, updated, self.limit)
        return self._acknowledge(facts, collection, updated, accept, f"updated {collection.name}/{item_id}")

    def _create(self, c: Collection, facts: Facts, params: dict[str, str], query: dict[str, list[str]],
                headers: dict[str, str], body: bytes) -> Decision:  # fmt: skip
        number = self.store.next_number(c.name)
        item_id = self.new_id(c, number)
        for _ in range(100):  # a seeded item may hold the id this counter reached
            if self.store.get(c.name, item_id) is None:
                break
            number = self.store.next_number(c.name)
            item_id = self.new_id(c, number)
        posted = _object(body)
        item = self._build(c, posted, item_id, number)
        self.store.put(c.name, item_id, item, self.limit)
        fixture = facts.fixtures.find(params, query, headers)
        if fixture is not None and fixture.effect is not None:  # what a new item looks like, now and later
            item = self.effects.apply(c, item_id, item, facts.operation.key, fixture,
                                      {"path": params, "query": _first(query), "body": posted})  # fmt: skip
        note = f"created {c.name}/{item_id}"
        accept = headers.get("accept")
        status = facts.default_status
        schema = self._response_schema(facts.operation, status)
        if status is None or schema is None:
            return self._empty(facts, status, note)
        typed = int(item_id) if c.id_integer else item_id
        if fixture is not None and isinstance(fixture.body, dict) and not fixture.sequence:
            candidate = self._echo(fixture.body, c, typed)
            if self._valid(facts.operation, status, schema, candidate):
                return self._answer(facts, candidate, note + f" (answer shaped by fixture {fixture.name})", accept)
        view = self.view(c, item)
        if self._valid(facts.operation, status, schema, view):
            return self._answer(facts, view, note, accept)
        try:
            generated = self.generator.value(f"{facts.operation.key}|{status}|state", schema, number % POOL)
        except GenerationError:
            return negotiation.generated(facts, status, accept, 0, source=negotiation.FROM_STATE)
        candidate = self._echo(generated, c, typed) if isinstance(generated, dict) else generated
        if not self._valid(facts.operation, status, schema, candidate):
            candidate = generated
        return self._answer(facts, candidate, note, accept)

    def _list(self, c: Collection, facts: Facts, query: dict[str, list[str]], accept: str | None) -> Decision:
        op = facts.operation
        status = facts.default_status
        schema = self._response_schema(op, status)
        if status is None or schema is None:
            return self._empty(facts, status, f"{c.name}: no list schema")
        items = [self.view(c, item) for item in reversed(self.store.items(c.name))]  # newest first
        size = realism.page_size(query)  # limit, per_page, page_size ... as generated lists honour them
        if size is not None:
            items = items[:size]
        shape = without_null(schema, self.spec.schemas)
        note = f"{c.name}: {len(items)} item" + ("" if len(items) == 1 else "s")
        if isinstance(shape, dict) and (shape.get("type") == "array" or "items" in shape):
            value: Any = self._fit_list(shape, items)
        else:
            value = self._wrap(op, status, shape, items)
        if value is None or not self._valid(op, status, schema, value):
            return negotiation.generated(facts, status, accept, 0, source=negotiation.FROM_STATE)
        return self._answer(facts, value, note, accept)

    def _wrap(self, op: Operation, status: str, shape: Any, items: list[dict[str, Any]]) -> Any:
        """A wrapper object ({"results": [...], "next_page_id": null}) around the items: a generated one with its
        array property replaced, more-pages pointers null and counts counted."""
        objects = walk_objects(shape, self.spec.schemas)
        properties = {name: sub for o in objects for name, sub in (o.get("properties") or {}).items()}
        arrays = [n for n, sub in properties.items() if array_of(sub, self.spec.schemas) is not None]
        if len(arrays) != 1:
            return None
        try:
            base = self.generator.value(f"{op.key}|{status}|state-list", shape, 0)
        except GenerationError:
            return None
        if not isinstance(base, dict):
            return None
        value = dict(base)
        value[arrays[0]] = self._fit_list(array_of(properties[arrays[0]], self.spec.schemas), items)
        for name, sub in properties.items():
            if name != arrays[0] and _NEXT & set(realism.words(name)) and accepts_null(sub, self.spec.schemas):
                value[name] = None
        realism.coherent_counts(value, lambda name, n: True)  # `total`-like fields: the list's length (checked after)
        return value

    def _fit_list(self, shape: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        resolved = self.spec.schemas.resolve(shape)
        item_schema = resolved.get("items", True) if isinstance(resolved, dict) else True
        check = self._validator(f"list-item|{orjson.dumps(item_schema, option=orjson.OPT_SORT_KEYS)!r}", item_schema)
        kept = [item for item in items if check.is_valid(item)]
        maximum = resolved.get("maxItems") if isinstance(resolved, dict) else None
        return kept[:maximum] if isinstance(maximum, int) else kept

    # --- items --------------------------------------------------------------------------------------------------

    def new_id(self, c: Collection, number: int) -> str:
        """The id of the `number`-th item created in a collection: a function of the seed and the counter."""
        if c.id_integer:
            return str(number)
        digest = hashlib.blake2b(f"{self.seed_value}\x1f{c.name}\x1f{number}".encode(), digest_size=16).digest()
        resolved = self.spec.schemas.resolve(c.id_schema)
        if isinstance(resolved, dict) and resolved.get("format") == "uuid":
            candidate = str(uuid.UUID(bytes=digest, version=4))
        else:
            candidate = digest.hex()  # 32 hex digits, as uuid4().hex ids look
        if self._validator(f"{c.read.key}|id", c.id_schema).is_valid(candidate):
            return candidate
        try:
            return str(self.generator.value(f"{c.read.key}|id", c.id_schema, number % POOL))
        except GenerationError:
            return candidate

    def view(self, c: Collection, item: dict[str, Any]) -> dict[str, Any]:
        """An item as answered: without its writeOnly properties."""
        if not c.write_only or not c.write_only & item.keys():
            return item
        return {k: v for k, v in item.items() if k not in c.write_only}

    def _build(self, c: Collection, posted: dict[str, Any], item_id: str, number: int) -> dict[str, Any]:
        """A new item: what was sent (fields the item knows) on a generated item, the id in its field; valid."""
        typed: Any = int(item_id) if c.id_integer else item_id
        fallback: dict[str, Any] | None = None
        for attempt in range(8):  # another generated base when one does not fit what was sent (a oneOf branch)
            try:
                base = self.generator.value(c.item_key, c.item_schema, (number + attempt) % POOL)
            except GenerationError:
                break
            if not isinstance(base, dict):
                continue
            base = {**base, c.id_field: typed} if c.id_field else dict(base)
            if not self._item_valid(c, base):
                continue
            fitted = self._fit(c, base, posted)
            if all(fitted.get(k) == v for k, v in posted.items() if k in c.properties and k != c.id_field):
                return fitted
            fallback = fallback or fitted
        return fallback or ({c.id_field: typed} if c.id_field else {})

    def _fit(self, c: Collection, item: dict[str, Any], posted: dict[str, Any]) -> dict[str, Any]:
        """`item` with the posted fields it knows, all of them when the result is valid, else each one that fits."""
        known = {k: v for k, v in posted.items() if k in c.properties and k != c.id_field}
        merged = {**item, **known}
        if self._item_valid(c, merged):
            return merged
        for name, value in known.items():
            trial = {**item, name: value}
            if self._item_valid(c, trial):
                item = trial
        return item

    def _item_valid(self, c: Collection, item: dict[str, Any]) -> bool:
        return bool(self._validator(c.item_key, c.item_schema).is_valid(item))

    def _id(self, c: Collection, raw: str) -> str:
        if c.id_integer:
            try:
                return str(int(raw))
            except ValueError:
                return raw
        return raw

    @staticmethod
    def _echo(body: dict[str, Any], c: Collection, typed: Any) -> dict[str, Any]:
        names = [n for n in (c.id_field, c.id_param, "id") if n and n in body]
        return {**body, **{n: typed for n in names}} if names else body

    # --- answers ------------------------------------------------------------------------------------------------

    def _answer(self, facts: Facts, value: Any, note: str, accept: str | None) -> Decision:
        op = facts.operation
        status = facts.default_status or "200"
        response = negotiation.response_of(op, status)
        media = negotiation.choose_media(response, accept) if response is not None else None
        return Decision(
            negotiation.STATE, negotiation.numeric(status), negotiation.FROM_STATE, status, media, value=value,
            note=note,
        )  # fmt: skip

    def _empty(self, facts: Facts, status: str | None, note: str) -> Decision:
        code = negotiation.numeric(status) if status else 204
        return Decision(negotiation.EMPTY, code, negotiation.FROM_STATE, status, note=note)

    def _acknowledge(self, facts: Facts, c: Collection, item: dict[str, Any], accept: str | None,
                     note: str) -> Decision:  # fmt: skip
        """A successful update or delete: the item when the schema takes it, else `true`, else generated."""
        op = facts.operation
        status = facts.default_status
        schema = self._response_schema(op, status)
        if status is None or schema is None:
            return self._empty(facts, status, note)
        for value in (self.view(c, item), True):
            if self._valid(op, status, schema, value):
                return self._answer(facts, value, note, accept)
        return negotiation.generated(facts, status, accept, 0, source=negotiation.FROM_STATE)._replace(note=note)

    def not_found(self, facts: Facts, accept: str | None, note: str) -> Decision:
        """The contract's answer for a missing item: its 404, else a null success, else `false`, else (DELETE, PUT,
        PATCH) its plain success, else the mock's own 404: an undocumented status only when nothing else fits."""
        op = facts.operation
        if op.response_for(404) is not None and op.response_for(404) is not op.responses.get("default"):
            return negotiation.generated(facts, "404", accept, 0, source=negotiation.FROM_STATE)._replace(note=note)
        status = facts.default_status
        schema = self._response_schema(op, status) if status else None
        if status is not None and schema is not None:
            response = negotiation.response_of(op, status)
            media = negotiation.choose_media(response, accept) if response is not None else None
            if accepts_null(schema, self.spec.schemas):
                return Decision(negotiation.NULL, negotiation.numeric(status), negotiation.FROM_STATE, status, media,
                                note=note)  # fmt: skip
            if self._valid(op, status, schema, False):
                return self._answer(facts, False, note, accept)
        if op.method != "GET" and status is not None:  # an idempotent DELETE/PUT/PATCH: its documented success
            if schema is None:
                return self._empty(facts, status, note)
            return negotiation.generated(facts, status, accept, 0, source=negotiation.FROM_STATE)._replace(note=note)
        return negotiation.problem(problems.NO_ITEM, note)._replace(source=negotiation.FROM_STATE)

    def _response_schema(self, op: Operation, status: str | None) -> Any:
        """The response view of a status' JSON schema (no writeOnly property), as every other answer is made and
        checked; worked out once per operation and status."""
        key = (op.key, status)
        if key not in self._views:
            schema = json_schema(op, status)
            where = f"{op.key} {status}"
            self._views[key] = None if schema is None else self.spec.schemas.view(schema, ANSWER, where)
        return self._views[key]

    def _valid(self, op: Operation, status: str, schema: Any, value: Any) -> bool:
        return bool(self._validator(f"{op.key}|{status}|state-check", schema).is_valid(value))

    def _validator(self, key: str, schema: Any) -> Any:
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = compile_schema(schema, self.spec.schemas)
        return found
