"""Schemathesis, positive mode, in process, against the mock of each fidelity contract (tests/contracts/fidelity/)
and of a generated 1,000-operation contract (bench/contracts.py `rich_contract`): the mock accepts every valid
request and answers each with the documented status, media type and schema.

The large contract is sampled to keep `make test` within budget: 40 of its 1,000 operations (one in 25, spread over
its ten kinds) in readable mode and 20 with --edge-cases; `bench/fidelity.py` answers every one of them, and
`mockserver check` runs over all of them in bench/README.md's command (tests/test_fidelity_e2e.py samples it too).
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
)

from bench.contracts import FAMILIES
from mockserver.contract.spec import Spec, load_spec
from tests.support import ROOT, rich_contract, rich_sample

from .conformance import mock_schema

FIDELITY = ROOT / "tests" / "contracts" / "fidelity"
LARGE = rich_contract(1000)
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, positive_data_acceptance]


def _schema(path: Path, spec: Spec | None = None, **config: object) -> schemathesis.schemas.BaseSchema:
    return mock_schema(path, spec, positive=True, **config)


SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)

EDGE_SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def _check(case) -> None:
    case.call_and_validate(checks=CHECKS)


FASTAPI = _schema(FIDELITY / "fastapi.yaml")
PETS = _schema(FIDELITY / "pets.yaml")
MEDIA = _schema(FIDELITY / "media.yaml")
DEFAULTS = _schema(FIDELITY / "defaults.yaml")
ROUTING = _schema(FIDELITY / "routing.yaml")
TYPES31 = _schema(FIDELITY / "types31.yaml")
LARGE_SPEC = load_spec(LARGE)
LARGE_SCHEMA = _schema(LARGE, LARGE_SPEC).include(operation_id=rich_sample(25))
LARGE_EDGE = _schema(LARGE, LARGE_SPEC, edge_cases=True).include(operation_id=rich_sample(50))
TYPES31_EDGE = _schema(FIDELITY / "types31.yaml", edge_cases=True)
FASTAPI_EDGE = _schema(FIDELITY / "fastapi.yaml", edge_cases=True)


@FASTAPI.parametrize()
@SETTINGS
def test_fastapi_style_nullable_and_write_only_secrets(case):
    _check(case)


@PETS.parametrize()
@SETTINGS
def test_discriminators_with_and_without_mapping(case):
    _check(case)


@MEDIA.parametrize()
@SETTINGS
def test_form_xml_text_multipart_and_binary_bodies(case):
    _check(case)


@DEFAULTS.parametrize()
@SETTINGS
def test_default_only_responses(case):
    _check(case)


@ROUTING.parametrize()
@SETTINGS
def test_same_shape_paths(case):
    _check(case)


@TYPES31.parametrize()
@SETTINGS
def test_openapi31_type_arrays_recursion_and_catch_all_one_of(case):
    _check(case)


@LARGE_SCHEMA.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_large_generated_contract_sampled(case):
    _check(case)


@LARGE_EDGE.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_large_generated_contract_sampled_with_edge_cases(case):
    _check(case)


@TYPES31_EDGE.parametrize()
@EDGE_SETTINGS
def test_openapi31_contract_with_edge_cases(case):
    _check(case)


@FASTAPI_EDGE.parametrize()
@EDGE_SETTINGS
def test_fastapi_style_contract_with_edge_cases(case):
    _check(case)


def test_the_large_contract_has_1000_operations_and_the_sample_every_kind():
    assert len(LARGE_SPEC.operations) == 1000
    kinds = {int(name.removeprefix("op_")) % FAMILIES for name in rich_sample(25)}
    assert kinds == set(range(FAMILIES))
    assert sum(1 for result in LARGE_SCHEMA.get_all_operations() if result.ok()) == 40
