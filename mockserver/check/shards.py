"""Splitting one run over N CI jobs: `--shard I/N` (1-based) keeps this job's share of the selected operations.

Rules: pure (no I/O, no contract reading): operations in, this shard's operations out, in their original order. The
partition depends only on the operations' keys ("METHOD /path"), never on Python's per-process `hash()`, so every
machine computes the same one: operations are sorted by a blake2b digest of their key and dealt round-robin, which
makes the N shards disjoint, their union the whole selection, and their sizes differ by at most one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


T = TypeVar("T", bound=Keyed)


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as CI systems number their jobs (GitLab's CI_NODE_INDEX, a matrix value)
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


class ShardError(ValueError):
    """A --shard value that is not I/N with 1 <= I <= N; `str(exc)` says why."""


_FORM = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse(text: str) -> Shard:
    found = _FORM.fullmatch(text)
    if not found:
        raise ShardError(f"expected I/N, this job's number and the number of jobs (e.g. 2/4), got {text!r}")
    index, total = int(found.group(1)), int(found.group(2))
    if total < 1:
        raise ShardError(f"the number of shards must be at least 1, got {text!r}")
    if not 1 <= index <= total:
        raise ShardError(f"shards are numbered 1 to {total}, got {text!r}")
    return Shard(index, total)


def argument(text: str) -> Shard:
    """`parse` as an argparse type (the CLI and the contract suite): a usage error instead of a traceback."""
    import argparse

    try:
        return parse(text)
    except ShardError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def digest(key: str) -> bytes:
    """Where an operation falls in the deal: the same on every machine and Python version."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()


def pick(operations: Sequence[T], shard: Shard | None) -> list[T]:
    """This shard's operations, in the order given; all of them without a shard."""
    if shard is None or shard.total == 1:
        return list(operations)
    order = sorted(range(len(operations)), key=lambda i: (digest(operations[i].key), operations[i].key, i))
    mine = {i for position, i in enumerate(order) if position % shard.total == shard.index - 1}
    return [op for i, op in enumerate(operations) if i in mine]


def announce(shard: Shard, keys: Sequence[str], shown: int = 10) -> str:
    """The start-up line of a sharded run: how many and which operations this shard runs."""
    if not keys:
        return f"shard {shard}: no operation falls in this shard (more shards than operations); nothing to test"
    listed = ", ".join(keys[:shown])
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return f"shard {shard}: {len(keys)} operation{'s' if len(keys) != 1 else ''}: {listed}{more}"
