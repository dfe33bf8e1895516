"""Schemathesis, as the rest of `check/` sees it: the only package that imports it or touches a private name of it
(or of `requests`). `loading` (contract, configuration, hooks), `cases` (cases our rules add; failures as plain
data), `run` (the engine on a daemon thread, emitting plain `events`), `vcr` (cassette text), `replay` (judging a
replayed answer) and `ledger` (every private name relied on and the capability flags, checked by the canary in
tests/check/test_engine.py).

Rules: Schemathesis is imported inside functions, so `mockserver serve` starts fast. No Schemathesis object leaves
this package: the run gets `events` (findings, cassette entries already rendered), rules get plain facts. Python
3.10 gets Schemathesis 4.30 (4.31+ needs 3.11): what it does differently is handled here and nowhere else, behind the
flags in `ledger`, which the canary checks against the installed release and tests read.
"""

from __future__ import annotations

from . import events, vcr
from .cases import (
    adopt_body,
    case_id,
    case_operation_label,
    case_with,
    failure_info,
    first_case,
    header,
    is_schema_failure,
    is_unanswered_auth_probe,
    is_undefined_status,
    parameters,
    path_values,
    request_kwargs,
)
from .ledger import (
    CAPABILITIES,
    ESCAPES_VCR_QUOTES,
    KEEPS_ROOT_SCHEMA,
    OPTIONAL,
    PRIVATE,
    QUICK_TARGET_PHASE,
    RECORDS_STARTING_STATE,
    RELEASE,
    STARTING_STATE_PRIVATE,
    WORDING,
)
from .loading import (
    cache_dir,
    configure,
    documents_status,
    keep_storage_out_of_cwd,
    label,
    load,
    operations,
    path_template,
    set_max_time,
)
from .replay import Target, known_checks, load_for_replay, recheck
from .run import GRACE, guarded_fresh_sessions, pump, start

__all__ = [
    "CAPABILITIES", "ESCAPES_VCR_QUOTES", "GRACE", "KEEPS_ROOT_SCHEMA", "OPTIONAL", "PRIVATE", "QUICK_TARGET_PHASE",
    "RECORDS_STARTING_STATE", "RELEASE", "STARTING_STATE_PRIVATE", "WORDING", "Target", "adopt_body", "cache_dir",
    "case_id", "case_operation_label", "case_with", "configure", "documents_status", "events", "failure_info",
    "first_case", "guarded_fresh_sessions", "header", "is_schema_failure", "is_unanswered_auth_probe",
    "is_undefined_status", "keep_storage_out_of_cwd", "known_checks", "label", "load", "load_for_replay",
    "operations", "parameters", "path_template", "path_values", "pump", "recheck", "request_kwargs", "set_max_time",
    "start", "vcr",
]  # fmt: skip
