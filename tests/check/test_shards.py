"""`--shard I/N`: the value is checked, and the partition is complete, disjoint, balanced, order-keeping and the same
in every process (a blake2b digest of the key, never Python's salted `hash()`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import contracts
from mockserver.check import shards
from mockserver.check.shards import Shard, ShardError
from mockserver.contract.spec import load_spec
from tests.support import ROOT


@dataclass
class Op:
    key: str


@pytest.mark.parametrize(
    "text, shard", [("1/4", Shard(1, 4)), ("4/4", Shard(4, 4)), (" 2 / 3 ", Shard(2, 3)), ("1/1", Shard(1, 1))]
)
def test_parse(text: str, shard: Shard) -> None:
    assert shards.parse(text) == shard
    assert str(shard) == f"{shard.index}/{shard.total}"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("0/4", "numbered 1 to 4"),
        ("5/4", "numbered 1 to 4"),
        ("1/0", "at least 1"),
        ("x", "expected I/N"),
        ("", "expected I/N"),
        ("1/4/2", "expected I/N"),
        ("-1/4", "expected I/N"),
        ("1.5/4", "expected I/N"),
    ],
)
def test_parse_rejects_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ShardError, match=reason) as caught:
        shards.parse(text)
    assert repr(text) in str(caught.value)


keys = st.lists(st.text(min_size=1, max_size=30), max_size=200, unique=True)


@given(keys=keys, total=st.integers(1, 12))
def test_partition_is_complete_disjoint_balanced_and_keeps_order(keys: list[str], total: int) -> None:
    operations = [Op(key) for key in keys]
    parts = [shards.pick(operations, Shard(i, total)) for i in range(1, total + 1)]
    seen = Counter(op.key for part in parts for op in part)
    assert set(seen) == set(keys) and set(seen.values()) <= {1}
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= 1
    for part in parts:
        assert [op.key for op in part] == [key for key in keys if key in {op.key for op in part}]


@given(keys=keys)
def test_no_shard_and_one_shard_keep_everything(keys: list[str]) -> None:
    operations = [Op(key) for key in keys]
    assert shards.pick(operations, None) == operations == shards.pick(operations, Shard(1, 1))


def test_an_operation_stays_in_its_shard_whatever_the_order_given() -> None:
    operations = [Op(f"GET /r{i}") for i in range(50)]
    forward = {op.key for op in shards.pick(operations, Shard(2, 3))}
    backward = {op.key for op in shards.pick(list(reversed(operations)), Shard(2, 3))}
    assert forward == backward


@pytest.mark.parametrize("count, sizes", [(1000, [250] * 4), (1223, [306, 306, 306, 305])])
def test_four_shards_of_a_generated_contract_cover_every_operation_once(
    count: int, sizes: list[int], tmp_path: Path
) -> None:
    path = tmp_path / "contract.json"  # JSON: the same document as contracts.write's YAML, read 10x faster
    path.write_text(json.dumps(contracts.contract(count)))
    spec = load_spec(path)
    assert len(spec.operations) == count
    parts = [shards.pick(spec.operations, Shard(i, 4)) for i in range(1, 5)]
    assert [len(part) for part in parts] == sizes
    covered = Counter(op.key for part in parts for op in part)
    assert covered == Counter(op.key for op in spec.operations)


SCRIPT = """
import json
from dataclasses import dataclass
from mockserver.check import shards
@dataclass
class Op:
    key: str
ops = [Op(f"{m} /things{i}/{{id}}") for i in range(300) for m in ("GET", "DELETE")]
print(json.dumps([[op.key for op in shards.pick(ops, shards.Shard(i, 4))] for i in range(1, 5)]))
"""


@pytest.mark.e2e  # starts Python processes
def test_the_partition_is_the_same_in_every_process() -> None:
    # Python salts str hashes per process: two processes with different salts must still agree
    outputs = set()
    for salt in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_announce_names_the_operations() -> None:
    assert shards.announce(Shard(2, 4), ["GET /a", "GET /b"]) == "shard 2/4: 2 operations: GET /a, GET /b"
    line = shards.announce(Shard(1, 4), [f"GET /{i}" for i in range(25)])
    assert line.startswith("shard 1/4: 25 operations: GET /0, GET /1,") and line.endswith("GET /9 and 15 more")
    assert "no operation" in shards.announce(Shard(4, 4), [])
