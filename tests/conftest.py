"""Shared fixtures: an in-process client factory (Starlette's TestClient, no sockets)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from mockserver.config import Config
from mockserver.serve.app import create_app


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
