"""Cases and failures: building the cases our rules add, and reading a Schemathesis failure as plain data
(`findings.FailureInfo`), so that nothing outside the engine looks inside the checker's objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..findings import FailureInfo

if TYPE_CHECKING:
    import requests


def first_case(operation: Any, credentials: set[str]) -> Any:
    """Any valid case of an operation, fast (no shrinking, no explaining); None when none can be generated.
    Parameters named in `credentials` (lower case) are left for the configured auth to fill."""
    from hypothesis import HealthCheck, Phase, find, settings

    plain = _plain_case(operation, credentials)
    if plain is not None:
        return plain
    try:
        return find(
            operation.as_strategy(),
            lambda _: True,
            settings=settings(
                database=None,
                max_examples=1,
                phases=[Phase.generate],
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),  # fmt: skip
        )
    except Exception:  # an operation Schemathesis cannot generate for is reported by the engine itself
        return None


def _plain_case(operation: Any, credentials: set[str]) -> Any:
    """A case with "x" (or the first enum value) for each required parameter, when that is valid and no body is
    needed: generating one costs ~0.2 s on a cold strategy, a tenth of a short run."""
    values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}, "cookie": {}}
    if len(operation.body):
        return None
    for parameter in operation.iter_parameters():
        location = str(getattr(parameter.location, "value", parameter.location))
        if parameter.name.lower() in credentials:
            if location != "header":
                return None  # a key in the query or a cookie is filled in at generation: let the strategy do it
            continue  # a header key is sent by the session
        if not parameter.is_required:
            continue
        schema = parameter.definition.get("schema", {}) if isinstance(parameter.definition, dict) else {}
        candidate = schema.get("enum", ["x"])[0] if isinstance(schema, dict) and schema.get("enum") else "x"
        if location not in values or not isinstance(candidate, str) or not parameter.is_valid(candidate):
            return None
        values[location][parameter.name] = candidate
    return operation.Case(path_parameters=values["path"], query=values["query"] or None,
                          headers=values["header"] or None, cookies=values["cookie"] or None)  # fmt: skip


def parameters(operation: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(location, name, schema) of each parameter of an operation."""
    found = []
    for parameter in operation.iter_parameters():
        definition = parameter.definition if hasattr(parameter, "definition") else {}
        schema = definition.get("schema", {}) if isinstance(definition, dict) else {}
        location = str(getattr(parameter.location, "value", parameter.location))
        found.append((location, str(parameter.name), schema if isinstance(schema, dict) else {}))
    return found


def case_with(operation: Any, base: Any, location: str, name: str, value: str) -> Any:
    """A copy of case `base` whose parameter `name` in `location` is `value` (a path value already encoded)."""
    from schemathesis.core import NOT_SET

    parts = {
        "path": dict(base.path_parameters or {}),
        "query": dict(base.query or {}),
        "header": dict(base.headers or {}),
    }
    parts[location][name] = value
    kwargs: dict[str, Any] = {
        "path_parameters": parts["path"],
        "query": parts["query"] or None,
        "headers": parts["header"] or None,
        "cookies": dict(base.cookies) if base.cookies else None,
        "media_type": base.media_type,
    }
    if base.body is not NOT_SET:
        kwargs["body"] = base.body
    case = operation.Case(**kwargs)
    # Configured credentials came along with the copied parts: say so, or `ignored_auth` takes them for generated ones
    case._has_explicit_auth = base._has_explicit_auth
    return case


def case_id(case: Any) -> str:
    """The id the checker sends with a case (its X-Schemathesis-TestCaseId header): how the session knows it left."""
    return str(case.id)


def path_values(case: Any) -> list[str]:
    return [str(value) for value in (getattr(case, "path_parameters", None) or {}).values()]


def request_kwargs(case: Any, base_url: str) -> dict[str, Any]:
    """What `requests.Session.request` takes to send a case."""
    return dict(case.as_transport_kwargs(base_url=base_url))


def case_operation_label(case: Any) -> str:
    return str(case.operation.label)


# --- failures ------------------------------------------------------------------------------------------------------


def is_undefined_status(failure: Any) -> bool:
    from schemathesis.openapi.checks import UndefinedStatusCode

    return isinstance(failure, UndefinedStatusCode)


def header(response: Any, name: str) -> str:
    """A header of the checker's response (lower-case names, a list of values each), "" when absent."""
    values = response.headers.get(name.lower()) or []
    return str(values[0]) if isinstance(values, list) and values else str(values or "")


def is_schema_failure(failure: Any) -> bool:
    """A `response_schema_conformance` failure: the body broke the checker's own view of the schema."""
    from schemathesis.openapi.checks import JsonSchemaError

    return isinstance(failure, JsonSchemaError)


def is_unanswered_auth_probe(failure: Any) -> bool:
    """An `ignored_auth` failure whose request without (or with wrong) credentials got no 2xx (the checker sends it on
    a session of its own, which `run.guarded_fresh_sessions` routes through ours); its titles say whether data came
    back ("API accepts ...") or anything else ("Unexpected response ...")."""
    from schemathesis.openapi.checks import IgnoredAuth

    return isinstance(failure, IgnoredAuth) and not str(failure.title).startswith("API accepts")


def failure_info(failure: Any) -> FailureInfo:
    """A Schemathesis failure as plain data."""
    from schemathesis.openapi.checks import JsonSchemaError

    info = FailureInfo(
        kind=type(failure).__name__,
        title=str(failure.title),
        message=str(failure.message),
        operation=str(failure.operation or ""),
        key=str(getattr(failure, "_unique_key", "") or ""),
    )
    if isinstance(failure, JsonSchemaError):
        info.schema = True
        info.instance_path = list(failure.instance_path)
        info.schema_path = list(failure.schema_path)
        info.instance = failure.instance
        info.validation_message = str(failure.validation_message or failure.message)
        root = getattr(failure, "_root_schema", None)
        if root is None and len(info.schema_path) == 1:
            # Without the root schema (4.30), a failure at the root still holds it as the failing keyword's schema
            # (FastAPI's `anyOf [Model, null]`), its references rewritten to point inside it
            root = failure.schema
        info.root_schema = root if isinstance(root, dict) else None
    return info


def adopt_body(response: requests.Response, content: bytes) -> None:
    """Hand a body we read ourselves (bounded in size and time) to `requests`, as if it had read it."""
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]
