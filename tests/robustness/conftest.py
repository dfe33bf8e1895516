"""Fixtures of the robustness suite, and the counts it prints at the end of every run (`make test` included)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import COUNTS, Driver


@pytest.fixture(scope="session")
def call() -> Iterator[Driver]:
    """`call(app, method, raw_path, query, headers, body)`: one raw ASGI request, answered or failed within 15 s."""
    driver = Driver()
    yield driver
    driver.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS:
        terminalreporter.section("robustness: counts")
        for line in COUNTS:
            terminalreporter.write_line(line)
