"""diff/ stands on contract/ alone: both products use it (`mockserver diff`, `check --compare-contract`)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "mockserver"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = ["mockserver", *path.relative_to(PACKAGE).parts[:-1]][: -(node.level - 1) or None]
            found.add(".".join([*base, *([node.module] if node.module else [])]))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_diff_imports_only_the_contract_package():
    ours = {m for path in (PACKAGE / "diff").glob("*.py") for m in _imports(path) if m.startswith("mockserver")}
    assert ours and all(m.startswith(("mockserver.contract", "mockserver.diff")) for m in ours), ours
