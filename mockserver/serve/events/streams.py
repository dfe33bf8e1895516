"""Event-stream fixtures: socket.io streams replayed on connect, scripted answers to client events, faults.

Rules: a stream fixture is a YAML/JSON document in the fixtures folder with a top-level `stream:` key (the HTTP
fixture loader leaves those alone). Everything is checked once, at start-up: a mistake raises `DocumentError` with
the file, the JSON pointer and the reason, like any other fixture. Templates (`{{data.args.content}}`) are parsed
here too, so a connection only renders them. Nothing here knows sockets; `server.py` plays what this reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...contract import documents
from ...contract.documents import DocumentError, escape
from ...contract.spec import Spec
from .template import Template, TemplateError, compile_value

SUFFIXES = documents.SUFFIXES
MAX_EVENTS = 10_000
MAX_DELAY_MS = 600_000
FAULTS = ("disconnect", "drop", "error")  # server DISCONNECT packet | transport closed | CONNECT_ERROR at handshake
# Names socket.io clients keep for themselves: an event by one of these names would never reach application code
RESERVED = frozenset({"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"})
_TOP = {"stream", "path", "operation", "match", "state", "resume", "events", "on"}
_EVENT = {"event", "data", "delay_ms"}
_FAULT = {"fault", "message", "delay_ms"}
_REPLY = {"when", "emit", "ack"}


# The mock's current answer to a GET operation ("METHOD /path") for these path parameters (None: no JSON answer)
Resource = Callable[[str, dict[str, str]], Any]


@dataclass(frozen=True)
class Emit:
    """One step of a stream or a reply: an event sent to the client, or a fault, after `delay_ms`."""

    event: str  # "" for a fault
    data: Template | None  # None: the event carries no argument
    delay_ms: int
    fault: str = ""
    message: str = ""
    resume_key: int | None = None  # the value of the resume field, when it is a whole number (replay only)


@dataclass(frozen=True)
class Reply:
    """What the server does when the client emits an event whose payload contains `when`."""

    when: Any  # a JSON value the payload must contain (a mapping: those members, recursively); None: any payload
    emit: tuple[Emit, ...]
    ack: Template | None


@dataclass(frozen=True)
class Resume:
    query: str  # the handshake query parameter carrying the last id the client saw
    field: str  # the member of each event's payload holding its id


@dataclass
class Stream:
    name: str
    file: str
    query: dict[str, tuple[str, ...]]  # handshake query parameters that must be present, with one of these values
    events: tuple[Emit, ...]
    on: dict[str, tuple[Reply, ...]]
    resume: Resume | None = None
    operation: str = ""  # the REST operation whose resource this streams ("METHOD /path"), when named
    next_id: int = 0  # one past the largest whole-number id in `events`: where `{{next_id}}` starts
    state: Any = None  # what the operation's current answer must contain for this stream to match (None: no check)
    params: tuple[str, ...] = ()  # the operation's path parameters, read from the handshake query

    @property
    def rank(self) -> tuple[int, int]:
        return len(self.query), 0 if self.state is None else 1

    def matches(self, query: dict[str, list[str]]) -> bool:
        return all(any(v in query.get(name, ()) for v in values) for name, values in self.query.items())

    def reply(self, event: str, data: Any) -> Reply | None:
        """The answer to a client event: the first scripted reply whose `when` the payload contains."""
        return next((r for r in self.on.get(event, ()) if r.when is None or _contains(data, r.when)), None)

    def replay(self, query: dict[str, list[str]]) -> list[Emit]:
        """The steps sent on connect: those the client has not seen yet, by the resume parameter."""
        if self.resume is None:
            return list(self.events)
        seen = _whole((query.get(self.resume.query) or [""])[-1])
        if seen is None:
            return list(self.events)
        return [e for e in self.events if e.resume_key is None or e.resume_key > seen]


@dataclass
class EventStreams:
    path: str  # the handshake path ("/socket.io/")
    streams: list[Stream] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = normal_path(self.path)

    def find(self, query: dict[str, list[str]], resource: Resource | None = None) -> Stream | None:
        """The stream for a handshake: the most specific match (more query parameters, then a `state`), then file
        order. A stream with a `state` matches only when `resource` (the mock's current answer to its operation,
        path parameters taken from the handshake query) contains it; each answer is asked for once."""
        best: Stream | None = None
        answers: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
        for stream in self.streams:
            if not stream.matches(query) or best is not None and stream.rank <= best.rank:
                continue
            if stream.state is not None:
                params = tuple((name, (query.get(name) or [""])[-1]) for name in stream.params)
                if resource is None or not all(v for _, v in params):
                    continue
                key = (stream.operation, params)
                if key not in answers:
                    answers[key] = resource(stream.operation, dict(params))
                if not _contains(answers[key], stream.state):
                    continue
            best = stream
        return best

    def named(self, name: str) -> Stream | None:
        return next((s for s in self.streams if s.name == name), None)


def normal_path(path: str) -> str:
    """`/socket.io`, `socket.io/` and `/socket.io/` are one handshake path: `/socket.io/`."""
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


def is_stream(item: Any) -> bool:
    return isinstance(item, dict) and "stream" in item


def load_streams(folders: str | list[str] | None, spec: Spec | None, path: str = "/socket.io/") -> EventStreams:
    """Every stream fixture under the folder(s), checked against the contract's operations and the handshake path."""
    found = EventStreams(normal_path(path))
    if folders is None:
        return found
    folders = [folders] if isinstance(folders, str) else folders
    for file in [f for folder in folders for f in documents.folder_files(folder)]:
        data = documents.load(str(file))
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            if not is_stream(item):
                continue
            base = f"/{i}" if isinstance(data, list) else ""
            stream = parse_stream(item, str(file), base, spec, found.path)
            other = found.named(stream.name)
            if other is not None:
                raise DocumentError(stream.file, f"{base}/stream", f"stream name {stream.name!r} is already used "
                                    f"by {other.file}")  # fmt: skip
            found.streams.append(stream)
    return found


def parse_stream(item: dict[str, Any], file: str, base: str, spec: Spec | None, path: str) -> Stream:
    if True in item and "on" not in item:  # YAML 1.1 reads an unquoted `on:` key as the boolean true
        item = {("on" if k is True else k): v for k, v in item.items()}
    unknown = set(item) - _TOP
    if unknown:
        raise DocumentError(file, f"{base}/{escape(str(sorted(unknown, key=str)[0]))}",
                            f"unknown key; a stream fixture has {', '.join(sorted(_TOP))}")  # fmt: skip
    name = item["stream"]
    if not isinstance(name, str) or not name.strip():
        raise DocumentError(file, f"{base}/stream", "must be the stream's name (a non-empty string)")
    wanted = item.get("path", path)
    if not isinstance(wanted, str) or normal_path(wanted) != path:
        raise DocumentError(file, f"{base}/path", f"unknown handshake path {wanted!r}: this server answers "
                            f"socket.io at {path} (--socketio-path)")  # fmt: skip
    match = _mapping(item.get("match"), file, f"{base}/match")
    for key in match:
        if key != "query":
            raise DocumentError(file, f"{base}/match/{escape(str(key))}", "unknown key; a stream matches `query`")
    query = _alternatives(match.get("query"), file, f"{base}/match/query")
    operation = _operation(item, query, file, base, spec)
    resume = _resume(item.get("resume"), file, f"{base}/resume")
    raw = item.get("events")
    if not isinstance(raw, list) or len(raw) > MAX_EVENTS:
        raise DocumentError(file, f"{base}/events", f"required: a list of at most {MAX_EVENTS} events")
    events = tuple(_emit(e, file, f"{base}/events/{i}", resume, replay=True) for i, e in enumerate(raw))
    on = _on(item.get("on"), file, f"{base}/on", resume)
    keys = [e.resume_key for e in events if e.resume_key is not None]
    state, params = _state(item, operation, file, base, spec)
    return Stream(name.strip(), file, query, events, on, resume, operation, max(keys) + 1 if keys else 0, state,
                  params)  # fmt: skip


def _state(item: dict[str, Any], operation: str, file: str, base: str,
           spec: Spec | None) -> tuple[Any, tuple[str, ...]]:  # fmt: skip
    """`state:` what the operation's answer must contain now (a conversation's `status: RUNNING`, say): the stream
    follows the resource through --stateful transitions. Needs a GET `operation`."""
    if "state" not in item:
        return None, ()
    op = spec.find(operation) if spec is not None and operation else None
    if op is None or op.method != "GET":
        raise DocumentError(file, f"{base}/state", "needs `operation:` naming a GET of the contract: the resource "
                            "whose current answer it matches")  # fmt: skip
    state = item["state"]
    if not isinstance(state, dict) or not state:
        raise DocumentError(file, f"{base}/state", "must be a mapping of members the answer must hold")
    return state, tuple(p.name for p in op.parameters if p.location == "path")


def _operation(item: dict[str, Any], query: dict[str, tuple[str, ...]], file: str, base: str, spec: Spec | None) -> str:
    """The REST operation a stream belongs to, when it names one: its match keys must be that operation's
    parameters (the conversation id of `GET /conversations/{id}`, say), so a renamed parameter is caught here."""
    if "operation" not in item:
        return ""
    name = item["operation"]
    op = spec.find(name.strip()) if spec is not None and isinstance(name, str) else None
    if op is None:
        offered = ", ".join(o.key for o in spec.operations[:10]) if spec is not None else "no contract"
        raise DocumentError(file, f"{base}/operation", f"no operation {name!r} in the contract (it has: {offered})")
    declared = {p.name for p in op.parameters if p.location in ("path", "query")}
    for key in query:
        if key not in declared:
            reason = f"{op.key} has no path or query parameter {key!r} (it has: {sorted(declared)})"
            raise DocumentError(file, f"{base}/match/query/{escape(key)}", reason)
    return op.key


def _resume(raw: Any, file: str, where: str) -> Resume | None:
    if raw is None:
        return None
    spec = _mapping(raw, file, where)
    if set(spec) - {"query", "field"} or not all(isinstance(spec.get(k), str) and spec[k] for k in ("query", "field")):
        raise DocumentError(file, where, "must be {query: PARAMETER, field: MEMBER}: the handshake parameter with the "
                            "last id the client saw, and the member of each event's data holding its id")  # fmt: skip
    return Resume(spec["query"], spec["field"])


def _emit(raw: Any, file: str, where: str, resume: Resume | None, replay: bool) -> Emit:
    step = _mapping(raw, file, where, "an event")
    delay = step.get("delay_ms", 0)
    if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_MS:
        raise DocumentError(file, f"{where}/delay_ms", f"must be a whole number of milliseconds (0..{MAX_DELAY_MS})")
    if "fault" in step:
        _known(step, _FAULT, file, where, "a fault step")
        fault = step["fault"]
        if fault not in FAULTS or (fault == "error" and not replay):
            allowed = FAULTS if replay else tuple(f for f in FAULTS if f != "error")
            raise DocumentError(file, f"{where}/fault", f"must be one of {', '.join(allowed)}, got {fault!r}")
        if fault == "error" and where.rsplit("/", 1)[-1] != "0":
            raise DocumentError(file, f"{where}/fault", "an error refuses the handshake: only the first step")
        message = step.get("message", "")
        if not isinstance(message, str):
            raise DocumentError(file, f"{where}/message", "must be a string")
        return Emit("", None, delay, fault, message)
    _known(step, _EVENT, file, where, "an event")
    event = step.get("event")
    if not isinstance(event, str) or not event or len(event) > 200:
        raise DocumentError(file, f"{where}/event", "required: the socket.io event name (a non-empty string)")
    if event in RESERVED:
        raise DocumentError(file, f"{where}/event", f"{event!r} is reserved by socket.io clients")
    data = _template(step["data"], file, f"{where}/data") if "data" in step else None
    key = None
    if replay and resume is not None and data is not None and isinstance(step["data"], dict):
        key = _whole(step["data"].get(resume.field))
    return Emit(event, data, delay, resume_key=key)


def _on(raw: Any, file: str, where: str, resume: Resume | None) -> dict[str, tuple[Reply, ...]]:
    out: dict[str, tuple[Reply, ...]] = {}
    for event, replies in _mapping(raw, file, where).items():
        at = f"{where}/{escape(str(event))}"
        if str(event) in RESERVED:
            raise DocumentError(file, at, f"{event!r} is reserved by socket.io: a client never emits it")
        items = replies if isinstance(replies, list) else [replies]
        parsed = []
        for i, reply in enumerate(items):
            spot = f"{at}/{i}" if isinstance(replies, list) else at
            body = _mapping(reply, file, spot, "a reply")
            _known(body, _REPLY, file, spot, "a reply")
            emit = body.get("emit", [])
            if not isinstance(emit, list) or len(emit) > MAX_EVENTS:
                raise DocumentError(file, f"{spot}/emit", f"must be a list of at most {MAX_EVENTS} events")
            steps = tuple(_emit(e, file, f"{spot}/emit/{j}", resume, replay=False) for j, e in enumerate(emit))
            ack = _template(body["ack"], file, f"{spot}/ack") if "ack" in body else None
            parsed.append(Reply(body.get("when"), steps, ack))
        out[str(event)] = tuple(parsed)
    return out


def _template(value: Any, file: str, where: str) -> Template:
    try:
        return compile_value(value)
    except TemplateError as exc:
        raise DocumentError(file, where + exc.pointer, exc.reason) from None


def _known(item: dict[str, Any], allowed: set[str], file: str, where: str, what: str) -> None:
    unknown = set(item) - allowed
    if unknown:
        raise DocumentError(file, f"{where}/{escape(str(sorted(unknown, key=str)[0]))}",
                            f"unknown key for {what}; expected {', '.join(sorted(allowed))}")  # fmt: skip


def _mapping(value: Any, file: str, where: str, what: str = "this") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DocumentError(file, where or "/", f"{what} must be a mapping")
    return value


def _strings(value: Any, file: str, where: str) -> dict[str, str]:
    out = {}
    for key, item in _mapping(value, file, where).items():
        if isinstance(item, (dict, list)) or item is None:
            raise DocumentError(file, f"{where}/{escape(str(key))}", "must be a string, number or boolean")
        out[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
    return out


def _alternatives(value: Any, file: str, where: str) -> dict[str, tuple[str, ...]]:
    """`{name: value}` or `{name: [value, value]}` (any of them): one stream for several ids."""
    out = {}
    for key, item in _mapping(value, file, where).items():
        items = item if isinstance(item, list) and item else [item]
        if len(items) > 1000:
            raise DocumentError(file, f"{where}/{escape(str(key))}", "at most 1000 alternatives")
        out[str(key)] = tuple(_strings({key: v}, file, where)[str(key)] for v in items)
    return out


def _contains(value: Any, wanted: Any) -> bool:
    """Whether `value` has everything `wanted` has: the same members (recursively) for a mapping, else equal."""
    if isinstance(wanted, dict):
        return isinstance(value, dict) and all(k in value and _contains(value[k], v) for k, v in wanted.items())
    return bool(value == wanted)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
