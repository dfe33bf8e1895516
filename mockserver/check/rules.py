"""Our rules on top of the checker's own checks: what is never held against a server, which extra requests a run
sends, and the probe that every protected operation turns away a request without credentials.

Rules: a 429 is never a finding, and neither is a 401/403 the contract omits, when the request lacked valid
credentials (one contract warning instead); boundary strings go only where a string parameter sets no bound of its
own, and never into a credential; the auth probe sends one valid request per protected operation with every
credential stripped, and a 2xx to it is an `ignored_auth` finding. Hooks get the checker's objects and hand them
to engine.py, the only module that looks inside them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ..contract import security
from ..contract.security import SecurityScheme
from ..contract.spec import Spec
from . import engine, throttling
from .findings import Finding, Report, as_request, from_transport_error, received
from .plan import Plan

LONG = "x" * 5000
NON_ASCII = "ünïcødé-会話-🙂"
PATH_RESERVED = "a?b#c[d]e@f!g$h&i'j(k)l*m+n,o;p=q%r s"  # "/" would route elsewhere, not test this operation
QUERY_RESERVED = PATH_RESERVED + "/t"


class Rules:
    """The checker's hooks, and the report they write to from the engine's threads."""

    def __init__(self, report: Report, key: str | None, schemes: list[SecurityScheme]) -> None:
        self.report = report
        self.key = key
        self.schemes = schemes
        self.credential_names = security.secret_names(schemes)
        self.lock = threading.Lock()

    def hooks(self, plan: Plan) -> dict[str, Callable[..., Any]]:
        """Our hooks, by the checker's hook name; a new rule that filters or adds cases is one more entry."""
        found: dict[str, Callable[..., Any]] = {"filter_failure": self.keep_failure}
        if plan.boundary_values:
            found["before_add_examples"] = self.add_boundary_cases
        return found

    def probes(self) -> list[Callable[[Any, Spec, str, Any, float], None]]:
        """Requests of our own, sent before the run: (schema, spec, base_url, session, timeout) -> None."""
        return [self.probe_auth]

    def keep_failure(self, context: Any, failure: Any, case: Any, response: Any) -> bool:
        # `filter_failure` hook: what a contract check must not count against the server
        status = response.status_code
        if status == 429:
            return False
        if status in (401, 403) and engine.is_undefined_status(failure) and self.lacks_credentials(response.request):
            with self.lock:
                self.report.warn(undocumented_rejection(engine.case_operation_label(case), status))
            return False
        return True

    def lacks_credentials(self, request: Any) -> bool:
        if not self.key or request is None:
            return True
        headers, url = request.headers, str(getattr(request, "url", "") or "")
        return not any(scheme.carries(headers, url, self.key) for scheme in self.schemes)

    def add_boundary_cases(self, context: Any, examples: list[Any]) -> None:
        # `before_add_examples` hook: strings a real backend chokes on, where the contract sets no maxLength
        operation = context.operation
        if operation is None:
            return
        base = examples[0] if examples else engine.first_case(operation)
        if base is None:
            return
        for location, name in self.plain_string_parameters(operation):
            values = [LONG, NON_ASCII, PATH_RESERVED if location == "path" else QUERY_RESERVED]
            if location != "path":
                values.insert(0, "")
            if location == "header":
                values = ["", LONG]  # headers carry ASCII only; the rest is negative data, for fuzz
            for value in values:
                sent = quote(value, safe="") if location == "path" else value  # explicit cases go out as given
                examples.append(engine.case_with(operation, base, location, name, sent))

    def plain_string_parameters(self, operation: Any) -> list[tuple[str, str]]:
        found = []
        for location, name, schema in engine.parameters(operation):
            if schema.get("type") != "string" or location == "cookie" or name.lower() in self.credential_names:
                continue
            if any(key in schema for key in ("maxLength", "enum", "const", "pattern", "format")):
                continue
            found.append((location, name))
        return found

    def probe_auth(self, schema: Any, spec: Spec, base_url: str, session: Any, timeout: float) -> None:
        """One valid request per protected operation, without credentials: it must get 401/403, and never data."""
        probe_auth(schema, spec, self, base_url, session, timeout)


def undocumented_rejection(label: str, status: int) -> str:
    return (f"contract: {label} answers {status} to requests without valid credentials, "
            f"but the contract documents no {status} response")  # fmt: skip


def probe_auth(schema: Any, spec: Spec, rules: Rules, base_url: str, session: Any, timeout: float) -> None:
    import requests

    report = rules.report
    protected = {op.key for op in spec.operations if op.requires_auth}
    names = rules.credential_names
    for operation in engine.operations(schema):
        label = engine.label(operation)
        if label not in protected:
            continue
        case = engine.first_case(operation)
        if case is None:
            continue
        kwargs = engine.request_kwargs(case, base_url)
        kwargs["headers"] = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in names}
        if isinstance(kwargs.get("params"), dict):
            kwargs["params"] = {k: v for k, v in kwargs["params"].items() if k.lower() not in names}
        kwargs.pop("cookies", None)
        try:
            response = session.request(**kwargs, timeout=timeout, allow_redirects=False)
        except throttling.BudgetSpent:
            return
        except requests.RequestException as exc:
            report.add(from_transport_error(label, exc))
            continue
        status = response.status_code
        sent = as_request(response.request)
        if 200 <= status < 300:
            report.add(Finding(label, "ignored_auth", "API accepts requests without authentication",
                               f"Expected 401 or 403, got {status} for a request without credentials",
                               distinct="IgnoredAuth", received=received(response), request=sent))  # fmt: skip
        elif status in (401, 403) and not engine.documents_status(operation, status):
            report.warn(undocumented_rejection(label, status))
        elif status >= 500:
            report.add(Finding(label, "not_a_server_error", "Server error",
                               f"Received {status} for a request without credentials", received=received(response),
                               request=sent))  # fmt: skip
