"""What a contract is once read: `Spec`, its `Operation`s, their `Parameter`s, `Response`s and `MediaType`s (plain
data; contract/spec.py builds them from the document)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .schemas import Schema, SchemaSet
from .security import SecurityScheme

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass
class Parameter:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: Schema
    style: str
    explode: bool
    allow_empty: bool = False  # a query parameter sent with an empty value (`?flag=`) is valid, whatever its schema


_NO_CONTENT = frozenset({"204", "205", "304", "1XX"})  # statuses whose answers carry no content

# OpenAPI 3.0.3 and 3.1.1, Parameter Object: a header parameter with one of these names "SHALL be ignored" (the
# media type and the security scheme say what they carry)
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})


@dataclass
class MediaType:
    schema: Schema | None
    examples: dict[str, Any]


@dataclass
class Response:
    status: str  # "200", "4XX" or "default"
    content: dict[str, MediaType]
    headers: dict[str, tuple[bool, Schema]]  # name -> (required, schema)


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # template, without the server prefix
    operation_id: str
    parameters: list[Parameter]
    body_required: bool
    responses: dict[str, Response]
    security: list[list[SecurityScheme]]  # alternatives, each a list that must all be present; [] = none needed
    bodies: dict[str, MediaType] = field(default_factory=dict)  # every documented request media type -> its object
    unservable: tuple[str, ...] = ()  # why the operation cannot be served: (file, JSON pointer, reason); () if it can
    key: str = field(init=False)  # "METHOD /path", read several times per request: computed once

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.method} {self.path}")

    @property
    def requires_auth(self) -> bool:
        """Whether every alternative needs credentials (an empty requirement `{}` makes them optional)."""
        return bool(self.security)

    def named(self, name: str) -> bool:
        """Whether `name` is this operation's operationId, "METHOD /path" or its path (any case)."""
        return name.lower() in (self.operation_id.lower(), self.key.lower(), self.path.lower())

    def response_for(self, status: int) -> Response | None:
        """The documented response for a status: exact code, then range (4XX), then default."""
        return (
            self.responses.get(str(status))
            or self.responses.get(f"{str(status)[0]}XX")
            or self.responses.get("default")
        )


@dataclass
class Spec:
    source: str
    document: dict[str, Any]
    version: str
    prefix: str
    operations: list[Operation]
    schemas: SchemaSet
    security_schemes: dict[str, SecurityScheme] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def find(self, name: str) -> Operation | None:
        """An operation by operationId or "METHOD /path"."""
        for op in self.operations:
            if name in (op.operation_id, op.key) or name.upper() == op.key.upper():
                return op
        return None

    def select(self, names: list[str]) -> list[Operation]:
        """The operations any of `names` designates (operationId, "METHOD /path" or a path); all when empty.
        A name that designates nothing raises `LookupError` with that name."""
        wanted = [name.strip() for name in names if name.strip()]
        if not wanted:
            return list(self.operations)
        for name in wanted:
            if not any(op.named(name) for op in self.operations):
                raise LookupError(name)
        return [op for op in self.operations if any(op.named(name) for name in wanted)]
