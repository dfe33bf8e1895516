"""The contract suite: the same run as `mockserver check` (mockserver.conformance), one test per operation and check.

Each operation is checked once (cached for the session); every test then asserts that its check found nothing and,
when it did, prints the same report `check` prints, curl included, key shown as $MOCKSERVER_API_KEY. An operation
that is not GET/HEAD/OPTIONS is skipped unless unsafe methods are allowed (conftest.py); one the server kept
answering 429 fails its `test_transport` as not tested.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from mockserver.check import conformance, reporting
from mockserver.check.findings import Finding, Report
from mockserver.check.plan import SAFE_METHODS, Plan
from mockserver.contract.spec import Spec, load_spec

pytestmark = pytest.mark.e2e  # requests over a socket: to --base-url, or to the mock on a loopback port

_reports: dict[str, Report] = {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "operation" not in metafunc.fixturenames:
        return
    spec = load_spec(metafunc.config.getoption("--contract-spec") or os.environ.get("CONTRACT_SPEC") or None)
    operations = shard_of(spec, metafunc.config)
    if "check" in metafunc.fixturenames:
        metafunc.parametrize("operation,check", [(op, check) for op in operations for check in conformance.CHECKS])
    else:
        metafunc.parametrize("operation", operations)


def shard_of(spec: Spec, config: pytest.Config) -> list[str]:
    """This job's operations with --shard I/N: the tested ones and the ones skipped as unsafe are dealt out
    separately, as `mockserver check --shard` deals them."""
    tested, skipped = conformance.partition(spec.operations, allow_unsafe_methods(config), config.getoption("--shard"))
    mine = {op.key for op in [*tested, *skipped]}
    return [op.key for op in spec.operations if op.key in mine]


@pytest.fixture(scope="session")
def spec(contract_target: Any) -> Spec:
    return load_spec(contract_target.spec)


def allow_unsafe_methods(config: pytest.Config) -> bool:
    chosen = os.environ.get("CONTRACT_ALLOW_UNSAFE_METHODS", "").lower() in ("1", "true", "yes")
    return bool(config.getoption("--allow-unsafe-methods")) or chosen


def report_for(operation: str, target: Any, spec: Spec, config: pytest.Config) -> Report:
    unsafe = allow_unsafe_methods(config)
    if not unsafe and operation.split(" ", 1)[0] not in SAFE_METHODS:
        pytest.skip(f"{operation}: not GET/HEAD/OPTIONS; tested only with --allow-unsafe-methods (or "
                    "CONTRACT_ALLOW_UNSAFE_METHODS=1), on a disposable test server")  # fmt: skip
    if operation not in _reports:
        plan = Plan(
            base_url=target.base_url,
            api_key=target.api_key,
            include=[operation],
            max_examples=config.getoption("--max-examples"),
            seed=config.getoption("--seed"),
            request_timeout=config.getoption("--request-timeout"),
            allow_unsafe_methods=unsafe,
        )
        _reports[operation] = conformance.run(plan, spec)
    report = _reports[operation]
    if report.errors:
        pytest.fail(reporting.redact("\n".join(report.errors), target.api_key), pytrace=False)
    return report


def test_contract(operation: str, check: str, contract_target: Any, spec: Spec, pytestconfig: pytest.Config) -> None:
    report = report_for(operation, contract_target, spec, pytestconfig)
    fail_with(
        report,
        operation,
        check,
        [finding for finding in report.findings if finding.check == check],
        contract_target.api_key,
    )


def test_transport(operation: str, contract_target: Any, spec: Spec, pytestconfig: pytest.Config) -> None:
    """Every request got a complete answer in time: no hang, reset or oversized body, and no other check failed."""
    report = report_for(operation, contract_target, spec, pytestconfig)
    others = [f for f in report.findings if f.check not in conformance.CHECKS]
    for warning in report.warnings:
        print(f"warning: {warning}")
    fail_with(report, operation, "transport", others, contract_target.api_key)
    if report.untested:
        reasons = "; ".join(report.untested.values())
        pytest.fail(reporting.redact(f"{operation} could not be tested: {reasons}", contract_target.api_key),
                    pytrace=False)  # fmt: skip


def fail_with(report: Report, operation: str, name: str, found: list[Finding], key: str | None) -> None:
    """Fail with the report `check` prints, holding only these findings."""
    if found:
        partial = Report(
            base_url=report.base_url,
            operations=[operation],
            findings=found,
            requests=report.requests,
            seconds=report.seconds,
            seed=report.seed,
        )
        pytest.fail(reporting.render(partial, f"{operation} {name}", key), pytrace=False)
