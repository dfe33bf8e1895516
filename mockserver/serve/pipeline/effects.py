"""What a request does to the world (`--stateful`), declared in a fixture's `state:` section: fields set on the item
the request names at once (`set`), and later steps (`then`), each `after_ms` after the one before, applied when the
item is next read. `POST /things/{id}/start` can so move a thing STOPPED -> STARTING -> RUNNING.

    state:
      set: {status: STARTING, last_updated_at: "{{now}}"}
      then:
        - {after_ms: 1500, set: {status: RUNNING, url: "/things/{{path.id}}"}}

Values are templates (serve/events/template.py): `{{path.NAME}}` a path parameter, `{{query.NAME}}`, `{{body.PATH}}`
the request's JSON body, `{{item.PATH}}` the item before the change, `{{now}}` the time a step takes effect.

Rules: checked at load (file, pointer, reason); pending steps live in the store beside the items (replicas agree),
keyed by item id, so that a later action replaces the steps an earlier one left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ...contract.documents import DocumentError, escape
from ..events.template import Template, TemplateError, compile_value

ROOTS = ("path", "query", "body", "item")
MAX_STEPS = 100
MAX_AFTER_MS = 24 * 3600 * 1000
PENDING = "#pending"  # suffix of the store collection that holds an item's steps still to come


@dataclass(frozen=True)
class Step:
    after_ms: int
    values: Template  # a mapping: field -> value


@dataclass(frozen=True)
class Effect:
    now: Template | None  # the fields set at once
    then: tuple[Step, ...]


def parse(value: Any, file: str, where: str) -> Effect:
    if not isinstance(value, dict):
        raise DocumentError(file, where, "must be a mapping with `set` and/or `then`")
    unknown = set(value) - {"set", "then"}
    if unknown:
        raise DocumentError(file, f"{where}/{escape(sorted(unknown)[0])}", "unknown key; expected set or then")
    now = _fields(value["set"], file, f"{where}/set") if "set" in value else None
    raw_then = value.get("then", [])
    if not isinstance(raw_then, list) or len(raw_then) > MAX_STEPS:
        raise DocumentError(file, f"{where}/then", f"must be a list of at most {MAX_STEPS} steps")
    steps = []
    for i, step in enumerate(raw_then):
        at = f"{where}/then/{i}"
        if not isinstance(step, dict) or set(step) - {"after_ms", "set"} or "set" not in step:
            raise DocumentError(file, at, "a step is {after_ms: N, set: {FIELD: VALUE, ...}}")
        after = step.get("after_ms", 0)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_AFTER_MS:
            raise DocumentError(file, f"{at}/after_ms", f"must be an integer from 0 to {MAX_AFTER_MS}")
        steps.append(Step(after, _fields(step["set"], file, f"{at}/set")))
    if now is None and not steps:
        raise DocumentError(file, where, "sets nothing: give `set` or `then`")
    return Effect(now, tuple(steps))


def _fields(value: Any, file: str, where: str) -> Template:
    if not isinstance(value, dict) or not value:
        raise DocumentError(file, where, "must be a non-empty mapping of field names to values")
    try:
        return compile_value(value, where, ROOTS)
    except TemplateError as error:
        raise DocumentError(file, error.pointer, error.reason) from None


def stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def render(template: Template, scope: dict[str, Any], moment: float) -> dict[str, Any]:
    """The fields of a step, `{{now}}` being the moment it takes effect (not the moment it is read)."""
    values = template.render({**scope, "now": stamp(moment)}) if template.dynamic else template.value
    return dict(values) if isinstance(values, dict) else {}


def schedule(effect: Effect, scope: dict[str, Any], start: float | None = None) -> list[dict[str, Any]]:
    """The steps to come, as stored: each with the moment it is due (seconds) and its scope."""
    moment = time.time() if start is None else start
    out = []
    for i, step in enumerate(effect.then):
        moment += step.after_ms / 1000
        out.append({"due": moment, "step": i})
    return out
