"""What a loaded fixture is: its steps (answers), what it matches, and the index of one operation's fixtures. Built
by the loader (pipeline/fixtures.py) once, at start-up; read on every request, never changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ...contract.spec import Operation
from ..events.template import Template
from .effects import Effect

REPEAT_LAST, CYCLE, NOT_FOUND = "repeat-last", "cycle", "404"  # what a sequence does after its last step
THEN = (REPEAT_LAST, CYCLE, NOT_FOUND)
MAX_STEPS = 100
JSON = "application/json"  # the media type of a fixture body without a Content-Type
# The index of edge fixtures: keyed like an operation's, with ("method", "raw_path") as its "path parameters"
EDGES = ""
EDGE_KEYS = ("method", "raw_path")
METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
RAW_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "?#")


def raw_key(raw_path: bytes) -> str:
    """A raw path as edge fixtures write and match it: as sent, with any byte outside printable ASCII (a client
    may send one unencoded) percent-encoded, so that every raw path has one printable spelling."""
    return quote(raw_path, safe=RAW_SAFE)


@dataclass(frozen=True)
class Step:
    """One answer of a fixture."""

    status: int
    response_headers: dict[str, str]
    delay_ms: int
    has_body: bool
    body: Any
    body_bytes: bytes
    media: str | None  # its Content-Type, whatever the header's case (JSON for a body without one)
    other_headers: tuple[tuple[str, str], ...]  # the headers sent besides Content-Type
    template: Template | None = None  # the body, when it has {{path.NAME}}, {{query.NAME}} or {{now}}: made per request


@dataclass
class Fixture:
    file: str
    name: str
    operation: Operation | None  # None: an edge fixture, matched on EDGE_KEYS in `path`
    when: str  # request | unauthorized
    path: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    steps: tuple[Step, ...]  # one at least; more than one: a sequence, served in turn per request identity
    then: str = REPEAT_LAST
    flagged: tuple[str, ...] = ()  # why the recorder flagged it, and what the loader found wrong with it
    auth: str = ""  # "none": the real server answered it without credentials (recorded), so the mock does too
    effect: Effect | None = None  # --stateful: what this request does to the item it names (`state:`)
    refuses: str = ""  # a raw-path HEAD fixture refusing HEAD on a GET operation's path: that operation's key
    sequence: bool = field(init=False)  # read on every request a fixture answers: computed once

    def __post_init__(self) -> None:
        self.sequence = len(self.steps) > 1

    @property
    def first(self) -> Step:
        return self.steps[0]

    @property
    def status(self) -> int:
        return self.steps[0].status

    @property
    def body(self) -> Any:
        return self.steps[0].body

    def position(self, served: int) -> int | None:
        """The step for the request that finds `served` earlier ones; None past the end of a `then: 404` sequence."""
        count = len(self.steps)
        if served < count:
            return served
        if self.then == CYCLE:
            return served % count
        return None if self.then == NOT_FOUND else count - 1

    def matches(self, path: dict[str, str], query: dict[str, list[str]], headers: dict[str, str]) -> bool:
        if not (self.query or self.headers) and len(self.path) == len(path) and self.path == path:
            return True  # the common fixture: an id, nothing else
        return (
            all(path.get(k) == v for k, v in self.path.items())
            and all(v in query.get(k, ()) for k, v in self.query.items())
            and all(headers.get(k) == v for k, v in self.headers.items())
        )


@dataclass
class FixtureIndex:
    """Fixtures of one operation: exact path-parameter matches by dict lookup, the rest scanned in file order."""

    by_path: dict[tuple[str, ...], list[Fixture]] = field(default_factory=dict)
    others: list[Fixture] = field(default_factory=list)
    by_name: dict[str, Fixture] = field(default_factory=dict)
    unauthorized: Fixture | None = None
    path_names: tuple[str, ...] = ()
    # raw-path fixtures only: operation key -> the first HEAD refusal recorded on one of its paths, which answers
    # HEAD on every other path of it too (a framework that routes no HEAD refuses it whatever the id)
    refusals: dict[str, Fixture] = field(default_factory=dict)

    def find(self, path: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
             skip: frozenset[str] = frozenset(), keyless: bool = False) -> Fixture | None:  # fmt: skip
        """The first fixture matching the request, in file order, those recorded without credentials (`auth:
        none`) after the others (`add`); `skip` names fixtures to pass over; `keyless`: only those."""
        names = self.path_names
        key = (path.get(names[0], ""),) if len(names) == 1 else tuple(path.get(n, "") for n in names)
        for fixture in self.by_path.get(key, ()):
            if fixture.matches(path, query, headers) and fixture.name not in skip and (fixture.auth or not keyless):
                return fixture
        for fixture in self.others:
            if fixture.matches(path, query, headers) and fixture.name not in skip and (fixture.auth or not keyless):
                return fixture
        return None

    def add(self, fixture: Fixture) -> None:
        """Indexed for `find`: the answer given with credentials before the one given without, whatever the file
        order (a request that carries them gets the first, one without only the second)."""
        if fixture.refuses:
            self.refusals.setdefault(fixture.refuses, fixture)
        if fixture.when == "unauthorized":
            self.unauthorized = fixture
        elif fixture.when == "named":
            return  # only by name
        elif set(fixture.path) == set(self.path_names) and self.path_names:
            _place(self.by_path.setdefault(tuple(fixture.path[n] for n in self.path_names), []), fixture)
        else:
            _place(self.others, fixture)


def _place(fixtures: list[Fixture], fixture: Fixture) -> None:
    at = len(fixtures)
    if not fixture.auth:
        at = next((i for i, other in enumerate(fixtures) if other.auth), at)
    fixtures.insert(at, fixture)
