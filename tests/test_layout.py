"""The import rules of the layout (CONTRIBUTING.md): serve/ and check/ never import each other, only the ASGI adapter
imports Starlette, and a plain `serve` does not import the HTTP client the proxy needs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mockserver"


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_serve_and_check_never_import_each_other():
    for side, other in (("serve", "mockserver.check"), ("check", "mockserver.serve")):
        for path in (PACKAGE / side).glob("*.py"):
            assert not any(name.startswith(other) for name in _imports(path)), f"{path.name} imports {other}"


def test_only_the_adapter_imports_starlette():
    importers = {p.name for p in PACKAGE.rglob("*.py") if any(n.startswith("starlette") for n in _imports(p))}
    assert importers == {"app.py"}


def test_a_plain_serve_does_not_load_the_proxy():
    code = (
        "import sys, mockserver.cli, mockserver.serve.app\n"
        "print('httpx' in sys.modules, 'mockserver.serve.proxy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
