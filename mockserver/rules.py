"""Our rules on top of Schemathesis' checks: what is never held against a server, which extra requests a run sends,
and the probe that every protected operation turns away a request without credentials.

Rules: a 429 is never a finding, and neither is a 401/403 the contract omits, when the request lacked valid
credentials (one contract warning instead); boundary strings go only where a string parameter sets no bound of its
own; the auth probe sends one valid request per protected operation with every credential stripped, and a 2xx to it
is an `ignored_auth` finding.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

from . import credentials, throttling
from .findings import Finding, Report, as_request, from_transport_error, received

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LONG = "x" * 5000
NON_ASCII = "ünïcødé-会話-🙂"
PATH_RESERVED = "a?b#c[d]e@f!g$h&i'j(k)l*m+n,o;p=q%r s"  # "/" would route elsewhere, not test this operation
QUERY_RESERVED = PATH_RESERVED + "/t"


class Rules:
    """Schemathesis hooks, and the report they write to from the engine's threads."""

    def __init__(self, report: Report, key: str | None, schemes: list[credentials.Scheme]) -> None:
        self.report = report
        self.key = key
        self.schemes = schemes
        self.lock = threading.Lock()

    def keep_failure(self, context: Any, failure: Any, case: Any, response: Any) -> bool:
        # `filter_failure` hook: what a contract check must not count against the server
        from schemathesis.openapi.checks import UndefinedStatusCode

        status = response.status_code
        if status == 429:
            return False
        if status in (401, 403) and isinstance(failure, UndefinedStatusCode) and self.lacks_credentials(response.request):
            with self.lock:
                self.report.warn(undocumented_rejection(case.operation.label, status))
            return False
        return True

    def lacks_credentials(self, request: Any) -> bool:
        return not self.key or not credentials.carries(request, self.key, self.schemes)

    def add_boundary_cases(self, context: Any, examples: list[Any]) -> None:
        # `before_add_examples` hook: strings a real backend chokes on, where the contract sets no maxLength
        operation = context.operation
        if operation is None:
            return
        base = examples[0] if examples else first_case(operation)
        if base is None:
            return
        for location, name in _plain_string_parameters(operation):
            values = [LONG, NON_ASCII, PATH_RESERVED if location == "path" else QUERY_RESERVED]
            if location != "path":
                values.insert(0, "")
            if location == "header":
                values = ["", LONG]  # headers carry ASCII only; the rest is negative data, for fuzz
            for value in values:
                examples.append(_with_value(operation, base, location, name, value))


def undocumented_rejection(label: str, status: int) -> str:
    return (f"contract: {label} answers {status} to requests without valid credentials, "
            f"but the contract documents no {status} response")


def requires_auth(document: dict[str, Any]) -> dict[str, bool]:
    """Operation label -> whether its security requirements need credentials."""
    found = {}
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items() if isinstance(item, dict) else ():
            if method in HTTP_METHODS and isinstance(operation, dict):
                security = operation.get("security", document.get("security")) or []
                # An empty requirement `{}` among the alternatives makes credentials optional
                found[f"{method.upper()} {path}"] = bool(security) and all(bool(item) for item in security)
    return found


def probe_auth(schema: Any, rules: Rules, base_url: str, session: Any, timeout: float) -> None:
    """One valid request per protected operation, without credentials: it must get 401/403, and never data."""
    import requests

    report = rules.report
    protected = requires_auth(schema.raw_schema)
    names = {scheme.parameter.lower() for scheme in rules.schemes}
    for result in schema.get_all_operations():
        operation = result.ok()
        if not protected.get(operation.label):
            continue
        case = first_case(operation)
        if case is None:
            continue
        kwargs = case.as_transport_kwargs(base_url=base_url)
        kwargs["headers"] = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in names}
        if isinstance(kwargs.get("params"), dict):
            kwargs["params"] = {k: v for k, v in kwargs["params"].items() if k.lower() not in names}
        kwargs.pop("cookies", None)
        try:
            response = session.request(**kwargs, timeout=timeout, allow_redirects=False)
        except throttling.BudgetSpent:
            return
        except requests.RequestException as exc:
            report.add(from_transport_error(operation.label, exc))
            continue
        status = response.status_code
        documented = operation.responses.find_by_status_code(status) is not None
        sent = as_request(response.request)
        if 200 <= status < 300:
            report.add(Finding(operation.label, "ignored_auth", "API accepts requests without authentication",
                               f"Expected 401 or 403, got {status} for a request without credentials",
                               distinct="IgnoredAuth", received=received(response), request=sent))
        elif status in (401, 403) and not documented:
            report.warn(undocumented_rejection(operation.label, status))
        elif status >= 500:
            report.add(Finding(operation.label, "not_a_server_error", "Server error",
                               f"Received {status} for a request without credentials", received=received(response),
                               request=sent))


def first_case(operation: Any) -> Any:
    from hypothesis import HealthCheck, Phase, find, settings

    try:
        return find(
            operation.as_strategy(),
            lambda _: True,
            # Any valid case will do: no shrinking, no explaining (they cost most of a second)
            settings=settings(
                database=None, max_examples=1, phases=[Phase.generate], derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except Exception:  # an operation Schemathesis cannot generate for is reported by the engine itself
        return None


def _plain_string_parameters(operation: Any) -> list[tuple[str, str]]:
    found = []
    for parameter in operation.iter_parameters():
        definition = parameter.definition if hasattr(parameter, "definition") else {}
        schema = definition.get("schema", {}) if isinstance(definition, dict) else {}
        location = str(getattr(parameter.location, "value", parameter.location))
        if not isinstance(schema, dict) or schema.get("type") != "string" or location == "cookie":
            continue
        if any(key in schema for key in ("maxLength", "enum", "const", "pattern", "format")):
            continue
        found.append((location, parameter.name))
    return found


def _with_value(operation: Any, base: Any, location: str, name: str, value: str) -> Any:
    parts = {
        "path": dict(base.path_parameters or {}),
        "query": dict(base.query or {}),
        "header": dict(base.headers or {}),
    }
    # Explicit cases go out as given: a path value must be encoded here
    parts[location][name] = quote(value, safe="") if location == "path" else value
    kwargs: dict[str, Any] = {
        "path_parameters": parts["path"],
        "query": parts["query"] or None,
        "headers": parts["header"] or None,
        "cookies": dict(base.cookies) if base.cookies else None,
        "media_type": base.media_type,
    }
    from schemathesis.core import NOT_SET

    if base.body is not NOT_SET:
        kwargs["body"] = base.body
    case = operation.Case(**kwargs)
    # Configured credentials came along with the copied parts: say so, or `ignored_auth` takes them for generated ones
    case._has_explicit_auth = base._has_explicit_auth
    return case
