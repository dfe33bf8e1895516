"""The architecture rules of the package, as assertions on its source text: each concept in one room, the two
products apart, library internals in one package (CONTRIBUTING.md, "The layout"). Each rule fails outright,
naming the modules that break it."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mockserver"
SOURCES = {path.relative_to(PACKAGE).as_posix(): path.read_text() for path in sorted(PACKAGE.rglob("*.py"))}
MAX_LINES = 400


@functools.cache  # each rule asks about every module: parse each once
def imports(name: str) -> frozenset[str]:
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
    return frozenset(found)


def files_where(pattern: str, flags: int = 0) -> set[str]:
    return {name for name, text in SOURCES.items() if re.search(pattern, text, flags)}


def importing(prefix: str) -> set[str]:
    return {name for name in SOURCES if any(m == prefix or m.startswith(prefix + ".") for m in imports(name))}


def held(broken: set[str], rule: str) -> None:
    """Fail, naming the modules, when any module breaks the rule."""
    assert not broken, f"{rule}: broken in {', '.join(sorted(broken))}"


def test_the_sources_are_there():
    assert {"serve/app.py", "check/engine/__init__.py", "contract/security.py", "contract/routing.py",
            "contract/verdicts.py", "cli.py"} <= set(SOURCES)  # fmt: skip
    assert "mockserver.check.engine" in imports("check/conformance.py")  # the resolver itself works
    assert "mockserver.check.engine.events" in imports("check/rules.py")


def test_security_schemes_are_read_only_in_contract():
    assert {n for n in files_where(r"securitySchemes") if not n.startswith("contract/")} == set()


def test_schemathesis_is_known_only_in_check():
    assert {n for n in files_where(r"schemathesis", re.I) if not n.startswith("check/")} == set()


def test_only_the_engine_imports_schemathesis():
    assert importing("schemathesis") and all(n.startswith("check/engine/") for n in importing("schemathesis"))


def test_only_the_engine_touches_private_names_in_check():
    assert {n for n in files_where(r"\._[a-z]") if n.startswith("check/")} <= {
        n for n in SOURCES if n.startswith("check/engine/")
    }


def test_the_router_lives_only_in_contract():
    # Matching a path template means reading its `{name}` parts: only the one router (contract/routing.py) does
    readers = files_where(r"\{\(?\[\^\}\]")
    held({n for n in readers if not n.startswith("contract/")}, "only contract/ matches path templates")
    assert "contract/routing.py" in readers


def test_one_junit_writer():
    writers = files_where(r'Element\((?:[^()"]*,\s*)?"testsuite"')
    held(writers - {"contract/verdicts.py"}, "only contract/verdicts.py writes <testsuite>")


def test_the_forwarding_wing_is_reached_only_from_the_shell_and_the_cli():
    shell = {"serve/app.py", "serve/watch.py", "serve/admin.py", "cli.py"}
    users = {n for n in importing("mockserver.serve.forward") if not n.startswith("serve/forward/")}
    held(users - shell, "serve/forward/ is imported only by serve/app.py, serve/watch.py, serve/admin.py and cli.py")


def test_no_isinstance_on_a_store_class():
    held(files_where(r"isinstance\([^)]*\b\w*Store\b"), "no isinstance on a store class")


@pytest.mark.parametrize("part", ["contract/", "check/", "cli.py", "options.py", "diff/", "serve/"])
def test_no_module_is_over_the_limit(part: str):
    long = {n for n, text in SOURCES.items() if n.startswith(part) and text.count("\n") > MAX_LINES}
    held(long, f"every module at most {MAX_LINES} lines")


def test_starlette_only_in_the_adapter_and_the_admin():
    assert "serve/app.py" in importing("starlette")  # a real part of the serving stack, not one helper
    held(
        importing("starlette") - {"serve/app.py", "serve/admin.py"}, "starlette only in serve/app.py and serve/admin.py"
    )


def test_diff_reads_only_the_contract():
    allowed = ("mockserver.contract", "mockserver.diff")
    outside = {m for n in SOURCES if n.startswith("diff/") for m in imports(n)
               if m.startswith("mockserver.") and not m.startswith(allowed)}  # fmt: skip
    assert outside == set()


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("serve", "mockserver.check"), ("check", "mockserver.serve"), ("contract", "mockserver.serve"),
     ("contract", "mockserver.check"), ("contract", "mockserver.cli"), ("contract", "mockserver.diff"),
     ("serve", "mockserver.cli"), ("check", "mockserver.cli"), ("serve", "mockserver.diff"),
     ("contract", "mockserver.options"), ("diff", "mockserver.check"), ("diff", "mockserver.serve")],
)  # fmt: skip
def test_imports_go_down_the_layers(package, forbidden):
    assert {n for n in importing(forbidden) if n.startswith(package + "/")} == set()


def test_nothing_in_the_package_knows_openhands():
    assert files_where(r"openhands", re.I) == set()


def test_a_plain_serve_does_not_load_the_proxy():
    """httpx costs a `serve` start 50-250 ms: the forwarding modules are imported only when there is an upstream."""
    for name in ("serve/app.py", "cli.py", "serve/pipeline/core.py"):
        top = ast.parse(SOURCES[name]).body  # module level only: imports inside functions or TYPE_CHECKING are lazy
        module_level = {n.module or "" for n in top if isinstance(n, ast.ImportFrom)}
        module_level |= {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.endswith("proxy") or m.startswith("httpx") for m in module_level), name
    # serve/events/relay.py: socket.io polling passed to the upstream; imported only by `proxy` (events/mount.py)
    assert importing("httpx") <= {"serve/forward/proxy.py", "contract/documents.py", "serve/events/relay.py"}
