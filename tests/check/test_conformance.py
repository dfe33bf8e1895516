"""What a run sends: first before it sends anything (the trimmed contract, read-only unless told, the base URL with
the servers' prefix, the engine's configuration, BASE_URL checks; no server needed), then end to end: check, fuzz and
the contract suite send no unsafe method unless told (and say so before the first request), fuzz with defaults
rarely sends the same request twice, and progress names only phases that send requests."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mockserver import cli
from mockserver.check import conformance, engine, reporting
from mockserver.check.commands import check_base_url
from mockserver.check.conformance import (
    CHECKS,
    FUZZ_CHECKS,
    PlanError,
    engine_config,
    methods_sent,
    prefixed,
    prepare,
    unsafe_operations,
)
from mockserver.check.plan import FUZZ_DEFAULTS, Plan
from mockserver.contract.spec import load_spec
from mockserver.serve.app import create_app
from mockserver.serve.config import Config
from tests.support import SHOP

from . import zoo
from .conftest import Served

SPEC = load_spec(SHOP)
ALL = ["GET /pets", "POST /pets", "GET /pets/{petId}", "DELETE /pets/{petId}", "GET /pets/mine",
       "GET /categories/tree", "GET /health"]  # fmt: skip


def kept(document: dict) -> list[str]:
    return [f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item if m in ("get", "post", "delete")]


def test_with_unsafe_methods_every_operation_is_kept_and_never_the_servers():
    document, selected = prepare(SPEC, Plan("http://h", allow_unsafe_methods=True))
    assert [op.key for op in selected] == ALL and sorted(kept(document)) == sorted(ALL)
    assert "servers" not in document and "servers" in SPEC.document  # a copy: the contract is left as it was


@pytest.mark.parametrize("fuzz", [False, True], ids=["check", "fuzz"])
def test_only_safe_methods_unless_told(fuzz):
    document, selected = prepare(SPEC, Plan("http://h", fuzz=fuzz))
    assert [op.key for op in selected] == [key for key in ALL if key.startswith("GET")]
    assert "post" not in document["paths"]["/pets"] and "get" in document["paths"]["/pets"]
    assert unsafe_operations(SPEC, Plan("http://h", fuzz=fuzz)) == ["POST /pets", "DELETE /pets/{petId}"]
    assert methods_sent(Plan("http://h", fuzz=fuzz), selected) == (["GET", "OPTIONS"] if fuzz else ["GET"])
    _, everything = prepare(SPEC, Plan("http://h", fuzz=fuzz, allow_unsafe_methods=True))
    assert len(everything) == len(ALL)
    assert unsafe_operations(SPEC, Plan("http://h", fuzz=fuzz, allow_unsafe_methods=True)) == []


def test_include_selects_by_operation_id_key_or_path():
    _, selected = prepare(SPEC, Plan("http://h", include=["getPet", "post /pets", "/health"]))
    assert [op.key for op in selected] == ["GET /pets/{petId}", "GET /health"]  # POST: read-only
    _, selected = prepare(SPEC, Plan("http://h", include=["getPet", "post /pets"], allow_unsafe_methods=True))
    assert [op.key for op in selected] == ["POST /pets", "GET /pets/{petId}"]
    with pytest.raises(PlanError, match="--include 'nope' matches no operation"):
        prepare(SPEC, Plan("http://h", include=["nope"]))
    with pytest.raises(PlanError, match="no operation to test"):
        prepare(SPEC, Plan("http://h", fuzz=True, include=["createPet"]))


@pytest.mark.parametrize(
    ("base", "url"),
    [("http://h:1", "http://h:1/v1"), ("http://h:1/", "http://h:1/v1"), ("http://h:1/api/", "http://h:1/api")],
)
def test_the_servers_prefix_is_added_unless_base_url_has_a_path(base, url):
    assert prefixed(base, SPEC) == url


def test_check_configuration():
    data = engine_config(Plan("http://h", max_examples=7, workers=2, request_timeout=3.0), "http://h/v1", [])
    assert data["base-url"] == "http://h/v1" and data["workers"] == 2 and data["request-timeout"] == 3.0
    assert data["generation"] == {"max-examples": 7, "mode": "positive", "database": "none", "unique-inputs": True}
    assert {name for name, on in data["checks"].items() if name != "enabled" and on["enabled"]} == set(CHECKS)
    assert data["checks"]["enabled"] is False  # only the checks named
    assert data["phases"] == {"stateful": {"enabled": False}, "coverage": {"unexpected-methods": []},
                              "fuzzing": {"extra-data-sources": {"responses": False}}}  # fmt: skip
    assert not {"seed", "max-time", "headers", "auth"} & set(data)
    engine.configure(data)  # Schemathesis reads it


def test_fuzz_configuration_and_credentials():
    schemes = [s for s in SPEC.security_schemes.values() if s.fillable]
    plan = Plan("http://h", fuzz=True, seed=3, duration=9.5, api_key="k")
    data = engine_config(plan, "http://h/v1", schemes)
    assert data["generation"]["mode"] == "all" and data["phases"]["stateful"] == {"enabled": True}
    assert data["phases"]["coverage"]["unexpected-methods"] == ["OPTIONS"]  # never an unsafe method by surprise
    assert {name for name in data["checks"] if name != "enabled"} == set(FUZZ_CHECKS)
    assert (data["seed"], data["max-time"]) == (3, 9)
    # sent only where an operation asks for them; none is a plain header sent on every request
    assert set(data["auth"]["openapi"]) == {"bearerAuth", "apiKeyQuery", "basicAuth", "cookieAuth"}
    assert "headers" not in data
    unsafe = engine_config(Plan("http://h", fuzz=True, allow_unsafe_methods=True), "http://h/v1", [])
    assert unsafe["phases"]["coverage"]["unexpected-methods"] == ["OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
    engine.configure(data)


@pytest.mark.parametrize(
    ("url", "ok"),
    [("http://127.0.0.1:8000", True), ("https://example.invalid/api", True), ("127.0.0.1:8000", False),
     ("ftp://h", False), ("http://", False), ("", False)],
)  # fmt: skip
def test_base_url_must_be_http_with_a_host(url, ok):
    problem = check_base_url(url)
    assert (problem == "") is ok
    if not ok:
        assert problem.startswith("BASE_URL must be an http:// or https:// URL with a host")


CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
QUICK = ["--seed", "3", "--max-examples", "5", "--no-progress"]
FUZZ_QUICK = [*QUICK, "--rate-limit", "1000", "--max-requests", "150", "--duration", "20", "--cassette", ""]


@pytest.fixture
def methods_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    path = tmp_path / "methods.json"
    path.write_text(json.dumps(zoo.METHODS_CONTRACT))
    return str(path)


@pytest.mark.e2e
@pytest.mark.parametrize("command", ["check", "fuzz"])
def test_read_only_unless_told(command: str, methods_spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    options = QUICK if command == "check" else FUZZ_QUICK
    counter = zoo.MethodCounter()
    with Served(counter) as served:
        code = cli.main([command, served.url, "--spec", methods_spec, *options])
    out, err = capsys.readouterr()
    print(f"{command} without the flag: {dict(counter.methods)}")
    assert code == 0, out
    assert counter.unsafe() == 0 and counter.methods["GET"] > 0, counter.methods
    # Said before the first request, and in the summary; skipped operations never make a run inconclusive
    expected = "GET, OPTIONS" if command == "fuzz" else "GET"
    assert f"methods sent: {expected} (read-only)" in err, err
    assert (
        "skipped as unsafe: 4 (POST 1, PUT 1, DELETE 1, PATCH 1): POST /items, PUT /items/{id}, "
        "DELETE /items/{id}, PATCH /items/{id}"
    ) in err, err
    assert "skipped as unsafe (not GET/HEAD/OPTIONS; --allow-unsafe-methods sends them" in out
    assert "  skipped: PATCH /items/{id}" in out
    assert "2 operations, 2 of 2 reached, " in out.splitlines()[-1] and "PASSED" in out.splitlines()[-1]
    assert ", 4 skipped as unsafe, " in out.splitlines()[-1]

    counter = zoo.MethodCounter()
    with Served(counter) as served:
        code = cli.main([command, served.url, "--spec", methods_spec, *options, "--allow-unsafe-methods"])
    out, err = capsys.readouterr()
    print(f"{command} with --allow-unsafe-methods: {dict(counter.methods)}")
    assert code in (0, 1), out  # fuzz holds it against this server that it accepts anything, even a PUT on /items
    assert all(counter.methods[method] > 0 for method in zoo.UNSAFE), counter.methods
    assert "this can change the server" in err and "skipped" not in out


@pytest.mark.e2e
def test_only_unsafe_operations_is_a_usage_error(methods_spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    counter = zoo.MethodCounter()
    with Served(counter) as served:
        code = cli.main(["check", served.url, "--spec", methods_spec, "--include", "POST /items", *QUICK])
    out = capsys.readouterr().out
    assert code == 2 and "--allow-unsafe-methods" in out
    assert not counter.methods


@pytest.mark.e2e
def test_contract_suite_is_read_only(methods_spec: str, tmp_path: Path) -> None:
    counter = zoo.MethodCounter()
    base = [sys.executable, "-m", "pytest", str(CONTRACTS), "--contract-spec", methods_spec, "-p", "no:cacheprovider",
            "--max-examples", "5", "--seed", "3", "-rs"]  # fmt: skip
    with Served(counter) as served:
        env = {**os.environ, "MOCKSERVER_API_KEY": zoo.KEY}
        safe = subprocess.run([*base, "--base-url", served.url], env=env, capture_output=True, text=True, timeout=120)
        assert counter.unsafe() == 0 and counter.methods["GET"] > 0, counter.methods
        before = counter.unsafe()
        unsafe = subprocess.run([*base, "--base-url", served.url, "--allow-unsafe-methods"], env=env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
    assert safe.returncode == 0, safe.stdout[-3000:]
    assert "SKIPPED" in safe.stdout and "tested only with --allow-unsafe-methods" in safe.stdout, safe.stdout[-3000:]
    assert unsafe.returncode == 0, unsafe.stdout[-3000:]
    assert counter.unsafe() > before and "SKIPPED" not in unsafe.stdout


@pytest.mark.e2e
def test_fuzz_rarely_repeats_a_request(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """fuzz with its defaults (but not their pacing) against the built-in mock: distinct requests / total >= 0.8."""
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    mock = create_app(Config(api_key=zoo.KEY, request_log=False))
    seen: list[tuple[Any, ...]] = []
    noise = {b"user-agent", b"x-schemathesis-testcaseid", b"accept-encoding", b"connection", b"host"}

    async def counting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = tuple(sorted((k, v) for k, v in scope["headers"] if k not in noise))
            seen.append((scope["method"], scope["raw_path"], scope["query_string"], headers))
        await mock(scope, receive, send)

    with Served(counting) as served:
        # Defaults: --max-examples 100, --max-requests 600, --duration 60; the 10/s pacing only stretches the run
        code = cli.main(["fuzz", served.url, "--seed", "1", "--no-progress", "--rate-limit", "1000", "--cassette", ""])
    out = capsys.readouterr().out
    assert code == 0, out
    ratio = len(set(seen)) / len(seen)
    print(f"fuzz with defaults: {len(set(seen))} distinct of {len(seen)} requests = {ratio:.3f}")
    assert len(seen) >= 300, len(seen)
    assert ratio >= 0.8, Counter(seen).most_common(3)


@pytest.mark.e2e
def test_progress_names_only_phases_that_run() -> None:
    stream = io.StringIO()
    display = reporting.ProgressDisplay(stream=stream, interactive=False)
    with Served(create_app(Config(api_key=zoo.KEY, request_log=False))) as mock:
        report = conformance.run(Plan(mock.url, api_key=zoo.KEY, seed=1, max_examples=3), load_spec(None), [display])
    display.close()
    phases = [line.split(":", 1)[0] for line in stream.getvalue().splitlines()]
    assert report.exit_code == 0, report
    assert {"examples", "fuzzing"} <= set(phases) <= {"setup", "probing", "examples", "coverage", "fuzzing"}, phases
    # Never "stateful" (check does not run it), nor phases that send nothing ("schema_analysis", "auth_bootstrap")
    assert len(phases) == len(set(phases)), phases


def test_fuzz_defaults_are_bounded() -> None:
    assert FUZZ_DEFAULTS["max_requests"] and FUZZ_DEFAULTS["duration"] and FUZZ_DEFAULTS["rate_limit"]
