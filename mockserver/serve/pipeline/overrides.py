"""Runtime overrides (`POST /__mock/overrides`): "answer this operation (for these parameters) as if the request had
said `Prefer: ...`", for every matching request or the next N.

Rules: an override is checked once, when it is added (operation, parameters and `prefer` against the contract and
the Prefer parser), so a request only matches and merges. Kept in the store as JSON (shared by replicas with
Redis); `Overrides` caches the parsed form per store version. The most specific override wins (more parameters),
then the newest. An override applies after security and validation, and its preferences win over the request's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...contract.spec import Spec
from ..store import OverrideStore
from .preferences import Preferences, PreferError, parse_prefer

MAX_OVERRIDES = 1000


class OverrideError(ValueError):
    """A bad override: `field` names the member of the JSON body at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Override:
    id: str
    operation: str  # "METHOD /path"
    params: tuple[tuple[str, str], ...]
    prefer: str
    prefs: Preferences
    times: int | None

    def matches(self, path: dict[str, str], query: dict[str, list[str]]) -> bool:
        for name, value in self.params:
            if path.get(name, None) != value and value not in query.get(name, ()):
                return False
        return True


def check(body: Any, spec: Spec, max_delay_ms: int) -> dict[str, Any]:
    """The JSON of a new override, checked and normalised; raises `OverrideError`."""
    if not isinstance(body, dict):
        raise OverrideError("(body)", 'expected a JSON object like {"operation": "GET /path", "prefer": "code=500"}')
    unknown = set(body) - {"operation", "params", "prefer", "times"}
    if unknown:
        raise OverrideError(sorted(unknown)[0], "unknown member; expected operation, params, prefer, times")
    name = body.get("operation")
    if not isinstance(name, str) or not name.strip():
        raise OverrideError("operation", "required: 'METHOD /path' or an operationId")
    op = spec.find(name.strip())
    if op is None:
        offered = ", ".join(o.key for o in spec.operations[:20])
        raise OverrideError("operation", f"no operation {name[:200]!r} in the contract (it has: {offered})")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise OverrideError("params", "must be an object of parameter names to values")
    declared = {p.name for p in op.parameters if p.location in ("path", "query")}
    clean: dict[str, str] = {}
    for key, value in params.items():
        if key not in declared:
            raise OverrideError(
                f"params.{key}", f"{op.key} has no path or query parameter {key!r} (it has: {sorted(declared)})"
            )
        if isinstance(value, (dict, list)) or value is None:
            raise OverrideError(f"params.{key}", "must be a string, number or boolean")
        clean[key] = str(value).lower() if isinstance(value, bool) else str(value)
    prefer = body.get("prefer", "")
    if not isinstance(prefer, str) or not prefer.strip():
        raise OverrideError("prefer", 'required: preferences as in the Prefer header, e.g. "code=500, delay=300"')
    try:
        prefs = parse_prefer(prefer, max_delay_ms)
    except PreferError as exc:
        raise OverrideError("prefer", str(exc)) from None
    if prefs == Preferences():
        raise OverrideError("prefer", "names no known preference (code, example, dynamic, branch, delay)")
    times = body.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 1_000_000):
        raise OverrideError("times", "must be a whole number >= 1 (leave it out: until removed)")
    return {"operation": op.key, "params": clean, "prefer": prefer.strip(), "times": times}


class Overrides:
    """The store's overrides, parsed once per version; `find` is what a request costs (nothing when there are none)."""

    def __init__(self, store: OverrideStore, max_delay_ms: int) -> None:
        self.store = store
        self.max_delay_ms = max_delay_ms
        self.version = -1
        self.by_operation: dict[str, list[Override]] = {}
        self._version = store.overrides_version  # bound once: the request path without overrides is this call

    def refresh(self) -> bool:
        """Reads the store (one round trip with Redis); True when any override is active."""
        if self._version() == self.version:  # Redis: one GET, the items only when they changed
            return bool(self.by_operation)
        version, items = self.store.overrides()
        if version != self.version:
            self.version = version
            self.by_operation = {}
            for item in items:
                try:
                    prefs = parse_prefer(item["prefer"], self.max_delay_ms)
                except (PreferError, KeyError):
                    continue
                found = Override(
                    str(item["id"]), item["operation"], tuple(sorted(item.get("params", {}).items())),
                    item["prefer"], prefs, item.get("times"),
                )  # fmt: skip
                self.by_operation.setdefault(found.operation, []).append(found)
            for found_list in self.by_operation.values():
                found_list.sort(key=lambda o: (len(o.params), int(o.id) if o.id.isdigit() else 0), reverse=True)
        return bool(self.by_operation)

    def find(self, operation: str, path: dict[str, str], query: dict[str, list[str]]) -> Override | None:
        """The override for a request, counting one use of it (an override whose uses ran out is skipped)."""
        for override in self.by_operation.get(operation, ()):
            if override.matches(path, query) and self.store.use_override(override.id):
                return override
        return None
