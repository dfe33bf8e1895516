"""`--watch`: the contract, the fixtures and a recorded CORS policy re-read when they change on disk, without a restart.

Rules: a thread per process watches the contract's folder (relative `$ref`s live there) and the fixtures folder with
watchfiles (inotify; 50 ms debounce, so an edit is served well within a second). A change rebuilds the whole core
off the event loop and swaps it in one assignment; items, overrides and the journal are in the store and carry
over. A broken edit prints the same one-line error as start-up and keeps the previous version serving. A contract
given as a URL is not watched. With --stateful, an item seeded from a fixture follows the fixture's edits unless the
API changed it (`reseed`).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, Protocol

from ..contract import documents
from ..contract.documents import DocumentError
from ..contract.mount import mounts
from ..contract.spec import builtin
from .config import Config, ConfigError
from .cors import Cors, load_policy
from .pipeline.core import Mock, build_mock, fixtures_folders
from .pipeline.fixtures import SUFFIXES
from .store import StateError


class Reloadable(Protocol):
    mock: Mock
    cors: Cors | None

    def reload(self, mock: Mock) -> None: ...


def watched(config: Config) -> list[Path]:
    """The folders whose YAML/JSON files make the served contracts (each of them) and fixtures."""
    sources = [m.source if m.source is not None else builtin()[0] for m in mounts(config.spec, config.mount)]
    found = [Path(source).resolve().parent for source in sources if not documents.is_url(source)]
    found.extend(Path(folder).resolve() for folder in fixtures_folders(config))
    unique: list[Path] = []
    for path in found:
        if path.is_dir() and not any(path == p or path.is_relative_to(p) for p in unique):
            unique = [p for p in unique if not p.is_relative_to(path)] + [path]
    return unique


class Watcher(threading.Thread):
    def __init__(self, config: Config, app: Reloadable) -> None:
        super().__init__(name="mockserver-watch", daemon=True)
        self.config = config
        self.app = app
        self.paths = watched(config)
        self.stopping = threading.Event()
        self.reloads = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        if not self.paths:
            return
        from watchfiles import watch

        for changes in watch(*self.paths, stop_event=self.stopping, debounce=50, step=20, watch_filter=_relevant,
                             raise_interrupt=False, rust_timeout=500, yield_on_timeout=False):  # fmt: skip
            if changes:
                self.rebuild()

    def rebuild(self) -> bool:
        """Builds a new core from disk and serves it; on a mistake says why and keeps the old one."""
        try:
            mock = build_mock(self.config, store=self.app.mock.store)
            policy = load_policy(fixtures_folders(self.config))  # the upstream's CORS, recorded (_cors.yaml)
        except (DocumentError, ConfigError) as exc:
            print(f"mockserver serve: error: {exc}", file=sys.stderr, flush=True)  # as the command line says it
            print("mockserver: still serving the previous version", file=sys.stderr, flush=True)
            return False
        except Exception as exc:  # a bug of ours must not stop the watcher
            print(f"mockserver serve: error: reload failed: {exc!r}", file=sys.stderr, flush=True)
            return False
        try:
            reseed(self.app.mock, mock)
        except StateError as exc:  # the shared store is down: the new fixtures serve once it is back and edited again
            print(f"mockserver: error: {exc}", file=sys.stderr, flush=True)
        self.app.reload(mock)
        if self.app.cors is not None:
            self.app.cors = self.app.cors.with_policy(policy)
        self.reloads += 1
        fixtures = sum(len(index.by_name) for index in mock.fixtures.values())
        print(
            f"mockserver: reloaded {mock.spec.source} ({len(mock.spec.operations)} operations, {fixtures} fixtures)",
            file=sys.stderr,
            flush=True,
        )
        return True


def reseed(old: Mock, new: Mock) -> None:
    """--stateful: an item seeded from a fixture follows the fixture's edits (replaced, or removed with its fixture)
    while it is still what the old fixture seeded; an item changed, created or deleted through the API keeps its
    change. A new fixture's item is added unless the API made one with that id."""
    if old.stateful is None or new.stateful is None:
        return
    store, limit = new.store, new.stateful.limit
    for name, seeds in new.stateful.seeds.items():
        before = dict(old.stateful.seeds.get(name, []))
        after = dict(seeds)
        for item_id, item in after.items():
            current = store.get(name, item_id)
            if item_id not in before:
                if current is None:
                    store.put(name, item_id, item, limit)
            elif before[item_id] != item and current == before[item_id]:
                store.put(name, item_id, item, limit)
        for item_id, item in before.items():
            if item_id not in after and store.get(name, item_id) == item:
                store.delete(name, item_id)


def _relevant(change: Any, path: str) -> bool:
    return path.lower().endswith(SUFFIXES)
