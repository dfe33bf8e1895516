"""What one check or fuzz run does: the `Plan`, filled by the command line (each field is its option) or by code.

Rules: the plan holds no contract and no connection, only choices; `conformance.run` carries it out. The API key is
never shown by a repr. Field metadata (`option(...)`) is the command-line option: adding an option is adding a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .shards import Shard

CHECK, FUZZ = "check", "fuzz"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FUZZ_CASSETTE = "mockserver-fuzz-failures.yaml"


def option(*flags: str, commands: tuple[str, ...] = (CHECK, FUZZ), **argparse: Any) -> dict[str, Any]:
    """Field metadata for the command line: the flags and argparse keywords, and which commands take it."""
    return {"cli": {"flags": flags, "commands": commands, **argparse}}


@dataclass
class Plan:
    # `base_url` has no default (a Plan names its server); on the command line it is --url, checked by the command
    base_url: str = field(
        metadata=option("--url", "-u", metavar="BASE_URL", help="the server to test; the only host that gets requests")
    )
    spec: str | None = field(
        default=None,
        metadata=option(
            nargs="?",
            metavar="SPEC",
            help="the contract: YAML/JSON file or http(s) URL (default: the built-in contract)",
        ),
    )
    api_key: str | None = field(
        default=None,
        repr=False,
        metadata=option(
            "--api-key",
            metavar="KEY",
            help="credentials, sent where the contract's security scheme says (default: $MOCKSERVER_API_KEY)",
        ),
    )
    fuzz: bool = False
    max_examples: int = field(
        default=20,
        metadata=option(
            "--max-examples", type="positive_int", metavar="N", help="generated cases per operation and phase"
        ),
    )
    seed: int | None = field(
        default=None,
        metadata=option(
            "--seed",
            type=int,
            metavar="N",
            shown="random",
            help="seed, to repeat a run exactly (the summary prints the one used)",
        ),
    )
    include: list[str] = field(
        default_factory=list,
        metadata=option(
            "--include",
            action="append",
            metavar="PATH_OR_OPERATION",
            help="test only this path, 'METHOD /path' or operationId (repeatable)",
        ),
    )
    shard: Shard | None = field(
        default=None,
        metadata=option(
            "--shard",
            type="shard",
            metavar="I/N",
            help="run only shard I of N (1-based): a partition of the operations that every machine computes alike, "
            "for a CI matrix; merge the JUnit files with `mockserver report merge`",
        ),
    )
    workers: int = field(
        default=1, metadata=option("--workers", type="positive_int", metavar="N", help="concurrent requests")
    )
    request_timeout: float = field(
        default=10.0,
        metadata=option(
            "--request-timeout", type="positive_float", metavar="S", help="seconds for one complete answer"
        ),
    )
    rate_limit: float | None = field(
        default=None,
        metadata=option(
            "--rate-limit",
            type="per_second",
            metavar="N/s",
            shown="none",
            help="at most N requests per second (0.5/s: one every two seconds)",
        ),
    )
    max_requests: int | None = field(
        default=None,
        metadata=option(
            "--max-requests", type="positive_int", metavar="N", commands=(FUZZ,), help="stop after N requests"
        ),
    )
    duration: float | None = field(
        default=None,
        metadata=option(
            "--duration", type="positive_float", metavar="S", commands=(FUZZ,), help="stop after S seconds"
        ),
    )
    min_coverage: float | None = field(
        default=None,
        metadata=option(
            "--min-coverage",
            type="positive_float",
            metavar="PCT",
            shown="none",
            help="a run that sent fewer than PCT%% of its planned boundary cases (NUL, control characters, very long "
            "and encoded values) is inconclusive (exit 3), as is one that never reached a selected operation",
        ),
    )
    allow_unsafe_methods: bool = field(
        default=False,
        metadata=option(
            "--allow-unsafe-methods",
            action="store_true",
            commands=(CHECK, FUZZ),
            help="also test operations that are not GET/HEAD/OPTIONS (POST, PUT, PATCH, DELETE, ...): for disposable "
            "test servers only, never a deployment you care about",
        ),
    )
    boundary_values: bool = True  # empty / long / non-ASCII / reserved strings where a string parameter has no bound
    junit_xml: str | None = field(
        default=None, metadata=option("--junit-xml", metavar="PATH", help="write a JUnit XML report for CI")
    )
    compare_contract: str | None = field(
        default=None,
        metadata=option(
            "--compare-contract",
            metavar="PATH_OR_URL",
            help="first, diff the contract against the server's own published one (its /openapi.json, on BASE_URL's "
            "host, or a file): a breaking change (mockserver diff's ERR) fails the run",
        ),
    )
    cassette: str | None = field(
        default=None,
        metadata=option(
            "--cassette",
            metavar="PATH",
            help="save failing requests as a VCR cassette (key left out) for `mockserver replay`; '' for none",
            shown="none",
        ),
    )
    progress: bool = field(
        default=True, metadata=option("--no-progress", action="store_false", help="no progress display")
    )


# Where fuzz differs from check: more cases, and bounded for a live deployment
FUZZ_DEFAULTS: dict[str, Any] = {"max_examples": 100, "rate_limit": 10.0, "max_requests": 600, "duration": 60.0,
                                 "cassette": FUZZ_CASSETTE}  # fmt: skip
