"""Our rules on top of the checker's own checks: what is never held against a server, which extra requests a run
sends, and the probe that every protected operation turns away a request without credentials.

Rules: a 429 is never a finding (throttling waits it out; an operation that never gets past it is untested), and
neither is what `verdicts.never_held` excuses (a 401/403 the contract omits, to a request without valid
credentials: one contract warning instead); each check in `CATALOGUE` says how `replay` judges it again;
boundary strings go only where a string parameter sets no bound of its own, and never into a credential: at most
`len(PATH_VALUES)` extra requests per path parameter, `len(QUERY_VALUES)` per query and `len(HEADER_VALUES)` per
header parameter; the auth probe sends one valid request per protected operation with every credential stripped, and
a 2xx to it is an `ignored_auth` finding. Hooks get the checker's objects and hand them to engine.py, the only module
that looks inside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..contract import security
from ..contract.schemas import RESPONSE
from ..contract.security import SecurityScheme
from ..contract.spec import Operation, Spec
from ..contract.verdicts import never_held
from . import engine, throttling
from .engine.events import Event, Found, Untested, Warned
from .findings import Finding, as_request, from_transport_error, received
from .plan import CHECK, FUZZ, Plan


def utf8_of(size: int) -> str:
    """Text of exactly `size` bytes in UTF-8, made of 2-, 3- and 4-byte characters (ASCII fills the rest)."""
    text = "ü会🙂" * (size // 9)
    return text + "x" * (size - len(text.encode()))


NON_ASCII = "ünïcødé-会話-🙂"
PATH_RESERVED = "a?b#c[d]e@f!g$h&i'j(k)l*m+n,o;p=q%r s"  # "/" would route elsewhere, not test this operation
QUERY_RESERVED = PATH_RESERVED + "/t"
LENGTHS = (255, 256, 1024, 5000)  # bytes: a 255-byte limit (file names, VARCHAR(255)) is common, and so is a crash
# Strings real backends choke on (one we met answers 500 to a NUL byte and to an id over 255 bytes).
# Path values go out as written here (already percent-encoded); query and header values are encoded on sending.
PATH_VALUES = (
    "a%00b",  # NUL
    "a%01b%09c%0Ad%0De%1Bf%7F",  # other control characters
    *("x" * n for n in LENGTHS),
    *(quote(utf8_of(n), safe="") for n in LENGTHS),
    quote(NON_ASCII, safe=""),
    "a%2Fb",  # an encoded slash: one segment for the client, maybe two for the server
    "%2E",  # dot segments, encoded so that no client folds them away before the server sees them
    "%2E%2E",
    quote(PATH_RESERVED, safe=""),
)
TRAILING_SLASH = "abc/"  # only for a parameter that ends the path
QUERY_VALUES = ("", "a\x00b", "a\x01b\tc\nd\re\x1bf\x7f", *("x" * n for n in LENGTHS), *(utf8_of(n) for n in LENGTHS),
                NON_ASCII, QUERY_RESERVED)  # fmt: skip
HEADER_VALUES = ("", "x" * 256, "x" * 5000)  # headers carry ASCII only; the rest is negative data, for fuzz


RECHECK, WITHOUT_CREDENTIALS, TRANSPORT = "recheck", "without credentials", "transport"


@dataclass(frozen=True)
class Check:
    """A check a run can report, and how `mockserver replay` judges it again: `RECHECK` (the checker's check on the
    new answer), `WITHOUT_CREDENTIALS` (sent again without them: a 2xx fails), `TRANSPORT` (fails on a transport
    error). `sent`: which command enables it in the checker (`check` runs in fuzz too), "" for our own verdicts."""

    name: str
    replay: str
    sent: str = ""


# Every check a cassette can name: a new rule is one entry here (and its replay, if new, one in replay.REPLAYS)
CATALOGUE = {check.name: check for check in (
    Check("not_a_server_error", RECHECK, CHECK),
    Check("status_code_conformance", RECHECK, CHECK),
    Check("content_type_conformance", RECHECK, CHECK),
    Check("response_schema_conformance", RECHECK, CHECK),
    Check("response_headers_conformance", RECHECK, CHECK),
    Check("ignored_auth", WITHOUT_CREDENTIALS, CHECK),
    Check("negative_data_rejection", RECHECK, FUZZ),
    Check("missing_required_header", RECHECK, FUZZ),
    Check("unsupported_method", RECHECK, FUZZ),
    Check("response_time", TRANSPORT),
    Check("response_size", TRANSPORT),
    Check("connection", TRANSPORT),
    Check("(error)", TRANSPORT),  # a request that got no answer at all
)}  # fmt: skip


def boundary_values(location: str, name: str, path: str) -> tuple[str, ...]:
    """The boundary strings a plain string parameter gets (`Rules.add_boundary_cases`); a path parameter that ends
    the path also a trailing slash."""
    values = {"path": PATH_VALUES, "query": QUERY_VALUES, "header": HEADER_VALUES}[location]
    return (*values, TRAILING_SLASH) if location == "path" and path.endswith("{" + name + "}") else values


class Rules:
    """The checker's hooks and our probes; what they find is handed to `emit` (the run writes the report)."""

    def __init__(self, emit: Callable[[Event], None], key: str | None, schemes: list[SecurityScheme],
                 spec: Spec | None = None) -> None:  # fmt: skip
        self.emit = emit
        self.key = key
        self.schemes = schemes
        self.credential_names = security.secret_names(schemes)
        self.spec = spec
        self.boundary: dict[str, set[str]] = {}  # operation -> ids of the boundary cases planned for it

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
        if status == 429 or (status == 503 and response.headers.get("Retry-After")):
            return False  # "come back later" says nothing about the contract (throttling never lets one through)
        if engine.is_unanswered_auth_probe(failure):
            # The checker's own probe without credentials got neither data nor a refusal (a 429 from a rate limit,
            # a 404, a 5xx): that is no evidence of ignored auth (a 5xx there is our probe_auth's finding)
            return False
        if engine.is_schema_failure(failure) and self.fits_response_view(engine.case_operation_label(case), response):
            return False  # the checker forbids every writeOnly property; null for a nullable one is no leak
        if status >= 500 and engine.is_undefined_status(failure):
            return False  # `not_a_server_error` reports it, with its cause; "undocumented 500" would say it twice
        if status < 500 and TRAILING_SLASH in engine.path_values(case):
            # "/things/abc/" is another path: a 404 or a redirect is a fair answer; only a crash is a finding
            return False
        if engine.is_undefined_status(failure) and never_held(status, not self.lacks_credentials(response.request)):
            self.emit(Warned(undocumented_rejection(engine.case_operation_label(case), status)))
            return False
        return True

    def fits_response_view(self, label: str, response: Any) -> bool:
        """Whether the body fits the contract's RESPONSE view (contract/schemas.py, shared with the proxy): a writeOnly
        property never answered with a value, but a nullable one answered null (FastAPI's `SecretStr | None`)."""
        op = self.spec.find(label) if self.spec is not None else None
        documented = op.response_for(response.status_code) if op is not None else None
        media = engine.header(response, "content-type").split(";")[0].strip().lower()
        found = next((m for k, m in documented.content.items() if k.lower() == media), None) if documented else None
        if self.spec is None or found is None or found.schema is None:
            return False
        try:
            body = json.loads(response.content)
        except ValueError:
            return False
        view = self.spec.schemas.view(found.schema, RESPONSE, label)
        return bool(self.spec.schemas.validator(view).is_valid(body))

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
        base = examples[0] if examples else engine.first_case(operation, self.credential_names)
        if base is None:
            return
        path = engine.path_template(operation)
        for location, name in self.plain_string_parameters(operation):
            for value in boundary_values(location, name, path):
                case = engine.case_with(operation, base, location, name, value)
                self.boundary.setdefault(engine.label(operation), set()).add(engine.case_id(case))
                examples.append(case)

    def plain_string_parameters(self, operation: Any) -> list[tuple[str, str]]:
        found = engine.parameters(operation)
        return [(where, name) for where, name, schema in found if self.is_plain(where, name, schema)]

    def is_plain(self, location: str, name: str, schema: Any) -> bool:
        return isinstance(schema, dict) and schema.get("type") == "string" and location in ("path", "query", "header") \
            and name.lower() not in self.credential_names \
            and not any(key in schema for key in ("maxLength", "enum", "const", "pattern", "format"))  # fmt: skip

    def boundary_planned(self, op: Operation) -> int:
        """How many boundary cases `add_boundary_cases` will give an operation, from the contract alone: for one the
        run never reached, whose cases the engine never made."""
        return sum(len(boundary_values(p.location, p.name, op.path))
                   for p in op.parameters if self.is_plain(p.location, p.name, p.schema))  # fmt: skip

    def probe_auth(self, schema: Any, spec: Spec, base_url: str, session: Any, timeout: float) -> None:
        """One valid request per protected operation, without credentials: it must get 401/403, and never data."""
        probe_auth(schema, spec, self, base_url, session, timeout)


def undocumented_rejection(label: str, status: int) -> str:
    return (f"contract: {label} answers {status} to requests without valid credentials, "
            f"but the contract documents no {status} response")  # fmt: skip


def probe_auth(schema: Any, spec: Spec, rules: Rules, base_url: str, session: Any, timeout: float) -> None:
    import requests

    emit = rules.emit
    protected = {op.key for op in spec.operations if op.requires_auth}
    names = rules.credential_names
    for operation in engine.operations(schema):
        label = engine.label(operation)
        if label not in protected:
            continue
        case = engine.first_case(operation, rules.credential_names)
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
        except throttling.RateLimited as exc:
            emit(Untested(label, f"the request without credentials: {exc}"))
            continue
        except requests.RequestException as exc:
            emit(Found(from_transport_error(label, exc)))
            continue
        status = response.status_code
        sent = as_request(response.request)
        if 200 <= status < 300:
            emit(Found(Finding(label, "ignored_auth", "API accepts requests without authentication",
                               f"Expected 401 or 403, got {status} for a request without credentials",
                               distinct="IgnoredAuth", received=received(response), request=sent)))  # fmt: skip
        elif status in (401, 403) and never_held(status, False) and not engine.documents_status(operation, status):
            emit(Warned(undocumented_rejection(label, status)))
        elif status >= 500:
            emit(Found(Finding(label, "not_a_server_error", "Server error",
                               f"Received {status} for a request without credentials", received=received(response),
                               request=sent)))  # fmt: skip
