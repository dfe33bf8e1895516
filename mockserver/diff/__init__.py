"""Contract evolution: what changed between two OpenAPI documents, and whether it breaks clients.

Rules: imports only `mockserver.contract` (both products use it: `mockserver diff`, and `check --compare-contract`
against a live server's own contract). The levels and rule ids are oasdiff's.
"""

from __future__ import annotations

from .command import DESCRIPTION, EXIT_CODES, HELP, add_arguments, diff, live_drift, result, run
from .model import Contract
from .operations import compare
from .rules import ERR, INFO, RULES, WARN, Change

__all__ = ["DESCRIPTION", "ERR", "EXIT_CODES", "HELP", "INFO", "RULES", "WARN", "Change", "Contract",
           "add_arguments", "compare", "diff", "live_drift", "result", "run"]  # fmt: skip
