"""Fixtures of the robustness suite. The counts it prints at the end of every run (`make test` included) are printed by
tests/conftest.py, which also gathers them from pytest-xdist's workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import Driver


@pytest.fixture(scope="session")
def call() -> Iterator[Driver]:
    """`call(app, method, raw_path, query, headers, body)`: one raw ASGI request, answered or failed within 15 s."""
    driver = Driver()
    yield driver
    driver.close()
