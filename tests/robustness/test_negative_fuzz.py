"""Schemathesis negative fuzzing of the mock itself, in process: invalid data in every location (path, query,
header, cookie, body) of three contracts, with valid credentials so the invalid data reaches validation. Every
answer is a 4xx or the contract's answer; zero server errors."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from mockserver import Config, create_app
from mockserver.contract.spec import Operation, builtin

from .support import KEY, ROOT, report

INVENTORY = str(Path(__file__).with_name("contracts") / "inventory.openapi.yaml")
SHOP = str(ROOT / "tests" / "contracts" / "shop.openapi.yaml")
CONTRACTS = {"builtin": builtin()[0], "shop": SHOP, "inventory": INVENTORY}
APPS = {name: create_app(Config(spec=path, request_log=False, api_key=KEY)) for name, path in CONTRACTS.items()}
STATUSES: dict[str, Counter[int]] = {name: Counter() for name in CONTRACTS}


def _schema(name: str) -> schemathesis.schemas.BaseSchema:
    loaded = schemathesis.openapi.from_path(CONTRACTS[name])
    loaded.config.generation.update(modes=[GenerationMode.NEGATIVE])
    return loaded


def _credentials(op: Operation) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Headers, cookies and query parameters that satisfy the operation's first security alternative."""
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    query: dict[str, str] = {}
    for scheme in op.security[0] if op.security else []:
        if scheme.type == "http" and scheme.scheme.lower() == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(f"user:{KEY}".encode()).decode()
        elif scheme.type in ("http", "oauth2", "openIdConnect"):
            headers["Authorization"] = f"Bearer {KEY}"
        elif scheme.location == "header":
            headers[scheme.parameter] = KEY
        elif scheme.location == "cookie":
            cookies[scheme.parameter] = KEY
        else:
            query[scheme.parameter] = KEY
    return headers, cookies, query


def _fuzz(name: str, case: schemathesis.Case) -> None:
    app = APPS[name]
    op = app.state.mock.spec.find(f"{case.operation.method.upper()} {case.operation.path}")
    assert op is not None, (case.operation.method, case.operation.path)
    headers, cookies, query = _credentials(op)
    case.headers = {**(case.headers or {}), **headers}
    case.cookies = {**(case.cookies or {}), **cookies}
    case.query = {**(case.query or {}), **query}
    response = case.call(app=app)
    STATUSES[name][response.status_code] += 1
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

builtin_schema = _schema("builtin")
shop_schema = _schema("shop").exclude(operation_id=["categoryTree", "health"])  # nothing to make invalid
inventory_schema = _schema("inventory")


@builtin_schema.parametrize()
@FUZZ
def test_negative_fuzzing_of_the_builtin_contract(case):
    _fuzz("builtin", case)


@shop_schema.parametrize()
@FUZZ
def test_negative_fuzzing_of_the_shop_contract(case):
    _fuzz("shop", case)


@inventory_schema.parametrize()
@FUZZ
def test_negative_fuzzing_of_the_inventory_contract(case):
    _fuzz("inventory", case)


@pytest.fixture(scope="module", autouse=True)
def _summary() -> Iterator[None]:
    yield
    total = sum(sum(c.values()) for c in STATUSES.values())
    if total:
        by_contract = {name: dict(sorted(c.items())) for name, c in STATUSES.items()}
        errors = sum(n for c in STATUSES.values() for s, n in c.items() if s >= 500)
        report(
            f"negative fuzzing (Schemathesis): {total} invalid requests, {errors} server errors, statuses {by_contract}"
        )
