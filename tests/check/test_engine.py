"""engine.py is the only module that touches Schemathesis' internals: the canary fails loudly, naming the pinned
release, when a private name (or a piece of wording) it relies on disappears; a real Schemathesis failure becomes
plain data; and Hypothesis' files stay out of the current directory."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema_rs
import pytest

from mockserver.check import engine
from mockserver.check.findings import from_failure
from tests.support import cli

from . import zoo
from .conftest import Served

ROOT = Path(__file__).resolve().parents[2]
PINS = re.findall(
    r'"schemathesis([^";]*); python_version ([<>=]+) \'(\d+)\.(\d+)\'"', (ROOT / "pyproject.toml").read_text()
)


def _applies(operator: str, major: str, minor: str) -> bool:
    wanted = (int(major), int(minor))
    return sys.version_info[:2] >= wanted if operator == ">=" else sys.version_info[:2] < wanted


PIN = next((pin for pin, *marker in PINS if _applies(*marker)), None)


def resolve(path: str) -> Any:
    """An object by dotted path: a module (imported if need be), or an attribute of one."""
    try:
        return importlib.import_module(path)
    except ImportError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def has(cls: type, name: str) -> bool:
    """Whether instances of `cls` have attribute `name`: a method or property, a slot, an annotated field, or an
    attribute a no-argument instance has; for a module, whether it defines `name`."""
    if isinstance(cls, ModuleType):
        return hasattr(cls, name)
    for klass in cls.__mro__:
        if name in vars(klass) or name in (getattr(klass, "__slots__", None) or ()):
            return True
        if name in inspect.get_annotations(klass):
            return True
    try:
        return hasattr(cls(), name)
    except Exception:  # needs arguments: the checks above are all we have
        return False


def gone(what: str, path: str) -> str:
    package = path.split(".")[0]
    return (
        f"{what} is gone in {package} {version(package)} (Schemathesis pinned as schemathesis{PIN}, "
        f"installed {version('schemathesis')}): check/engine.py relies on it; adapt engine.py before changing the pin"
    )


@pytest.mark.parametrize(("path", "name"), engine.PRIVATE, ids=[f"{p}.{n}" for p, n in engine.PRIVATE])
def test_canary_private_names_engine_relies_on_still_exist(path, name):
    try:
        cls = resolve(path)
    except (ImportError, AttributeError) as exc:
        pytest.fail(gone(f"{path} ({exc})", path))
    assert has(cls, name), gone(f"{path}.{name}", path)


def test_the_canary_can_fail():
    for path, _ in engine.PRIVATE:
        assert not has(resolve(path), "_no_such_private_name")


def test_the_canary_lists_every_private_name_engine_uses():
    source = Path(engine.__file__).read_text()
    own = set(re.findall(r"^def (_\w+)", source, re.M))
    used = set(re.findall(r"\.(_[a-z]\w*)", source)) | set(re.findall(r'getattr\(\w+, "(_[a-z]\w*)"', source))
    assert used - own <= {name for _, name in (*engine.PRIVATE, *engine.OPTIONAL)}


@pytest.mark.parametrize(("path", "name"), engine.OPTIONAL, ids=[f"{p}.{n}" for p, n in engine.OPTIONAL])
def test_optional_private_names_are_read_with_a_fallback(path, name):
    # engine.py must read these with getattr(..., default): a release without them gives plainer findings
    assert re.search(rf'getattr\(\w+, "{name}", None\)', Path(engine.__file__).read_text())


def test_the_pin_is_the_installed_minor():
    assert PIN is not None and len(PINS) == 2  # one pin for Python 3.11+, one for 3.10
    low, high = re.fullmatch(r">=([\d.]+),<([\d.]+)", PIN).groups()  # type: ignore[union-attr]
    installed = tuple(int(part) for part in version("schemathesis").split(".")[:3])
    assert tuple(map(int, low.split("."))) <= installed < tuple(map(int, high.split(".")))
    assert high.split(".")[:2] == [str(installed[0]), str(installed[1] + 1)]  # one minor release, the tested one


ROOT_SCHEMA = {
    "anyOf": [{"$ref": "#/$defs/Thing"}, {"type": "null"}],
    "$defs": {"Thing": {"title": "Thing", "type": "object", "required": ["status"],
                        "properties": {"status": {"enum": ["RUNNING", "STOPPED"]}}}},
}  # fmt: skip


def json_schema_error(instance: Any) -> Any:
    from schemathesis.openapi.checks import JsonSchemaError

    error = next(jsonschema_rs.validator_for(ROOT_SCHEMA).iter_errors(instance))
    return JsonSchemaError.from_exception(operation="GET /things/{id}", exc=error, root_schema=ROOT_SCHEMA)


KEEPS_ROOT = has(resolve("schemathesis.openapi.checks.JsonSchemaError"), "_root_schema")


def test_a_json_schema_error_becomes_plain_data_with_its_root_schema():
    info = engine.failure_info(json_schema_error({"status": "PAUSED"}))
    assert (info.kind, info.title, info.operation) == (
        "JsonSchemaError",
        "Response violates schema",
        "GET /things/{id}",
    )
    assert info.schema is True and info.root_schema == (ROOT_SCHEMA if KEEPS_ROOT else None)
    assert (info.instance, info.instance_path, info.schema_path) == ({"status": "PAUSED"}, [], ["anyOf"])
    assert info.key == "anyOf"  # Schemathesis' own `_unique_key`
    assert "is not valid under any of the schemas" in info.validation_message
    assert info.message
    found = from_failure(info, "response_schema_conformance", "GET /things/{id}", None, None)
    if KEEPS_ROOT:  # the root schema lets a finding name the innermost reason
        assert found.message == 'at status: "PAUSED" is not one of "RUNNING" or "STOPPED"'
    else:
        assert found.message.startswith("at (body): ") and "PAUSED" in found.message


def test_other_failures_carry_no_schema():
    from schemathesis.openapi.checks import UndefinedStatusCode

    failure = UndefinedStatusCode(operation="GET /x", status_code=418, defined_status_codes=["200"],
                                  allowed_status_codes=[200], message="Received: 418")  # fmt: skip
    info = engine.failure_info(failure)
    assert (info.kind, info.schema, info.root_schema, info.operation) == ("UndefinedStatusCode", False, None, "GET /x")
    assert info.key and info.message == "Received: 418"
    assert engine.is_undefined_status(failure) and not engine.is_undefined_status(json_schema_error(5))


@pytest.mark.parametrize("path,text", engine.WORDING)
def test_wording_we_read_is_unchanged(path: str, text: str) -> None:
    assert text in inspect.getsource(resolve(path)), gone(f"the wording {text} of {path}", path)


def test_hypothesis_can_be_told_where_to_keep_its_files() -> None:
    from hypothesis import configuration

    assert callable(configuration.set_hypothesis_home_dir)


@pytest.mark.e2e
def test_hypothesis_files_go_to_a_cache_folder(tmp_path: Path) -> None:
    cwd, home = tmp_path / "project", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "HYPOTHESIS_STORAGE_DIRECTORY")}
    env.update(HOME=str(home), MOCKSERVER_API_KEY=zoo.KEY)
    with Served(zoo.app) as served:
        for command in ("check", "fuzz"):
            result = subprocess.run(
                [*cli(), command, f"{served.url}/zoo/full_body", "--seed", "1", "--max-examples", "5",
                 "--no-progress", "--max-requests", "60", "--rate-limit", "1000"][: None if command == "fuzz" else -4],
                cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in cwd.iterdir()) == [], "nothing written to the current directory"
    assert (home / ".cache" / "mockserver" / "hypothesis").is_dir()
