"""`Validators`: each operation's `RequestValidator`, by operation key, built at start-up or, for a very large
contract, on first use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ...contract.schemas import SchemaSet
from ...contract.spec import Operation
from .validation import RequestValidator

LAZY_ABOVE = 2_000  # operations: a larger contract builds each operation's request validator on first use


class Validators(Mapping[str, RequestValidator]):
    """Operation key -> its `RequestValidator`, all built at start-up; for a contract of more than `LAZY_ABOVE`
    operations each is built on its first request instead (Microsoft Graph: 11,422 operations, a third of its
    start-up spent here; the first request of an operation then pays about a millisecond)."""

    def __init__(self, operations: list[Operation], schemas: SchemaSet) -> None:
        self._operations = {op.key: op for op in operations}
        self._schemas = schemas
        self._built: dict[str, RequestValidator] = {}
        if len(self._operations) <= LAZY_ABOVE:
            for key in self._operations:
                self[key]

    def __getitem__(self, key: str) -> RequestValidator:
        found = self._built.get(key)
        if found is None:
            found = self._built[key] = RequestValidator(self._operations[key], self._schemas)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._operations)

    def __len__(self) -> int:
        return len(self._operations)
