"""Shared fixtures: an in-process client factory (Starlette's TestClient, no sockets), and the guard that keeps
`make test-fast` in process: a test not marked `e2e` that starts a process or listens on a socket fails.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator

import httpx
import pytest

from mockserver.serve.app import create_app
from mockserver.serve.config import Config


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
