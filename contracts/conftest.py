"""The contract suite's options and target: `pytest contracts --base-url URL` (or CONTRACT_BASE_URL) checks a
running server; with neither, the built-in mock runs in this process on a loopback port, so `make test` needs no
network. The API key comes from MOCKSERVER_API_KEY only (a command-line flag would show in `ps` and CI logs), and
must be long enough to be kept out of reports. Read-only like `mockserver check`: operations other than
GET/HEAD/OPTIONS are skipped unless --allow-unsafe-methods (or CONTRACT_ALLOW_UNSAFE_METHODS=1). Needs nothing but
pytest and mockserver (contracts/pytest.ini is its whole configuration).
`--shard I/N` keeps this CI job's share of the operations (the partition `mockserver check --shard` uses).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mockserver.check import merge, shards


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract suite (contracts/)")
    group.addoption(
        "--base-url", default=None, help="server to check (default: $CONTRACT_BASE_URL, else the built-in mock)"
    )
    group.addoption(
        "--contract-spec", default=None, help="OpenAPI file or URL (default: $CONTRACT_SPEC, else built-in)"
    )
    group.addoption("--max-examples", type=int, default=20, help="generated cases per operation and phase")
    group.addoption("--seed", type=int, default=None, help="seed, to repeat a run exactly")
    group.addoption("--request-timeout", type=float, default=10.0, help="seconds for one complete answer")
    group.addoption(
        "--allow-unsafe-methods",
        action="store_true",
        default=False,
        help="also test operations that are not GET/HEAD/OPTIONS (default: $CONTRACT_ALLOW_UNSAFE_METHODS): for "
        "disposable test servers only",
    )
    group.addoption(
        "--shard",
        type=shards.argument,
        default=None,
        metavar="I/N",
        help="run only shard I of N (1-based): the same partition of the operations as `mockserver check --shard`",
    )


@pytest.fixture(scope="session", autouse=True)
def _suite_properties(pytestconfig: pytest.Config, record_testsuite_property: Any) -> None:
    """What `mockserver report merge` reads from a shard's --junitxml: which shard, and the seed."""
    shard = pytestconfig.getoption("--shard")
    if shard is not None:
        record_testsuite_property(merge.SHARD, str(shard))
    seed = pytestconfig.getoption("--seed")
    if seed is not None:
        record_testsuite_property(merge.SEED, str(seed))


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--base-url", None) or os.environ.get("CONTRACT_BASE_URL"):
        from mockserver.check.reporting import key_problem

        problem = key_problem(os.environ.get("MOCKSERVER_API_KEY") or None)
        if problem:
            raise pytest.UsageError(problem)


@dataclass
class Target:
    base_url: str
    api_key: str | None
    spec: str | None


def contract_spec(config: pytest.Config) -> str | None:
    return config.getoption("--contract-spec") or os.environ.get("CONTRACT_SPEC") or None


@pytest.fixture(scope="session")
def contract_target(pytestconfig: pytest.Config) -> Iterator[Target]:
    spec = contract_spec(pytestconfig)
    base_url = pytestconfig.getoption("--base-url") or os.environ.get("CONTRACT_BASE_URL")
    if base_url:
        yield Target(base_url, os.environ.get("MOCKSERVER_API_KEY") or None, spec)
        return
    # No server given: our own mock, in process, with a throwaway key so auth is enforced and checked
    import uvicorn

    from mockserver.serve.app import create_app
    from mockserver.serve.config import Config

    key = secrets.token_hex(16)
    app = create_app(Config(spec=spec, api_key=key, request_log=False))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield Target(f"http://127.0.0.1:{port}", key, spec)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
