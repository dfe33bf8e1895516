"""pyproject.toml's pytest settings name `timeout`, an option of pytest-timeout (a test extra). Without the plugin,
pytest would stop on "Unknown config option: timeout" (warnings are errors here): register it as a no-op instead, so
a plain `pip install . pytest` can still run the suites."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if not pluginmanager.has_plugin("timeout"):
        parser.addini("timeout", "per-test timeout; ignored: pytest-timeout is not installed")
