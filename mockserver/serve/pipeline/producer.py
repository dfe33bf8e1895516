"""Producing an answer: a `Decision` (negotiation.py) in, an immutable `Answer` out.

Rules: the producer never decides (status, media and source come with the decision); it makes bytes. Bodies are made
against the response view of their schema (no writeOnly property, see contract/schemas.py). Generated data comes
from the generator's cached pool slots, path parameters are echoed into same-named fields and list sizes follow the
request's limit-like query parameters only when the result stays valid, response headers are generated from their
schemas as short, valid HTTP field values, and the mock's own 4xx (violations, credentials, method, media type) are
shaped to fit the contract's schema. Every body sent for a documented status is valid against the contract.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from ...contract.media import is_json
from ...contract.schemas import ANSWER, Schema, SchemaSet, branches
from ...contract.spec import Operation, Response
from ..data import errors, realism
from ..data.encoding import encode
from ..data.generation import POOL, GenerationError, Generator
from . import negotiation, problems
from .answer import JSON, Answer, from_fixture, problem_answer
from .negotiation import Decision, response_of
from .slots import ANY_STRING, SLOT_BYTES, WHOLE, Plan, SlotBody
from .validation import ANNOTATIONS, compile_schema

# Keywords that let other properties constrain this one: a property's own schema does not decide alone.
_COMPLEX = frozenset({"allOf", "anyOf", "oneOf", "if", "not", "dependentSchemas", "dependentRequired", "dependencies",
                      "patternProperties", "propertyNames", "unevaluatedProperties", "$ref"})  # fmt: skip


# Response headers a contract may document but the HTTP layer sets: a generated `Content-Encoding: gzip` over a plain
# body (seen in published contracts) breaks every client
_FRAMING = frozenset({"content-type", "content-encoding", "content-length", "transfer-encoding", "connection",
                      "keep-alive", "upgrade", "trailer", "te"})  # fmt: skip


class Producer:
    def __init__(self, schemas: SchemaSet, generator: Generator) -> None:
        self.schemas = schemas
        self.generator = generator
        self._echo_checks: dict[tuple[str, int, str], Any] = {}
        self._views: dict[tuple[str, str, str], Schema] = {}
        self._plans: dict[tuple[str, str | None, str | None, int | None], Plan] = {}

    def body_schema(self, op: Operation, status: str, media: str) -> Schema | None:
        """The response view of the schema of `status` (a key of `op.responses`) and `media`, or None."""
        found = self._views.get((op.key, status, media), _MISSING)
        if found is _MISSING:
            response = op.responses.get(status)
            obj = response.content.get(media) if response is not None else None
            schema = obj.schema if obj is not None else None
            where = f"{op.key} {status} {media}"
            found = self._views[(op.key, status, media)] = (
                None if schema is None else self.schemas.view(schema, ANSWER, where)
            )
        return found

    def produce(self, op: Operation, decision: Decision, coerced: dict[str, Any],
                query: dict[str, list[str]] | None = None) -> Answer:  # fmt: skip
        """The answer a decision describes; `coerced` holds the request's typed path parameters, for echoing, and
        `query` its query parameters, for limit-like ones."""
        if decision.kind == negotiation.GENERATE and decision.delay_ms is None:  # most answers: straight there
            return self._generated(op, decision, coerced, query or _NO_QUERY)
        answer = self._produce(op, decision, coerced, query or _NO_QUERY)
        return answer if decision.delay_ms is None else answer._replace(delay_ms=decision.delay_ms)

    def _produce(self, op: Operation, decision: Decision, coerced: dict[str, Any],
                 query: dict[str, list[str]]) -> Answer:  # fmt: skip
        kind = decision.kind
        if kind == negotiation.GENERATE:
            return self._generated(op, decision, coerced, query)
        if kind == negotiation.FIXTURE:
            assert decision.fixture is not None
            step = decision.fixture.steps[decision.step]
            if step.template is not None:  # {{path.NAME}} ...: this request's values, in the body's media type
                scope = {"path": coerced, "query": {k: v[0] for k, v in query.items() if v}}
                body = encode(step.template.render(scope), step.media or JSON)
                return from_fixture(decision.fixture, decision.step)._replace(body=body)
            return from_fixture(decision.fixture, decision.step)
        if kind == negotiation.PROBLEM:
            assert decision.problem is not None
            return problem_answer(decision.problem, decision.detail, decision.headers, **dict(decision.extra))
        if kind == negotiation.EMPTY or (kind == negotiation.STATE and decision.media is None):
            return Answer(decision.status, b"", decision.source, None, decision.headers)
        response = response_of(op, decision.response)
        headers = self._headers(op, decision.response or "", response, 0) if response is not None else ()
        if kind in (negotiation.EXAMPLE, negotiation.STATE) and decision.media is not None:
            return Answer(
                decision.status, encode(decision.value, decision.media), decision.source, decision.media, headers
            )
        if kind == negotiation.NULL:
            return Answer(decision.status, b"null", decision.source, decision.media, headers)
        if kind == negotiation.INVALID:
            return self._invalid(op, decision)
        raise ValueError(f"cannot produce a {kind!r} decision")

    def _generated(self, op: Operation, decision: Decision, coerced: dict[str, Any],
                   query: dict[str, list[str]]) -> Answer:  # fmt: skip
        plan = self._plans.get((op.key, decision.response, decision.media, decision.branch))
        if plan is None:
            plan = self._plan(op, decision)
        if plan.json and (not query or realism.page_size(query) is None):
            return plan.answer(decision, decision.slot, coerced)
        return self._generated_value(decision, plan, coerced, query)

    def prepared(self, op: Operation, decision: Decision, query: dict[str, list[str]]) -> Plan | None:
        """For a PER_SHAPE decision (no delay, no limit-like query parameter): what `produce` works out before the
        slot matters, to make the same answers from a slot alone (`Plan.answer`, the path `produce` takes too).
        None where `produce` has more to do."""
        if decision.reuse != negotiation.PER_SHAPE or decision.delay_ms is not None:
            return None
        if query and realism.page_size(query) is not None:
            return None
        plan = self._plans.get((op.key, decision.response, decision.media, decision.branch))
        plan = plan if plan is not None else self._plan(op, decision)
        return plan if plan.json else None

    def _plan(self, op: Operation, decision: Decision) -> Plan:
        """What every generated answer for one response, media type and branch shares, worked out once."""
        status, media = decision.response or "", decision.media
        response = response_of(op, decision.response)
        schema = self.body_schema(op, response.status, media) if response is not None and media is not None else None
        key = f"{op.key}|{status}|{media}"
        if schema is not None and decision.branch is not None:
            schema = branches(schema, self.schemas)[decision.branch]
            key += f"|branch{decision.branch}"
        json = schema is not None and media is not None and is_json(media)
        plan = Plan(self, op.key, key, status, response, schema, json, [None] * POOL if json else [])
        self._plans[(op.key, decision.response, decision.media, decision.branch)] = plan
        return plan

    def _slot_body(self, plan: Plan, slot: int) -> SlotBody | None:
        """A slot's body as bytes, with where path parameters are echoed into it; None when it cannot be made here
        (the slow path then says why)."""
        assert plan.schema is not None and plan.response is not None
        try:
            value = self.generator.value(plan.key, plan.schema, slot)
            headers = self._headers_of(plan, slot)
        except GenerationError:
            return None
        try:
            data = orjson.dumps(value)
        except TypeError:  # an integer past 64 bits: the slow path's encoder
            return None
        body = SlotBody(self, plan, slot, value, data, headers)
        if slot < len(plan.slots) and len(data) <= SLOT_BYTES:
            plan.slots[slot] = body
        return body

    def _headers_of(self, plan: Plan, slot: int) -> tuple[tuple[str, str], ...]:
        assert plan.response is not None
        return self._headers_for(plan.operation, plan.status, plan.response, slot)

    def _generated_value(self, decision: Decision, plan: Plan, coerced: dict[str, Any],
                         query: dict[str, list[str]]) -> Answer:  # fmt: skip
        """A generated answer made from the value: non-JSON media, a resized list, an echo the whole body decides."""
        slot, media, response, schema, key = decision.slot, decision.media, plan.response, plan.schema, plan.key
        headers = self._headers_for(plan.operation, plan.status, response, slot) if response is not None else ()
        if media is None or schema is None:
            return Answer(decision.status, b"", decision.source, None, headers)
        try:
            value = self.generator.value(key, schema, slot)
        except GenerationError as exc:
            return problem_answer(problems.INTERNAL, f"cannot generate a body for {key}: {exc}")
        value = self._echo(key, schema, slot, value, coerced)
        if query:
            value = self._sized(key, schema, slot, value, query)
        return Answer(decision.status, encode(value, media, self._root(schema)), decision.source, media, headers)

    def _sized(self, key: str, schema: Any, slot: int, value: Any, query: dict[str, list[str]]) -> Any:
        """The list of a body resized to a limit-like query parameter (`limit`, `per_page`, ...), counts kept in
        step; the body as it was when the result would not be valid."""
        wanted = realism.page_size(query)
        if wanted is None:
            return value
        found = realism.main_list(value, schema, self.schemas)
        if found is None:
            return value
        path, items_schema, current = found
        if len(current) == wanted:
            return value
        if wanted < len(current):
            items = current[:wanted]
        else:
            items = list(current)
            for i in range(len(current), wanted):
                try:
                    items.append(self.generator.value(f"{key}|item", items_schema, (slot + i) % _ITEM_POOL))
                except GenerationError:
                    return value
        resized = realism.consistent(realism.replace_at(value, path, items))
        return resized if self.generator.validator(key, schema).is_valid(resized) else value

    def _root(self, schema: Any) -> str:
        """The root element name of an XML body: the schema's `xml.name`, title or definition name."""
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        resolved = self.schemas.resolve(schema)
        if isinstance(resolved, dict):
            xml = resolved.get("xml")
            if isinstance(xml, dict) and isinstance(xml.get("name"), str):
                return str(xml["name"])
            if isinstance(resolved.get("title"), str):
                return str(resolved["title"])
        if isinstance(ref, str):
            return ref.rsplit("/", 1)[-1].split(".")[0]
        return "response"

    def _invalid(self, op: Operation, decision: Decision) -> Answer:
        """The mock's own 4xx in the contract's shape: FastAPI's `detail` list, a problem document, `{message,
        errors}`, `{code, message}`, ..., whichever its schema takes; else a body generated against it with its
        message-like and code-like fields filled in where that stays valid."""
        response = response_of(op, decision.response)
        if response is None:
            return Answer(decision.status, b"", decision.source, None, decision.headers)
        headers = decision.headers + self._headers(op, response.status, response, 0)
        schema = self.body_schema(op, response.status, decision.media) if decision.media else None
        if schema is None or decision.media is None:
            return Answer(decision.status, b"", decision.source, None, headers)
        key = f"{op.key}|{response.status}|{decision.media}"
        validator = self.generator.validator(key, schema)
        kind = decision.problem or problems.INVALID_REQUEST
        message = decision.detail or kind.default
        for body in errors.error_shapes(kind.body(message), decision.status, message, decision.value):
            if validator.is_valid(body):
                return Answer(decision.status, encode(body, decision.media), decision.source, decision.media, headers)
        try:
            value = self.generator.value(key, schema, 0)
        except GenerationError as exc:
            return problem_answer(problems.INTERNAL, f"cannot generate a body for {key}: {exc}")
        value = errors.fill_error(value, decision.status, message, validator.is_valid)
        return Answer(decision.status, encode(value, decision.media), decision.source, decision.media, headers)

    def _echo(self, key: str, schema: Any, slot: int, value: Any, coerced: dict[str, Any]) -> Any:
        """Path parameters echoed into same-named fields: GET /things/abc answers {"thing_id": "abc", ...}."""
        if not coerced or not isinstance(value, dict):
            return value
        hits = {k: v for k, v in coerced.items() if k in value and value[k] != v}
        if not hits:
            return value
        echoed = {**value, **hits}
        for name, new in hits.items():
            check = self._echo_check(key, schema, slot, value, name)
            if check is WHOLE:
                return echoed if self.generator.validator(key, schema).is_valid(echoed) else value
            if not check.is_valid(new):
                return value
        return echoed

    def _property_validator(self, schema: Any, value: dict[str, Any], name: str) -> Any:
        """The validator of the property `name` in the object branch `value` came from, when that branch is plain
        enough for the property alone to decide; else `WHOLE` (validate the whole echoed body)."""
        resolved = self.schemas.resolve(schema)
        candidates = [resolved, *(self.schemas.resolve(b) for b in branches(schema, self.schemas))]
        plain = [
            c for c in candidates
            if isinstance(c, dict) and name in c.get("properties", {}) and not _COMPLEX & c.keys()
            and compile_schema(c, self.schemas).is_valid(value)
        ]  # fmt: skip
        if len(plain) != 1:
            return WHOLE
        prop = plain[0]["properties"][name]
        resolved_prop = self.schemas.resolve(prop)
        if isinstance(resolved_prop, dict) and {k: v for k, v in resolved_prop.items() if k not in ANNOTATIONS} == {
            "type": "string"
        }:
            return ANY_STRING
        return compile_schema(prop, self.schemas)

    def _headers(self, op: Operation, status: str, response: Response, slot: int) -> tuple[tuple[str, str], ...]:
        return self._headers_for(op.key, status, response, slot)

    def _headers_for(self, op_key: str, status: str, response: Response, slot: int) -> tuple[tuple[str, str], ...]:
        out = []
        for name, (_required, schema) in response.headers.items():
            if name.lower() in _FRAMING:  # the server's own: a generated one would misframe the body
                continue
            try:
                value = self.generator.header(f"{op_key}|{status}|header|{name}", name, schema, slot)
            except GenerationError:
                continue
            out.append((name, value))
        return tuple(out)

    def _echo_check(self, key: str, schema: Any, slot: int, value: dict[str, Any], name: str) -> Any:
        check = self._echo_checks.get((key, slot, name))
        if check is None:
            check = self._echo_checks[(key, slot, name)] = self._property_validator(schema, value, name)
        return check


_MISSING = object()
_NO_QUERY: dict[str, list[str]] = {}  # shared, never written
_ITEM_POOL = 64  # pool slots for items added to a list to honour a limit


def without_forbidden(value: Any, validator: Any) -> Any:
    """A value with the members a `false` schema forbids left out: a contract example that shows a writeOnly
    property, seen through the response view. The caller checks the result is valid."""
    if not isinstance(value, (dict, list)):
        return value
    out = copy.deepcopy(value)
    for _ in range(10):
        paths = [list(e.instance_path) for e in validator.iter_errors(out) if type(e.kind).__name__ == "FalseSchema"]
        if not paths:
            break
        for path in sorted(paths, key=len, reverse=True):
            _delete(out, path)
    return out


def _delete(value: Any, path: list[Any]) -> None:
    for step in path[:-1]:
        value = value[step]
    if isinstance(value, dict):
        value.pop(path[-1], None)
    elif isinstance(value, list) and isinstance(path[-1], int) and path[-1] < len(value):
        del value[path[-1]]
