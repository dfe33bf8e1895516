"""Judging an answer to a replayed request with the checker's own checks (`mockserver replay`).

Rules: which operation a recorded request is for is decided by the contract's one router (`contract.routing`: the
most literal template wins, `/pets/mine` before `/pets/{id}`), never by matching templates here; a request no
operation of its method matches can only fail `not_a_server_error`. A check the checker does not know is an error,
never silently passed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ...contract.routing import FULL, Router
from ...contract.spec import Spec
from ..findings import Request
from .loading import configure, operations

if TYPE_CHECKING:
    import requests


@dataclass
class Target:
    """The contract as the checks of a replay need it: the checker's operations by "METHOD /path", and the router."""

    schema: Any
    router: Router
    by_key: dict[str, Any]


def load_for_replay(spec: Spec, base_url: str) -> Target:
    """The contract as a schema whose checks can judge answers to replayed requests sent to `base_url`."""
    import schemathesis

    trimmed = copy.deepcopy(spec.document)
    trimmed.pop("servers", None)
    config = configure({"base-url": base_url, "warnings": False, "output": {"sanitization": {"enabled": True}}})
    schema = schemathesis.openapi.from_dict(trimmed, config=config)
    prefix = urlsplit(base_url).path.rstrip("/")
    return Target(schema, Router(spec.operations, prefix), {str(op.label): op for op in operations(schema)})


def known_checks() -> set[str]:
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    return set(CHECKS.get_all_names())


def recheck(target: Target, request: Request, names: list[str], response: requests.Response) -> list[str]:
    """Which of the checks `names` fail on `response` to `request`; `LookupError` for a check the checker lacks."""
    from schemathesis.checks import CHECKS
    from schemathesis.core.failures import Failure, FailureGroup

    unknown = [name for name in names if name not in known_checks()]
    if unknown:
        raise LookupError(unknown[0])
    parts = urlsplit(request.url)
    match = target.router.match(request.method.upper(), parts.path.encode("utf-8", "surrogateescape") or b"/")
    found = match.operation if match.kind == FULL else None
    operation = target.by_key.get(found.key) if found is not None and found.method == request.method.upper() else None
    if operation is None:
        # Without the operation only a server error can be judged
        return ["not_a_server_error"] if "not_a_server_error" in names and response.status_code >= 500 else []
    case = operation.Case(path_parameters=dict(match.params), query=dict(parse_qsl(parts.query, True)) or None,
                          headers=dict(request.headers) or None)  # fmt: skip
    failing = []
    for name in names:
        try:
            case.validate_response(response, checks=CHECKS.get_by_names([name]))
        except (Failure, FailureGroup, AssertionError):
            failing.append(name)
    return failing
