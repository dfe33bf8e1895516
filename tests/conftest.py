"""Shared fixtures: an in-process client factory (Starlette's TestClient, no sockets), and the guard that keeps
`make test-fast` in process: a test not marked `e2e` that starts a process or listens on a socket fails. Also the
robustness suite's counts, printed at the end of every run: `make test` runs under pytest-xdist (`-n`), whose workers
hand theirs to the controller, which prints them all.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator

import httpx
import pytest

from mockserver.serve.app import create_app
from mockserver.serve.config import Config
from tests.support import COUNTS

_FROM_WORKERS = "robustness_counts"  # the key of pytest-xdist's `workeroutput` that carries a worker's COUNTS


@pytest.fixture
def client_factory() -> Iterator[Callable[..., httpx.Client]]:
    """`client_factory(**config)`: a sync httpx client talking to the app in process (no sockets)."""
    from starlette.testclient import TestClient

    clients: list[TestClient] = []

    def make(**options: object) -> TestClient:
        options.setdefault("request_log", False)
        client = TestClient(create_app(Config(**options)), base_url="http://mock")  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(client_factory: Callable[..., httpx.Client]) -> httpx.Client:
    return client_factory()


@pytest.fixture(autouse=True)
def _in_process_unless_e2e(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("e2e") is not None:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(
            f"{request.node.nodeid} starts a process or listens on a socket: mark it @pytest.mark.e2e "
            "(make test-fast runs in process only)"
        )

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    monkeypatch.setattr(socket.socket, "listen", refuse)


# The longest test files (up to a minute or so each), started first: under `make test` (pytest-xdist, --dist worksteal)
# one of these started last would leave the other worker idle while it runs.
FIRST = ("tests/test_bench_smoke.py", "tests/test_ci_recipe.py", "tests/check/test_sharding.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return FIRST.index(module) if module in FIRST else len(FIRST)

    items.sort(key=rank)  # stable: the order kept otherwise


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)  # set in a pytest-xdist worker only
    if workeroutput is not None:
        workeroutput[_FROM_WORKERS] = list(COUNTS)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: the controller, as each worker stops
def pytest_testnodedown(node: object, error: object) -> None:
    COUNTS.extend(getattr(node, "workeroutput", {}).get(_FROM_WORKERS, []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS:
        terminalreporter.section("robustness: counts")
        for line in COUNTS:
            terminalreporter.write_line(line)
