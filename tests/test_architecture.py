"""The architecture rules of the package, as assertions on its source text: each concept in one room, the two
products apart, library internals in one module (CONTRIBUTING.md, "The layout")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mockserver"
SOURCES = {path.relative_to(PACKAGE).as_posix(): path.read_text() for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """Absolute names of the modules a source file imports (relative imports resolved)."""
    package = ["mockserver", *name.split("/")[:-1]]
    found = set()
    for node in ast.walk(ast.parse(SOURCES[name])):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}  # `from . import engine`
    return found


def files_where(pattern: str, flags: int = 0) -> set[str]:
    return {name for name, text in SOURCES.items() if re.search(pattern, text, flags)}


def importing(prefix: str) -> set[str]:
    return {name for name in SOURCES if any(m == prefix or m.startswith(prefix + ".") for m in imports(name))}


def test_the_sources_are_there():
    assert {"serve/app.py", "check/engine.py", "contract/security.py", "cli.py"} <= set(SOURCES)
    assert "mockserver.check.engine" in imports("check/reporting.py")  # the resolver itself works


def test_security_schemes_are_read_only_in_contract():
    assert {n for n in files_where(r"securitySchemes") if not n.startswith("contract/")} == set()


def test_schemathesis_is_known_only_in_check():
    assert {n for n in files_where(r"schemathesis", re.I) if not n.startswith("check/")} == set()


def test_only_engine_imports_schemathesis():
    assert importing("schemathesis") == {"check/engine.py"}


def test_only_engine_touches_private_names_in_check():
    assert {n for n in files_where(r"\._[a-z]") if n.startswith("check/")} <= {"check/engine.py"}


def test_only_the_adapter_imports_starlette():
    assert importing("starlette") == {"serve/app.py"}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("serve", "mockserver.check"), ("check", "mockserver.serve"), ("contract", "mockserver.serve"),
     ("contract", "mockserver.check"), ("contract", "mockserver.cli"), ("contract", "mockserver.config"),
     ("serve", "mockserver.cli"), ("check", "mockserver.cli")],
)  # fmt: skip
def test_imports_go_down_the_layers(package, forbidden):
    assert {n for n in importing(forbidden) if n.startswith(package + "/")} == set()


def test_nothing_in_the_package_knows_openhands():
    assert files_where(r"openhands", re.I) == set()


def test_a_plain_serve_does_not_load_the_proxy():
    """httpx costs a `serve` start 50-250 ms: the forwarding modules are imported only when there is an upstream."""
    for name in ("serve/app.py", "cli.py", "serve/mock.py"):
        top = ast.parse(SOURCES[name]).body  # module level only: imports inside functions or TYPE_CHECKING are lazy
        module_level = {n.module or "" for n in top if isinstance(n, ast.ImportFrom)}
        module_level |= {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.endswith("proxy") or m.startswith("httpx") for m in module_level), name
    assert importing("httpx") <= {"serve/proxy.py", "contract/documents.py"}
