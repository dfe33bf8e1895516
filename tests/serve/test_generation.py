"""Generated data: valid, deterministic across processes, readable by default, boundary-seeking on demand."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.contract.spec import load_spec
from mockserver.serve.data.generation import POOL, Generator
from tests.support import CONVERSATION, KEY_HEADER, ROOT, SHOP

KEY = {KEY_HEADER: "k"}
SPEC = load_spec()
SCHEMA = SPEC.operations[0].responses["200"].content["application/json"].schema
VALID = jsonschema_rs.validator_for(SPEC.schemas.standalone(SCHEMA), validate_formats=True)

_SCRIPT = """
import sys
from starlette.testclient import TestClient
from mockserver.serve.app import create_app
from mockserver.serve.config import Config
client = TestClient(create_app(Config(request_log=False, seed=int(sys.argv[1]), fixtures="")))
for i in range(20):
    sys.stdout.write(client.get("/api/conversations/id-%d" % i, headers={"X-Session-API-Key": "k"}).text + "\\n")
"""


def _bodies(seed: int) -> str:
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _SCRIPT, str(seed)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest.mark.e2e  # two subprocesses
def test_same_seed_gives_byte_identical_bodies_across_processes_and_other_seeds_differ():
    first, second, other = _bodies(0), _bodies(0), _bodies(7)
    assert first == second
    assert first != other
    assert len(set(first.splitlines())) == 20  # the id is echoed, so every body differs


def test_same_request_same_answer_in_one_process(client):
    bodies = {client.get(CONVERSATION + "same", headers=KEY).content for _ in range(5)}
    assert len(bodies) == 1


def test_query_parameters_take_part_in_the_choice(client_factory):
    shop = client_factory(spec=SHOP)
    auth = {"Authorization": "Bearer t"}
    answers = {shop.get("/v1/pets", params={"limit": n}, headers=auth).content for n in range(1, 9)}
    assert len(answers) > 1


def test_path_parameters_are_echoed_into_same_named_fields(client):
    assert client.get(CONVERSATION + "abc", headers=KEY).json()["conversation_id"] == "abc"
    assert client.get(CONVERSATION + "%E2%9C%93%20ok", headers=KEY).json()["conversation_id"] == "✓ ok"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_readable_by_default_printable_plausible_recent():
    generator = Generator(SPEC.schemas, seed=3)
    for slot in range(POOL):
        value = generator.value("c", SCHEMA, slot)
        assert VALID.is_valid(value)
        if value is None:
            continue
        assert all(s.isprintable() and s.isascii() and len(s) <= 80 for s in _strings(value))
        for field in ("created_at", "last_updated_at"):
            if value.get(field):
                assert 2024 <= datetime.fromisoformat(value[field].replace("Z", "+00:00")).year <= 2027
        assert 0 <= value.get("num_connections", 0) <= 100


def test_edge_cases_reach_boundaries_and_stay_valid():
    generator = Generator(SPEC.schemas, seed=0, edge_cases=True)
    values = [generator.value("c", SCHEMA, slot) for slot in range(8)]
    assert all(VALID.is_valid(v) for v in values)
    objects = [v for v in values if isinstance(v, dict)]
    empty = values[0]
    assert all(empty.get(k) is None for k in ("last_updated_at", "runtime_status", "selected_repository", "url"))
    assert any(len(s) > 1000 or not s.isascii() for v in objects for s in _strings(v))


def test_every_generated_body_for_the_richer_contract_is_valid():
    spec = load_spec(SHOP)
    generator = Generator(spec.schemas, seed=1)
    checked = 0
    for op in spec.operations:
        for status, response in op.responses.items():
            for media, obj in response.content.items():
                if obj.schema is None:
                    continue
                validator = jsonschema_rs.validator_for(spec.schemas.standalone(obj.schema), validate_formats=True)
                for slot in range(POOL):
                    assert validator.is_valid(generator.value(f"{op.key}{status}{media}", obj.schema, slot))
                    checked += 1
    assert checked >= 9 * POOL


def test_patterns_fall_back_to_hypothesis_jsonschema():
    schema = {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"}},
    }
    spec = load_spec()
    generator = Generator(spec.schemas)
    value = generator.value("p", schema, 0)
    assert jsonschema_rs.is_valid(schema, value)
    assert generator.value("p", schema, 0) == Generator(spec.schemas).value("p", schema, 0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), slot=st.integers(min_value=0, max_value=POOL - 1))
def test_any_seed_and_slot_is_valid(seed: int, slot: int):
    assert VALID.is_valid(Generator(SPEC.schemas, seed=seed).value("c", SCHEMA, slot))
