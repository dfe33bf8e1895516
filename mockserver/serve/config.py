"""Server settings: one dataclass, filled by the CLI (each field's metadata is its option) or by `MOCKSERVER_*`
environment variables (the ASGI factory, worker processes). A field whose option names `commands` belongs to those
subcommands only (`serve`, `proxy`); the others belong to both."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from ..contract.mount import mounts
from .config_codecs import _ENV, ConfigError, _codec, parse_latency, parse_rate_limit

__all__ = ["AUTH_MODES", "SERVE", "Config", "ConfigError", "_codec", "option", "parse_latency", "parse_rate_limit"]

SERVE = ("serve",)
AUTH_MODES = ("enforce", "off")


def option(*flags: str, **argparse: Any) -> dict[str, Any]:
    """Field metadata for the command line: the flags (none: positional) and argparse keywords. The argparse
    destination is always the field's name, so an option is added in one place: its field."""
    return {"cli": {"flags": flags, **argparse}}


@dataclass
class Config:
    spec: list[str] | None = field(
        default=None,
        metadata=option(
            nargs="*",
            metavar="SPEC",
            help="the contracts: YAML/JSON files or http(s) URLs, each under its servers path (default: the built-in "
            "contract)",
            per_command={"proxy": {"help": "the contract: YAML/JSON file or http(s) URL (default: the built-in one)"}},
        ),
    )
    fixtures: list[str] | None = field(
        default=None,
        metadata=option(
            "--fixtures",
            commands=SERVE,
            action="append",
            metavar="DIR",
            help="fixtures folder, repeatable (default: the built-in fixtures with the built-in contract)",
        ),
    )
    mount: list[str] | None = field(
        default=None,
        metadata=option(
            "--mount",
            commands=SERVE,
            action="append",
            metavar="/PREFIX=FILE",
            help="serve the contract FILE under /PREFIX (a SPEC's own prefix replaced), repeatable",
        ),
    )
    host: str = field(
        default="127.0.0.1", metadata=option("--host", metavar="HOST", help="address to bind (default: 127.0.0.1)")
    )
    port: int = field(
        default=4010,
        metadata=option("-p", "--port", type="port", metavar="PORT", help="port (default: 4010; 0 picks a free one)"),
    )
    seed: int = field(
        default=0,
        metadata=option(
            "--seed", commands=SERVE, type=int, metavar="N", help="another deterministic world of generated data"
        ),
    )
    api_key: str | None = field(
        default=None,
        repr=False,
        metadata=option(
            "--api-key",
            metavar="KEY",
            per_command={
                "serve": {
                    "help": "require exactly this credential (without it any non-empty value passes); never "
                    "logged or journaled (default: $MOCKSERVER_API_KEY)"
                },
                "proxy": {
                    "help": "a credential to redact from the journal, the log and recorded fixtures, in every "
                    "form it takes on the wire (default: $MOCKSERVER_API_KEY)"
                },
            },
        ),
    )
    auth: str = field(
        default="enforce",
        metadata=option(
            "--auth",
            commands=SERVE,
            choices=AUTH_MODES,
            metavar="MODE",
            help="enforce: credentials as the contract declares them (a request without one gets 401); off: serve "
            "without credentials, as a server with auth disabled does (default: enforce)",
        ),
    )
    fixtures_only: bool = field(
        default=False,
        metadata=option(
            "--fixtures-only",
            commands=SERVE,
            action="store_true",
            help="requests without a fixture answer null where the contract allows it",
        ),
    )
    edge_cases: bool = field(
        default=False,
        metadata=option(
            "--edge-cases",
            commands=SERVE,
            action="store_true",
            help="boundary-seeking generated data instead of readable data",
        ),
    )
    latency: tuple[int, int] = field(
        default=(0, 0),
        metadata=option(
            "--latency",
            commands=SERVE,
            type="latency",
            metavar="MS|MIN-MAX",
            shown="none",
            help="added latency in milliseconds, fixed or drawn from MIN-MAX",
        ),
    )  # uniform in [min, max]
    error_rate: float = field(
        default=0.0,
        metadata=option(
            "--error-rate",
            commands=SERVE,
            type="rate",
            metavar="P",
            shown="0",
            help="fraction of requests answered 500/503, between 0 and 1",
        ),
    )
    cors: bool = field(default=True, metadata=option("--no-cors", action="store_false", help="no CORS headers at all"))
    cors_origins: list[str] = field(
        default_factory=list,
        metadata=option(
            "--cors-origin", action="append", metavar="ORIGIN", help="allow only these origins (repeatable)"
        ),
    )  # empty: any
    admin: bool = field(
        default=True, metadata=option("--no-admin", action="store_false", help="turn off the admin endpoints")
    )
    admin_prefix: str = field(
        default="/__mock",
        metadata=option("--admin-prefix", metavar="PREFIX", help="prefix of the admin endpoints (default: /__mock)"),
    )
    journal_size: int = field(
        default=1000,
        metadata=option(
            "--journal-size", type=int, metavar="N", help="requests kept in the journal; 0 keeps none (default: 1000)"
        ),
    )
    request_log: bool = field(
        default=True, metadata=option("--no-request-log", action="store_false", help="no per-request log line")
    )
    workers: int = field(
        default=1,
        metadata=option("--workers", commands=SERVE, type=int, metavar="N", help="worker processes (default: 1)"),
    )
    verbose: bool = field(
        default=False,
        metadata=option(
            "--verbose",
            "-v",
            action="store_true",
            help="list every contract warning and example not served, not just their count",
        ),
    )
    strict: bool = field(
        default=False,
        metadata=option(
            "--strict",
            action="store_true",
            help="refuse a contract with any mistake (by default one the mock can work around is a warning, and an "
            "operation it cannot serve answers a problem naming the mistake; docs/leniency.md)",
        ),
    )
    serve_invalid_format_examples: bool = field(
        default=False,
        metadata=option(
            "--serve-invalid-format-examples",
            commands=SERVE,
            action="store_true",
            help="serve contract examples that fail their schema only in a format (a date, an email...), as Prism does",
        ),
    )
    stateful: bool = field(
        default=False,
        metadata=option(
            "--stateful",
            commands=SERVE,
            action="store_true",
            help="collections from the contract: POST creates what GET returns, PUT/PATCH update, DELETE removes",
        ),
    )
    state_size: int = field(
        default=1000,
        metadata=option(
            "--state-size", commands=SERVE, type=int, metavar="N", help="items kept per collection, oldest out first"
        ),
    )
    state_url: str | None = field(
        default=None,
        metadata=option(
            "--state-url",
            commands=SERVE,
            metavar="redis://HOST:PORT/DB",
            help="keep state, overrides, sequence positions and the journal in Redis, shared by every replica",
        ),
    )
    watch: bool = field(
        default=False,
        metadata=option(
            "--watch",
            commands=SERVE,
            action="store_true",
            help="re-read the contract and fixtures when they change on disk",
        ),
    )
    rate_limit: int = field(
        default=0,
        metadata=option(
            "--rate-limit",
            commands=SERVE,
            type="rate_limit",
            metavar="N/s",
            help="answer 429 with Retry-After past N requests per second (default: off)",
        ),
    )
    socketio_path: str = field(
        default="/socket.io/",
        metadata=option(
            "--socketio-path",
            metavar="PATH",
            per_command={
                "serve": {
                    "help": "where socket.io (Engine.IO v4) is answered from the stream fixtures (default: /socket.io/)"
                },
                "proxy": {
                    "help": "where socket.io (Engine.IO v4) traffic is relayed to the upstream (default: /socket.io/)"
                },
            },
        ),
    )
    # --- forwarding to a real server (serve/forward/proxy.py): `mockserver proxy`, and `serve --upstream` (hybrid) ---
    upstream: str | None = field(
        default=None,
        metadata=option(
            "--upstream",
            metavar="URL",
            per_command={
                "serve": {
                    "help": "hybrid serving: what no fixture or override answers goes to this real server "
                    "(never to the contract's servers)"
                },
                "proxy": {
                    "help": "the real server: every request goes there (never to the contract's servers)",
                    "required": True,
                },
            },
        ),
    )
    upstream_timeout: float = field(
        default=30.0,
        metadata=option(
            "--upstream-timeout",
            type="positive_float",
            metavar="SECONDS",
            help="longest wait for a whole upstream answer before a 504 (default: 30)",
        ),
    )
    max_upstream_bytes: int = field(
        default=8 * 1024 * 1024,
        metadata=option(
            "--max-upstream-bytes",
            type="positive_int",
            metavar="N",
            help="largest upstream body passed on; a larger one is a 502 (default: 8 MiB)",
        ),
    )
    record: str | None = field(
        default=None,
        metadata=option(
            "--record", metavar="DIR", help="write every upstream answer as a fixture file (redacted, validated) here"
        ),
    )
    violations_header: bool = field(
        default=False,
        metadata=option(
            "--violations-header",
            action="store_true",
            help="add X-Contract-Violations to forwarded answers that break the contract",
        ),
    )
    junit_xml: str | None = field(
        default=None,
        metadata=option(
            "--junit-xml", metavar="FILE", help="at exit, one test case per operation, failing on violations"
        ),
    )
    proxy: bool = False  # set by `mockserver proxy`: forward every request, not only what no fixture answers
    max_delay_ms: int = 10_000
    max_body_bytes: int = 1_048_576

    def __post_init__(self) -> None:
        if isinstance(self.fixtures, str):  # one folder, as the API took it before --fixtures was repeatable
            self.fixtures = [self.fixtures] if self.fixtures else []
        if isinstance(self.spec, str):  # one contract, as the API took it before serve took several
            self.spec = [self.spec]
        try:
            several = len(mounts(self.spec, self.mount)) > 1
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if several and (self.proxy or self.upstream):
            raise ConfigError(f"{'proxy' if self.proxy else '--upstream'} forwards to one server: give it one contract "
                              "(several are served by the mock alone)")  # fmt: skip
        if not 0.0 <= self.error_rate <= 1.0:
            raise ConfigError(f"error rate must be between 0 and 1, got {self.error_rate}")
        if self.latency[0] < 0 or self.latency[1] < self.latency[0]:
            raise ConfigError(f"latency must be MS or MIN-MAX with 0 <= MIN <= MAX, got {self.latency}")
        if not self.admin_prefix.startswith("/") or self.admin_prefix.endswith("/"):
            raise ConfigError(f"admin prefix must start with '/' and not end with one, got {self.admin_prefix!r}")
        sio = self.socketio_path
        if not sio.startswith("/") or not sio.strip("/") or re.search(r"[\s?#%]", sio) \
                or sio.rstrip("/") == self.admin_prefix:  # fmt: skip
            raise ConfigError(f"--socketio-path must be a path like /socket.io/, got {sio!r}")
        if self.journal_size < 0:
            raise ConfigError("journal size must be >= 0")
        if self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if self.state_size < 1:
            raise ConfigError("--state-size must be at least 1")
        if self.rate_limit < 0:
            raise ConfigError("--rate-limit must be N/s with N >= 1")
        if self.state_url is not None and not re.fullmatch(r"rediss?://[^\s/]+(/\d+)?/?", self.state_url):
            raise ConfigError(f"--state-url must be redis://HOST:PORT/DB, got {self.state_url!r}")
        self._check_forwarding()

    def _check_forwarding(self) -> None:
        if self.upstream is None:
            if self.proxy:
                raise ConfigError("proxy needs --upstream URL: the real server to forward to")
            for name, flag in (("record", "--record"), ("junit_xml", "--junit-xml")):
                if getattr(self, name):
                    raise ConfigError(f"{flag} needs --upstream URL (answers are recorded and checked as forwarded)")
            return
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--upstream must be an http(s) URL with a host, got {self.upstream!r}")
        if parts.username is not None or parts.password is not None:
            raise ConfigError("--upstream must not carry credentials: the proxy passes on the client's own headers")
        if parts.query or parts.fragment:
            raise ConfigError(f"--upstream must not have a query or fragment, got {self.upstream!r}")
        if self.workers > 1:
            raise ConfigError("--upstream works with one worker: its report and recording live in one process")
        if self.upstream_timeout <= 0 or self.max_upstream_bytes < 1:
            raise ConfigError("--upstream-timeout and --max-upstream-bytes must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get("MOCKSERVER_" + f.name.upper())
            if raw is not None:
                values[f.name] = _ENV[_codec(f.metadata, f.type)][0](raw, f.name)
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The config as MOCKSERVER_* variables (what `from_env` reads back), for worker processes."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            env["MOCKSERVER_" + f.name.upper()] = _ENV[_codec(f.metadata, f.type)][1](value)
        return env
