"""Deciding an answer: which status, media type and source, and how far the answer may be reused. Pure functions of
their arguments (and of `Facts.memo`, their own cache); no HTTP, no I/O, no generation (producing the body is
producer.py's job).

The precedence, first match wins (`Mock.handle` runs steps 1-2 and the state step, `negotiate` the rest):
1. security: required credentials missing or wrong -> 401 (fixture `when: unauthorized`, documented 401, problem);
2. request validation: bad parameters or body -> the documented 422 (or 400, 4XX, default) with a body valid against
   it; a body of an undocumented media type -> 415 the same way;
3. preferences (Prism-compatible): `example=NAME`, `code=NNN`, `branch=null|N`, `dynamic=true|false`, from the
   `Prefer` header, then `?__code=`-style query controls, then a runtime override (a later choice replaces one before);
   an override's undocumented status is answered anyway (`forced`): the developer asked for exactly that;
4. `--stateful`: the collection's items (stateful.py), for the operations of an inferred collection;
5. a fixture that matches the request (a sequence serves its steps in turn);
6. an example from the contract;
7. generated data.
An impossible preference is a 400 that says what the contract offers, never a guess. Every decision says how its answer
may be reused (`Decision.reuse`): NEVER (it depends on run-time state: an override, a sequence position, an item, a
fault), PER_REQUEST (the same request gets the same answer) or PER_SHAPE (generated data: another path of the same
request shape differs only in its pool slot and echoed path parameters). Every cache reads that field. The mock's
own 4xx (401, 404, 405, 415, 422) take the shape the operation documents for that status, its range or `default`
(`own_error`); the mock's problem document only where it documents none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ...contract import media as mediatypes
from ...contract import security
from ...contract.schemas import SchemaSet, accepts_null, branches
from ...contract.spec import Operation, Response
from . import problems
from .fixture import Fixture, FixtureIndex
from .preferences import Preferences
from .problems import Problem
from .validation import MEDIA_TYPE

# What the producer makes of a decision
FIXTURE, EXAMPLE, GENERATE, NULL, EMPTY, PROBLEM, INVALID, STATE = (
    "fixture", "example", "generate", "null", "empty", "problem", "invalid", "state",
)  # fmt: skip
# X-Mock-Source values: where an answer came from
FROM_FIXTURE, FROM_EXAMPLE, FROM_GENERATED, FROM_ERROR = "fixture", "example", "generated", "error"
FROM_STATE, FROM_OVERRIDE = "state", "override"
Examples = Mapping[str, Mapping[str, Mapping[str, Any]]]  # status -> media -> name -> value (valid ones only)
# How an answer may be reused (`Decision.reuse`), from the narrowest to the widest
NEVER, PER_REQUEST, PER_SHAPE = 0, 1, 2


class Decision(NamedTuple):
    """What to answer. A named tuple: immutable, and built on every request for a fraction of a frozen dataclass's
    cost (change one with `decision._replace(...)`)."""

    kind: str  # FIXTURE | EXAMPLE | GENERATE | NULL | EMPTY | PROBLEM | INVALID | STATE
    status: int
    source: str  # the X-Mock-Source value
    response: str | None = None  # the contract's response key ("200", "4XX", "default") whose schema and headers apply
    media: str | None = None
    fixture: Fixture | None = None
    value: Any = None  # EXAMPLE: the example; STATE: the item or list; INVALID: the violations as detail items
    slot: int = 0
    branch: int | None = None
    problem: Problem | None = None
    detail: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()  # more members of a problem document
    headers: tuple[tuple[str, str], ...] = ()
    note: str = ""  # for the journal: the fixture or example used, or why the request was refused
    delay_ms: int | None = None  # `Prefer: delay`; None: the fixture's or the configured latency applies
    step: int = 0  # FIXTURE: which answer of a sequence
    reuse: int = PER_REQUEST  # NEVER | PER_REQUEST | PER_SHAPE


def problem(
    kind: Problem, detail: str | None = None, headers: tuple[tuple[str, str], ...] = (), **extra: Any
) -> Decision:
    return Decision(
        PROBLEM,
        kind.status,
        FROM_ERROR,
        problem=kind,
        detail=detail,
        extra=tuple(extra.items()),
        headers=headers,
        note=detail or kind.title,
    )


@dataclass(frozen=True)
class Facts:
    """What negotiation needs to know about one operation, worked out once at start-up; `memo` keeps what a request
    works out that the next one with the same status and Accept value would too (bounded: Accept comes from clients)."""

    operation: Operation
    schemas: SchemaSet
    fixtures: FixtureIndex = field(default_factory=FixtureIndex)
    examples: Examples = field(default_factory=dict)
    default_status: str | None = None
    fixtures_only: bool = False
    memo: dict[tuple[str, str, str | None] | tuple[str, str | None], Any] = field(
        default_factory=dict, compare=False, repr=False
    )

    keyless: bool = False  # a fixture of this operation was recorded without credentials (`auth: none`)

    @classmethod
    def of(cls, operation: Operation, schemas: SchemaSet, fixtures: FixtureIndex | None, examples: Examples,
           fixtures_only: bool) -> Facts:  # fmt: skip
        index = fixtures or FixtureIndex()
        keyless = any(f.auth == "none" for f in index.by_name.values())  # once, not on every refused request
        return cls(operation, schemas, index, examples, default_status(operation), fixtures_only, keyless=keyless)


def negotiate(facts: Facts, prefs: Preferences, path: dict[str, str], query: dict[str, list[str]],
              headers: dict[str, str], slot: Callable[[], int]) -> Decision:  # fmt: skip
    """Steps 3-6 of the precedence for a request that passed security and validation. `slot()` is the request's
    pool slot for generated data (a hash of the request, see data/generation.py), asked only when data is generated."""
    op = facts.operation
    accept = headers.get("accept")
    if prefs.example is not None:
        return _named(facts, prefs.example, prefs.code, accept)
    status = facts.default_status if prefs.code is None else str(prefs.code)
    if status is None:
        return Decision(EMPTY, 200, FROM_GENERATED)
    if prefs.code is not None and op.response_for(prefs.code) is None:
        return problem(
            problems.BAD_PREFER, f"code={prefs.code} is not documented for {op.key}", documented=list(op.responses)
        )
    if prefs.branch is not None:
        return _branch(facts, status, prefs.branch, accept, slot)
    if prefs.dynamic is not True:
        fixture = facts.fixtures.find(path, query, headers)
        if fixture is not None and (prefs.code is None or fixture.status == prefs.code):
            return _kept(facts, fixture, FIXTURE, None)
        example = _first_example(facts, status, accept)
        if example is not None:
            return example
        if facts.fixtures_only and prefs.code is None:
            return _fixture_miss(facts, status, accept)
    return generated(facts, status, accept, 0 if prefs.dynamic is False else slot())


def unauthorized(facts: Facts, accept: str | None) -> Decision:
    """Step 1's answer: the `when: unauthorized` fixture, else the documented 401, else a problem with a challenge."""
    op = facts.operation
    fixture = facts.fixtures.unauthorized
    if fixture is not None:
        return _kept(facts, fixture, _UNAUTHORIZED_FIXTURE, f"credentials missing or wrong (fixture {fixture.name})")
    found: Decision | None = facts.memo.get((_UNAUTHORIZED, accept))
    if found is None:  # the same for every request with this Accept value: worked out once
        challenge = security.challenges(op.security)
        found = own_error(op, problems.UNAUTHORIZED, accept, f"Send credentials: {security.missing(op.security)}",
                          headers=(("WWW-Authenticate", challenge),) if challenge else ())  # fmt: skip
        found = found._replace(note="credentials missing or wrong")
        if len(facts.memo) < _MEMO_ENTRIES:
            facts.memo[(_UNAUTHORIZED, accept)] = found
    return found


def invalid(op: Operation, detail: list[dict[str, Any]], accept: str | None) -> Decision:
    """Step 2's answer: the documented 422 (or 400, 4XX, default) filled with the violations, else a problem; a 415
    in the same way when the body's media type is not documented."""
    message = f"{'/'.join(map(str, detail[0]['loc']))}: {detail[0]['msg']}" if detail else "invalid request"
    if detail and detail[0]["type"] == MEDIA_TYPE:
        return own_error(op, problems.UNSUPPORTED_MEDIA, accept, detail[0]["msg"], errors=detail)
    return own_error(op, problems.INVALID_REQUEST, accept, message, errors=detail, statuses=("422", "400"))


def not_allowed(operations: list[Operation], allowed: list[str], method: str,
                accept: str | None) -> tuple[Operation | None, Decision]:  # fmt: skip
    """A 405 for a path whose templates lack the method: in the shape the first of their operations that documents
    one gives it (that operation is returned too, to produce it), else the mock's problem document."""
    allow = ", ".join(allowed)
    headers = (("Allow", allow),)
    detail = f"{method} is not offered on this path; allowed: {allow}"
    for op in operations:
        if op.response_for(405) is not None:
            return op, own_error(op, problems.NO_METHOD, accept, detail, headers=headers)
    return None, problem(problems.NO_METHOD, headers=headers, allowed=allowed)


def own_error(op: Operation, kind: Problem, accept: str | None, detail: str, errors: list[dict[str, Any]] | None = None,
              headers: tuple[tuple[str, str], ...] = (), statuses: tuple[str, ...] = ()) -> Decision:  # fmt: skip
    """The mock's own 4xx for an operation: the response the contract documents for one of `statuses`, else for
    `kind`'s status (exact, range, `default`), to be filled with `detail` and `errors` by the producer; the problem
    document only when the operation documents none."""
    for status in statuses:
        if status in op.responses:
            exact = op.responses[status]
            return Decision(INVALID, int(status), FROM_ERROR, status, choose_media(exact, accept), value=errors,
                            problem=kind, detail=detail, headers=headers, note=detail)  # fmt: skip
    documented = op.response_for(kind.status)
    if documented is not None:
        return Decision(INVALID, kind.status, FROM_ERROR, documented.status, choose_media(documented, accept),
                        value=errors, problem=kind, detail=detail, headers=headers, note=detail)  # fmt: skip
    extra = {"errors": errors} if errors is not None else {}
    if kind is problems.INVALID_REQUEST:
        return Decision(PROBLEM, kind.status, FROM_ERROR, problem=kind, extra=tuple(extra.items()), headers=headers,
                        note=detail)  # fmt: skip
    return problem(kind, detail, headers, **extra)


def fault(facts: Facts, status: int) -> Decision:
    """`--error-rate`: an injected 500 or 503, with the contract's body where it documents one."""
    if facts.operation.response_for(status) is None:
        return problem(problems.INJECTED if status == 500 else problems.UNAVAILABLE)._replace(reuse=NEVER)
    return generated(facts, str(status), None, 0, source=FROM_ERROR, reuse=NEVER)


def forced(op: Operation, status: int) -> Decision:
    """An override's status the contract does not document: the mock's own document for it, said to be forced."""
    return problem(problems.forced(status), f"status {status} forced by a runtime override; {op.key} documents "
                   f"{', '.join(op.responses) or 'no response'}")._replace(reuse=NEVER)  # fmt: skip


def sequence_step(facts: Facts, decision: Decision, served: int, accept: str | None) -> Decision:
    """A sequence fixture's answer for a request that finds `served` earlier ones: its step, or after the last step
    of a `then: 404` sequence the contract's 404. Never reused: the next request finds another position."""
    fixture = decision.fixture
    assert fixture is not None
    index = fixture.position(served)
    if index is None:
        ended = generated(facts, "404", accept, 0, source=FROM_FIXTURE, reuse=NEVER)
        return ended._replace(note=f"{fixture.name}: sequence over after {len(fixture.steps)} answers (then: 404)")
    status = fixture.steps[index].status
    note = f"{fixture.name} ({index + 1}/{len(fixture.steps)})"
    return decision._replace(status=status, step=index, note=note, reuse=NEVER)


def generated(facts: Facts, status: str, accept: str | None, slot: int, branch: int | None = None,
              source: str = FROM_GENERATED, reuse: int = PER_SHAPE) -> Decision:  # fmt: skip
    """Generated data for `status`: only the pool slot and the echoed path parameters tell two paths apart."""
    found = facts.memo.get((_GENERATED, status, accept))
    if found is None:
        op = facts.operation
        response = response_of(op, status)
        media = choose_media(response, accept) if response is not None else None
        # `response` keeps the status as asked ("404" where the contract says 4XX): it names the data's pool
        found = (numeric(status), status if response else None, media)
        if len(facts.memo) < _MEMO_ENTRIES:  # Accept values come from clients: a flood of new ones is not kept
            facts.memo[(_GENERATED, status, accept)] = found
    return _tuple_new(Decision, (GENERATE, found[0], source, found[1], found[2], None, None, slot, branch, None, None,
                                 (), (), "", None, 0, reuse))  # fmt: skip


_GENERATED = "generated"  # a key of Facts.memo: (status, response key, media) per status and Accept value
_UNAUTHORIZED = "unauthorized"  # ... and the 401's decision per Accept value
_UNAUTHORIZED_FIXTURE = "unauthorized fixture"  # ... and the 401 of a `when: unauthorized` fixture, per fixture
_MEMO_ENTRIES = 256


def with_slot(decision: Decision, slot: int) -> Decision:
    """`decision._replace(slot=slot)`, for a fraction of its cost."""
    return _tuple_new(Decision, (*decision[:7], slot, *decision[8:]))


_tuple_new = tuple.__new__


def _kept(facts: Facts, fixture: Fixture, tag: str, note: str | None) -> Decision:
    """`from_fixture(fixture)` (with `note`), the same for every request while that fixture is the one: made once."""
    kept: Decision | None = facts.memo.get((tag, fixture.name))
    if kept is None or kept.fixture is not fixture:
        kept = from_fixture(fixture) if note is None else from_fixture(fixture)._replace(note=note)
        if len(facts.memo) < _MEMO_ENTRIES:
            facts.memo[(tag, fixture.name)] = kept
    return kept


def from_fixture(fixture: Fixture) -> Decision:
    template = fixture.first.template
    reuse = NEVER if template is not None and "now" in template.names else PER_REQUEST  # {{now}}: a new time
    return Decision(FIXTURE, fixture.status, FROM_FIXTURE, fixture=fixture, note=fixture.name, reuse=reuse)


def _branch(facts: Facts, status: str, branch: int, accept: str | None, slot: Callable[[], int]) -> Decision:
    op = facts.operation
    decision = generated(facts, status, accept, 0, branch)
    schema = response_schema(op, decision)
    if schema is None:
        return problem(problems.BAD_PREFER, f"status {status} of {op.key} has no schema to pick a branch from")
    if branch == -1:
        if not accepts_null(schema, facts.schemas):
            return problem(problems.BAD_PREFER, f"the {status} schema of {op.key} does not allow null")
        return Decision(NULL, decision.status, FROM_GENERATED, decision.response, decision.media, note="branch=null")
    count = len(branches(schema, facts.schemas))
    if branch >= count:
        return problem(
            problems.BAD_PREFER,
            f"the {status} schema of {op.key} has {count} anyOf/oneOf branches "
            f"(0-based); branch={branch} is out of range",
        )
    return decision._replace(slot=slot())  # asked for only now: null and refusals generate nothing


def _first_example(facts: Facts, status: str, accept: str | None) -> Decision | None:
    if not facts.examples:
        return None
    response = response_of(facts.operation, status)
    media = choose_media(response, accept) if response is not None else None
    if response is None or media is None:
        return None
    named = facts.examples.get(response.status, {}).get(media)
    if not named:
        return None
    name, value = next(iter(named.items()))
    return Decision(EXAMPLE, numeric(status), FROM_EXAMPLE, response.status, media, value=value, note=name)


def _named(facts: Facts, name: str, code: int | None, accept: str | None) -> Decision:
    op = facts.operation
    fixture = facts.fixtures.by_name.get(name)
    if fixture is not None and (code is None or fixture.status == code):
        return from_fixture(fixture)
    for status, by_media in facts.examples.items():
        if code is not None and op.response_for(code) is not op.responses[status]:
            continue
        for media, named in by_media.items():
            if name in named:
                return Decision(EXAMPLE, numeric(status), FROM_EXAMPLE, status, media, value=named[name], note=name)
    offered = sorted(facts.fixtures.by_name) + sorted(
        {n for m in facts.examples.values() for ex in m.values() for n in ex}
    )
    return problem(
        problems.BAD_PREFER, f"{op.key} has no example or fixture named {name[:200]!r}", available=offered[:200]
    )


def _fixture_miss(facts: Facts, status: str, accept: str | None) -> Decision:
    decision = generated(facts, status, accept, 0)
    schema = response_schema(facts.operation, decision)
    if schema is not None and accepts_null(schema, facts.schemas):
        return Decision(NULL, decision.status, FROM_GENERATED, decision.response, decision.media, note="no fixture")
    return own_error(facts.operation, problems.NO_FIXTURE, accept, problems.NO_FIXTURE.default)


def response_of(op: Operation, status: str | None) -> Response | None:
    """The contract's response a decision names: its exact key, else the one documented for that status."""
    if status is None:
        return None
    return op.responses.get(status) or op.response_for(numeric(status))


def response_schema(op: Operation, decision: Decision) -> Any:
    response = response_of(op, decision.response)
    return response.content[decision.media].schema if response is not None and decision.media else None


def default_status(operation: Operation) -> str | None:
    """The success answer: the lowest documented 2xx, then 2XX, then default, then the first documented."""
    codes = sorted(s for s in operation.responses if s.isdigit() and s.startswith("2"))
    for candidate in (*codes, "2XX", "default"):
        if candidate in operation.responses:
            return candidate
    return next(iter(operation.responses), None)


def numeric(status: str) -> int:
    if status.isdigit():
        return int(status)
    if status.endswith("XX"):
        return int(status[0]) * 100
    return 200


def choose_media(response: Response, accept: str | None) -> str | None:
    """The response media type for an Accept header; JSON first when the client takes anything."""
    return _choose(tuple(response.content), accept)


@lru_cache(maxsize=4096)  # a handful of Accept headers per operation in practice; bounded whatever comes in
def _choose(offered: tuple[str, ...], accept: str | None) -> str | None:
    """The offered type the client weighs most (q-values; a more specific range first, then the header's order, JSON
    first among equals); when none is acceptable, JSON (or the first) among those not refused (q=0), not a 406."""
    if not offered:
        return None
    if accept:
        ranges = mediatypes.accepted(accept)
        best: tuple[float, bool, int, bool, int] | None = None
        chosen = None
        refused = set()
        for index, media in enumerate(offered):
            found = mediatypes.weigh(mediatypes.base(media), ranges)
            if found is None:
                continue
            weight, specificity, position = found
            if weight <= 0:
                refused.add(media)
                continue
            key = (-weight, specificity == 0, position, not mediatypes.is_json(media), index)
            if best is None or key < best:
                best, chosen = key, media
        if chosen is not None:
            return chosen
        offered = tuple(m for m in offered if m not in refused) or offered
    return next((m for m in offered if mediatypes.is_json(m)), offered[0])
