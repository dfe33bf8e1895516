"""The compatibility ledger: every private name of Schemathesis (or of `requests`) the engine relies on, the wording
it reads, and the capability flags for what the installed release does that 4.30 (the last for Python 3.10) does not.

Rules: `tests/check/test_engine.py` (the canary) fails loudly when a name listed here disappears, checks each flag
against the installed release, and fails when a module of the engine uses a private name not listed here. The
release is read from metadata, never by importing Schemathesis, so `mockserver serve` never pays for it.
"""

from __future__ import annotations

import re
from importlib.metadata import version

# Private names this module relies on, checked by the canary test: (importable object path, attribute)
PRIVATE = (
    ("schemathesis.engine.core.Engine", "_create_execution_plan"),
    ("schemathesis.generation.case.Case", "_has_explicit_auth"),
    ("schemathesis.core.failures.Failure", "_unique_key"),
    ("requests.models.Response", "_content"),
    ("requests.models.Response", "_content_consumed"),
    ("schemathesis.specs.openapi.checks", "_raise_no_auth_error"),  # its wording, in WORDING
)
# Private names used when present: without them findings say less, nothing breaks (the 3.10 release lacks these)
OPTIONAL = (("schemathesis.openapi.checks.JsonSchemaError", "_root_schema"),)


def _release() -> tuple[int, int]:
    """The installed Schemathesis' (major, minor), from its metadata: no import, so `mockserver serve` never pays."""
    found = re.match(r"(\d+)\.(\d+)", version("schemathesis"))
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


RELEASE = _release()
# What the installed release does that 4.30, the last release for Python 3.10, does not. On 4.30 this module makes up
# for each where it can (see the function named); tests assert what the flag says, and the canary checks each flag
# against the release.
KEEPS_ROOT_SCHEMA = RELEASE >= (4, 32)  # a schema failure keeps the whole response schema: `failure_info`
RECORDS_STARTING_STATE = RELEASE >= (4, 32)  # "missing header" cases stay negative: `_keep_starting_state`
ESCAPES_VCR_QUOTES = RELEASE >= (4, 32)  # the cassette's single-quoted YAML doubles quotes: `write_vcr`
QUICK_TARGET_PHASE = RELEASE >= (4, 32)  # fuzzing's Hypothesis target phase ends at once: `_skip_target_phase`
# (flag, importable object path, attribute that comes with the capability); None where only behaviour tells
CAPABILITIES = (
    ("KEEPS_ROOT_SCHEMA", "schemathesis.openapi.checks.JsonSchemaError", "_root_schema"),
    ("RECORDS_STARTING_STATE", "schemathesis.generation.case.Case", "_record_starting_state"),
    ("ESCAPES_VCR_QUOTES", "schemathesis.reporting.vcr", "_escape_single_quoted"),
    ("QUICK_TARGET_PHASE", None, None),
)
# Private names used only without RECORDS_STARTING_STATE, by its stand-in (the canary checks them there)
STARTING_STATE_PRIVATE = (
    ("schemathesis.generation.case.Case", "_meta"),
    ("schemathesis.generation.case.Case", "_hash_container"),
    ("schemathesis.generation.meta.CaseMetadata", "_dirty"),
)
# Wording of the checker that a rule here reads: (importable object path, text it must contain)
WORDING = (("schemathesis.specs.openapi.checks._raise_no_auth_error", '"API accepts requests without authentication"'),)
