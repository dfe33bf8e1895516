"""What a run sends before it sends anything: the trimmed contract, the base URL with the servers' prefix, the
engine's configuration, and BASE_URL checks (no server needed)."""

from __future__ import annotations

import pytest

from mockserver.check import engine
from mockserver.check.commands import check_base_url
from mockserver.check.conformance import CHECKS, FUZZ_CHECKS, PlanError, engine_config, prefixed, prepare
from mockserver.check.plan import Plan
from mockserver.contract.spec import load_spec
from tests.support import SHOP

SPEC = load_spec(SHOP)
ALL = ["GET /pets", "POST /pets", "GET /pets/{petId}", "DELETE /pets/{petId}", "GET /pets/mine",
       "GET /categories/tree", "GET /health"]  # fmt: skip


def kept(document: dict) -> list[str]:
    return [f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item if m in ("get", "post", "delete")]


def test_check_keeps_every_operation_and_never_the_servers():
    document, selected = prepare(SPEC, Plan("http://h"))
    assert [op.key for op in selected] == ALL and sorted(kept(document)) == sorted(ALL)
    assert "servers" not in document and "servers" in SPEC.document  # a copy: the contract is left as it was


def test_fuzz_sends_only_safe_methods_unless_told():
    document, selected = prepare(SPEC, Plan("http://h", fuzz=True))
    assert [op.key for op in selected] == [key for key in ALL if key.startswith("GET")]
    assert "post" not in document["paths"]["/pets"] and "get" in document["paths"]["/pets"]
    _, everything = prepare(SPEC, Plan("http://h", fuzz=True, allow_unsafe_methods=True))
    assert len(everything) == len(ALL)


def test_include_selects_by_operation_id_key_or_path():
    _, selected = prepare(SPEC, Plan("http://h", include=["getPet", "post /pets", "/health"]))
    assert [op.key for op in selected] == ["POST /pets", "GET /pets/{petId}", "GET /health"]
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
    assert data["generation"] == {"max-examples": 7, "mode": "positive", "database": "none"}
    assert {name for name, on in data["checks"].items() if name != "enabled" and on["enabled"]} == set(CHECKS)
    assert data["checks"]["enabled"] is False  # only the checks named
    assert data["phases"] == {"stateful": {"enabled": False}, "coverage": {"unexpected-methods": []}}
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
