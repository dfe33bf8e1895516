"""Forced errors that look real: a 4xx or 5xx asked for with `code=` (Prefer, `?__code=`, an override) that the
contract documents is answered like the mock's own errors, not with random data fitting the schema.

Rules: a 400 or 422 carries the violations of a deliberately broken request for the operation, found by the
operation's own request validator (so `loc` names a real parameter or body member and `msg` is a real validator
message); every status-like field of the body says the status sent (the producer's `_invalid` path, which keeps the
body valid against the contract). Worked out once per operation.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ...contract.spec import Operation
from . import negotiation, problems
from .validation import RequestValidator

VALIDATION_STATUSES = (400, 422)


def broken_request(op: Operation, validator: RequestValidator) -> list[dict[str, Any]]:
    """The violations of the first broken request, in this order, that the validator refuses: required query,
    header or cookie parameters left out; a JSON body without its required members, or of the wrong type; a typed
    parameter given a word; path parameters left out."""
    path = {p.name: "1" for p in op.parameters if p.location == "path"}
    json_media = next((m for m in op.bodies if "json" in m), None)
    attempts: list[tuple[dict[str, str], dict[str, list[str]], dict[str, str], bytes, str]] = [
        (path, {}, {}, b"", ""),
    ]
    if json_media is not None:
        attempts += [(path, {}, {}, b"{}", json_media), (path, {}, {}, b"[]", json_media)]
    typed = {p.name: ["not-a-number"] for p in op.parameters if p.location == "query"}
    attempts += [(path, typed, {}, b"", ""), ({p: "not-a-number" for p in path}, {}, {}, b"", ""),
                 ({}, {}, {}, b"", "")]  # fmt: skip
    for i, (path_params, query, headers, body, media) in enumerate(attempts):
        found = validator.validate(path_params, query, headers, {}, body, media, [])
        # a missing path parameter cannot happen on a real server: said only when nothing else can be wrong
        last = i == len(attempts) - 1
        real = [v for v in found if last or v.loc[:1] != ("path",) or v.type != "missing"]
        if real:
            return [{"loc": list(v.loc), "msg": v.msg, "type": v.type} for v in real[:5]]
    return []


def error_decision(op: Operation, decision: negotiation.Decision, errors: list[dict[str, Any]]) -> negotiation.Decision:
    """A forced error's generated decision made into the mock's own error for that status: the producer shapes it
    to the documented schema with the status in every status-like field and, for a 400 or 422, `errors` inside."""
    status = decision.status
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    validation = status in VALIDATION_STATUSES and bool(errors)
    if validation:
        first = errors[0]
        message = f"{'/'.join(map(str, first['loc']))}: {first['msg']}"
    else:
        message = title
    kind = problems.Problem("forced", status, title, message)
    return decision._replace(kind=negotiation.INVALID, problem=kind, detail=message,
                             value=errors if validation else None, reuse=negotiation.PER_REQUEST)  # fmt: skip
