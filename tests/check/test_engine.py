"""engine.py is the only module that touches Schemathesis' internals: the canary fails loudly, naming the pinned
release, when a private name (or a piece of wording) it relies on disappears; a real Schemathesis failure becomes
plain data; and Hypothesis' files stay out of the current directory."""

from __future__ import annotations

import datetime
import importlib
import inspect
import json
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
import requests
import urllib3

from mockserver.check import engine
from mockserver.check.findings import Request, from_failure
from mockserver.contract.spec import load_spec
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
# The engine is a package: the canary reads every module of it
ENGINE = "\n".join(path.read_text() for path in sorted(Path(engine.__file__).parent.glob("*.py")))


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
    source = ENGINE
    own = set(re.findall(r"^def (_\w+)", source, re.M))
    used = set(re.findall(r"\.(_[a-z]\w*)", source)) | set(re.findall(r'getattr\(\w+, "(_[a-z]\w*)"', source))
    listed = (*engine.PRIVATE, *engine.OPTIONAL, *engine.STARTING_STATE_PRIVATE)
    capabilities = {name for _, _, name in engine.CAPABILITIES}  # named in comments; checked by the test below
    assert used - own <= {name for _, name in listed} | capabilities


NAMED = [capability for capability in engine.CAPABILITIES if capability[1] is not None]


@pytest.mark.parametrize(("flag", "path", "name"), NAMED, ids=[flag for flag, *_ in NAMED])
def test_each_capability_flag_matches_the_installed_release(flag: str, path: str, name: str) -> None:
    # engine.py reads the flags from the release number (no import); the release must have, or lack, what they say
    value, present = getattr(engine, flag), has(resolve(path), name)
    assert value == present, (
        f"engine.{flag} is {value}, but Schemathesis {version('schemathesis')} {'has' if present else 'lacks'} "
        f"{path}.{name}: adapt engine.py"
    )


def test_the_release_for_python_3_10_lacks_every_capability():
    # 4.30, the last release for Python 3.10, is what each flag's fallback in engine.py is written for
    flags = {getattr(engine, flag) for flag, *_ in engine.CAPABILITIES}
    assert flags == ({False} if sys.version_info < (3, 11) else {True})


DOCUMENT = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}


def test_the_starting_state_stand_in_is_hooked_only_where_the_release_lacks_it():
    schema = engine.load(DOCUMENT, engine.configure({"base-url": "http://127.0.0.1:9"}), {})
    hooked = engine.loading._keep_starting_state in schema.hooks.get_all_by_name("map_case")
    assert hooked is not engine.RECORDS_STARTING_STATE
    for path, name in engine.STARTING_STATE_PRIVATE if hooked else ():  # a newer release may drop these
        assert has(resolve(path), name), gone(f"{path}.{name}", path)


def test_fuzzing_leaves_out_the_target_phase_only_where_it_spins():
    # How much it spins is measured by test_conformance.py::test_fuzz_rarely_repeats_a_request (>= 300 requests)
    from hypothesis import Phase

    config = engine.load(DOCUMENT, engine.configure({"base-url": "http://127.0.0.1:9"}), {}).config
    fuzzing = config.get_hypothesis_settings(phase="fuzzing", apply_ci_profile=False)
    assert (Phase.target in fuzzing.phases) is engine.QUICK_TARGET_PHASE
    assert Phase.generate in fuzzing.phases  # only the target phase goes
    assert Phase.target in config.get_hypothesis_settings(phase="stateful").phases  # the other phases keep theirs


@pytest.mark.parametrize(("path", "name"), engine.OPTIONAL, ids=[f"{p}.{n}" for p, n in engine.OPTIONAL])
def test_optional_private_names_are_read_with_a_fallback(path, name):
    # engine.py must read these with getattr(..., default): a release without them gives plainer findings
    assert re.search(rf'getattr\(\w+, "{name}", None\)', ENGINE)


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
NESTED_SCHEMA = {"type": "object", "properties": {"thing": {"anyOf": ROOT_SCHEMA["anyOf"]}},
                 "$defs": ROOT_SCHEMA["$defs"]}  # fmt: skip


def json_schema_error(instance: Any, root: dict[str, Any] = ROOT_SCHEMA) -> Any:
    from schemathesis.openapi.checks import JsonSchemaError

    error = next(jsonschema_rs.validator_for(root).iter_errors(instance))
    return JsonSchemaError.from_exception(operation="GET /things/{id}", exc=error, root_schema=root)


def test_a_json_schema_error_becomes_plain_data_with_its_root_schema():
    info = engine.failure_info(json_schema_error({"status": "PAUSED"}))
    assert (info.kind, info.title, info.operation) == (
        "JsonSchemaError",
        "Response violates schema",
        "GET /things/{id}",
    )
    # Kept by the failure where the release does; else the failing keyword's schema, which here is the root
    assert info.schema is True and info.root_schema == ROOT_SCHEMA
    assert (info.instance, info.instance_path, info.schema_path) == ({"status": "PAUSED"}, [], ["anyOf"])
    assert info.key == "anyOf"  # Schemathesis' own `_unique_key`
    assert "is not valid under any of the schemas" in info.validation_message
    assert info.message
    found = from_failure(info, "response_schema_conformance", "GET /things/{id}", None, None)
    assert found.message == 'at status: "PAUSED" is not one of "RUNNING" or "STOPPED"'  # the innermost reason


def test_a_failure_below_the_root_names_its_innermost_reason_where_the_release_keeps_the_root():
    info = engine.failure_info(json_schema_error({"thing": {"status": "PAUSED"}}, NESTED_SCHEMA))
    assert (info.instance_path, info.schema_path) == (["thing"], ["properties", "thing", "anyOf"])
    found = from_failure(info, "response_schema_conformance", "GET /things/{id}", None, None)
    if engine.KEEPS_ROOT_SCHEMA:
        assert info.root_schema == NESTED_SCHEMA
        assert found.message == 'at thing/status: "PAUSED" is not one of "RUNNING" or "STOPPED"'
    else:  # 4.30 keeps only the schema holding the failing keyword: the finding names that keyword, where it failed
        assert info.root_schema is None
        assert found.message == (
            'at thing: {"status": "PAUSED"} is not valid under any of the schemas listed in the \'anyOf\' keyword'
        )


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


def _answer(body: object) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "application/json"
    response.raw = urllib3.HTTPResponse(body=b"", headers={"Content-Type": "application/json"})
    response._content = json.dumps(body).encode()
    response.request = requests.Request("GET", "http://127.0.0.1:9/pets/mine").prepare()
    response.url = str(response.request.url)
    response.elapsed = datetime.timedelta(0)
    return response


def test_recheck_judges_a_path_by_its_most_literal_template(tmp_path: Path) -> None:
    # /pets/mine is matched by both templates; OpenAPI gives it to the concrete one, and so does replay
    def answers(required: str) -> dict:
        schema = {"type": "object", "required": [required], "properties": {required: {"type": "string"}}}
        return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}

    param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    document = {"openapi": "3.0.3", "info": {"title": "pets", "version": "1"}, "paths": {
        "/pets/{id}": {"get": {"parameters": [param], "responses": answers("name")}},
        "/pets/mine": {"get": {"responses": answers("mine")}},
    }}  # fmt: skip
    path = tmp_path / "pets.json"
    path.write_text(json.dumps(document))
    schema = engine.load_for_replay(load_spec(str(path)), "http://127.0.0.1:9")
    request = Request("GET", "http://127.0.0.1:9/pets/mine", {}, b"")
    assert engine.recheck(schema, request, ["response_schema_conformance"], _answer({"mine": "yes"})) == []
    assert engine.recheck(schema, request, ["response_schema_conformance"], _answer({"name": "rex"})) == [
        "response_schema_conformance"
    ]


def test_recheck_refuses_a_check_it_does_not_know(tmp_path: Path) -> None:
    path = tmp_path / "pets.json"
    path.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "p", "version": "1"}, "paths": {}}))
    target = engine.load_for_replay(load_spec(str(path)), "http://127.0.0.1:9")
    with pytest.raises(LookupError, match="no_such_check"):
        engine.recheck(target, Request("GET", "http://127.0.0.1:9/x", {}, b""), ["no_such_check"], _answer({}))


def test_no_schemathesis_object_leaves_the_engine() -> None:
    # What the run gets from the engine is plain data: its events hold findings and text, nothing of the checker
    import dataclasses
    import typing

    for event in typing.get_args(engine.events.Event):
        hints = typing.get_type_hints(event)
        assert all("schemathesis" not in repr(hint).lower() for hint in hints.values()), event
        assert dataclasses.is_dataclass(event)
