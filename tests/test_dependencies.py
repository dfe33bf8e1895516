"""Every distribution mockserver/ imports is declared in pyproject.toml (a dependency or an extra), even one another
dependency pulls in today (watchfiles comes with uvicorn[standard], requests with Schemathesis): a package that
stops pulling it in must not break an install."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", r).group(0)) for r in requirements}  # type: ignore[union-attr]


def imported() -> dict[str, set[str]]:
    """Top-level names of the third-party modules mockserver/ imports (also inside functions), and where."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "mockserver").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "mockserver" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_distribution_is_declared() -> None:
    wanted, distributions = declared(), packages_distributions()
    missing = []
    for module, files in sorted(imported().items()):
        names = distributions.get(module)
        if not names:
            missing.append(f"{module} (imported by {', '.join(sorted(files))}) is not installed")
        elif not {_canonical(n) for n in names} & wanted:
            missing.append(f"{module} (distribution {names[0]}, imported by {', '.join(sorted(files))})")
    assert not missing, "imported but not declared in pyproject.toml: " + "; ".join(missing)


def test_the_scan_sees_imports_inside_functions() -> None:
    # watch.py imports watchfiles lazily: the scan must see it, or the test above proves nothing
    found = imported()
    assert "mockserver/serve/watch.py" in found["watchfiles"]
    assert "yaml" in found and "os" not in found and "mockserver" not in found
