"""What the mock remembers between requests: stateful collections, runtime overrides, sequence positions, the
journal and the rate-limit window, behind small protocols (overrides, sequences, collections, journal; `Store` is
all of them) with two implementations. Callers ask a store's capabilities (`shared`, `raw_entries`), never its class.

Rules: `MemoryStore` (the default) lives in one process; `RedisStore` (`--state-url redis://HOST:PORT/DB`) is shared
by every replica, so `--workers N` or several machines agree. Values cross the interface as JSON-able dicts; every
read-modify-write that replicas could race on is one Redis command or one Lua script. The store never decides
anything (which override applies, what an item looks like): it only keeps. Sizes are bounded by the caller's limits.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

PREFIX = "mockserver:"
MAX_POSITIONS = 100_000  # sequence identities remembered (a sequence matching every id meets every id)


class StateError(RuntimeError):
    """The shared store cannot be reached or refused a command (the message never holds a password)."""


class OverrideStore(Protocol):
    """Runtime overrides: (version, items oldest first); the version changes whenever the set of overrides does."""

    def overrides_version(self) -> int: ...
    def overrides(self) -> tuple[int, list[dict[str, Any]]]: ...
    def add_override(self, item: dict[str, Any]) -> dict[str, Any]: ...
    def remove_overrides(self, override_id: str | None) -> int: ...
    def use_override(self, override_id: str) -> bool: ...


class SequenceStore(Protocol):
    def advance(self, key: str) -> int: ...  # how many times this identity was served before (0 the first time)


class CollectionStore(Protocol):
    """--stateful's items, per collection, the newest `limit` kept."""

    def seed(self, collection: str, items: list[tuple[str, dict[str, Any]]], limit: int) -> None: ...
    def next_number(self, collection: str) -> int: ...
    def get(self, collection: str, item_id: str) -> dict[str, Any] | None: ...
    def put(self, collection: str, item_id: str, item: dict[str, Any], limit: int) -> None: ...
    def delete(self, collection: str, item_id: str) -> bool: ...
    def items(self, collection: str) -> list[dict[str, Any]]: ...


class JournalStore(Protocol):
    """Entries oldest first, at most `capacity` kept; `total` counts every one ever recorded. `raw_entries`: the
    store keeps what it is given (the journal's tuples, rendered when read); False: it needs JSON-able dicts."""

    raw_entries: bool

    def record(self, entry: Any) -> None: ...
    def journal(self, limit: int | None = None) -> tuple[int, list[Any]]: ...
    def clear_journal(self) -> None: ...
    def keep_journal(self, entries: list[Any]) -> None: ...  # only these (as `journal()` gave them); total unchanged


class Store(OverrideStore, SequenceStore, CollectionStore, JournalStore, Protocol):
    """Everything a server keeps. A new backend implements these protocols; tests/serve/test_state.py runs the same
    tests on every backend."""

    shared: bool  # True when other processes see the same state

    def hit(self, window: int) -> int: ...  # requests counted in this rate-limit window, this one included
    def reset(self) -> None: ...  # state, overrides, sequence positions and journal
    def close(self) -> None: ...


class MemoryStore:
    shared = False
    raw_entries = True

    def __init__(self, journal_size: int) -> None:
        self.capacity = journal_size
        self.entries: deque[Any] = deque(maxlen=journal_size)
        self.total = 0
        self._overrides: dict[str, dict[str, Any]] = {}
        self._left: dict[str, int] = {}
        self.version = 0
        # asked on every request: `getattr(self, "version")` in C, without a Python frame
        self.overrides_version: Callable[[], int] = functools.partial(getattr, self, "version")
        self._next_override = 0
        self._positions: dict[str, int] = {}
        self._collections: dict[str, dict[str, dict[str, Any]]] = {}
        self._numbers: dict[str, int] = {}
        self._seeded: set[str] = set()
        self._window = (0, 0)

    def overrides(self) -> tuple[int, list[dict[str, Any]]]:
        if not self._overrides:
            return self.version, []
        return self.version, [{**item, "left": self._left.get(key)} for key, item in self._overrides.items()]

    def add_override(self, item: dict[str, Any]) -> dict[str, Any]:
        self._next_override += 1
        key = str(self._next_override)
        item = {**item, "id": key}
        self._overrides[key] = item
        if item.get("times") is not None:
            self._left[key] = int(item["times"])
        self.version += 1
        return {**item, "left": self._left.get(key)}

    def remove_overrides(self, override_id: str | None) -> int:
        if override_id is None:
            count = len(self._overrides)
            self._overrides.clear()
            self._left.clear()
        else:
            count = 1 if self._overrides.pop(override_id, None) is not None else 0
            self._left.pop(override_id, None)
        self.version += 1
        return count

    def use_override(self, override_id: str) -> bool:
        if override_id not in self._overrides:
            return False
        left = self._left.get(override_id)
        if left is None:
            return True
        if left <= 1:
            self.remove_overrides(override_id)
        else:
            self._left[override_id] = left - 1
        return True

    def advance(self, key: str) -> int:
        seen = self._positions.get(key, 0)
        if len(self._positions) >= MAX_POSITIONS and key not in self._positions:  # bounded whatever ids come in
            self._positions.pop(next(iter(self._positions)))
        self._positions[key] = seen + 1
        return seen

    def seed(self, collection: str, items: list[tuple[str, dict[str, Any]]], limit: int) -> None:
        if collection in self._seeded:
            return
        self._seeded.add(collection)
        for item_id, item in items:
            self.put(collection, item_id, item, limit)

    def next_number(self, collection: str) -> int:
        self._numbers[collection] = self._numbers.get(collection, 0) + 1
        return self._numbers[collection]

    def get(self, collection: str, item_id: str) -> dict[str, Any] | None:
        return self._collections.get(collection, {}).get(item_id)

    def put(self, collection: str, item_id: str, item: dict[str, Any], limit: int) -> None:
        items = self._collections.setdefault(collection, {})
        items[item_id] = item  # an existing id keeps its place
        while len(items) > limit:
            del items[next(iter(items))]

    def delete(self, collection: str, item_id: str) -> bool:
        return self._collections.get(collection, {}).pop(item_id, None) is not None

    def items(self, collection: str) -> list[dict[str, Any]]:
        return list(self._collections.get(collection, {}).values())

    def record(self, entry: Any) -> None:
        self.total += 1
        if self.capacity:
            self.entries.append(entry)

    def journal(self, limit: int | None = None) -> tuple[int, list[Any]]:
        if limit is not None and limit <= 0:
            return self.total, []
        entries = list(self.entries)
        if limit is not None:
            entries = entries[-limit:] if limit > 0 else []
        return self.total, entries

    def clear_journal(self) -> None:
        self.entries.clear()

    def keep_journal(self, entries: list[Any]) -> None:
        self.entries = deque(entries, maxlen=self.capacity)

    def hit(self, window: int) -> int:
        count = self._window[1] + 1 if self._window[0] == window else 1
        self._window = (window, count)
        return count

    def reset(self) -> None:
        self.entries.clear()
        self.total = 0
        self.remove_overrides(None)
        self._positions.clear()
        self._collections.clear()
        self._numbers.clear()
        self._seeded.clear()

    def close(self) -> None:
        return None


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def open_store(url: str | None, journal_size: int) -> Store:
    """The store a config names: Redis for a `redis://` URL, else memory. Raises `StateError` when unreachable."""
    if url:
        from .redis_store import RedisStore  # the Redis client loads only for a shared store

        return RedisStore(url, journal_size)
    return MemoryStore(journal_size)
