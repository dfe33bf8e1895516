"""Server settings: one dataclass, filled by the CLI or by `MOCKSERVER_*` environment variables (ASGI factory)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields


class ConfigError(ValueError):
    pass


@dataclass
class Config:
    spec: str | None = None  # None: the built-in contract
    fixtures: str | None = None  # None: the built-in fixtures with the built-in contract, none otherwise
    seed: int = 0
    api_key: str | None = field(default=None, repr=False)
    fixtures_only: bool = False
    edge_cases: bool = False
    latency: tuple[int, int] = (0, 0)  # milliseconds, uniform in [min, max]
    error_rate: float = 0.0
    cors: bool = True
    cors_origins: list[str] = field(default_factory=list)  # empty: any origin
    admin: bool = True
    admin_prefix: str = "/__mock"
    journal_size: int = 1000
    request_log: bool = True
    max_delay_ms: int = 10_000
    max_body_bytes: int = 1_048_576

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ConfigError(f"error rate must be between 0 and 1, got {self.error_rate}")
        if self.latency[0] < 0 or self.latency[1] < self.latency[0]:
            raise ConfigError(f"latency must be MS or MIN-MAX with 0 <= MIN <= MAX, got {self.latency}")
        if not self.admin_prefix.startswith("/") or self.admin_prefix.endswith("/"):
            raise ConfigError(f"admin prefix must start with '/' and not end with one, got {self.admin_prefix!r}")
        if self.journal_size < 0:
            raise ConfigError("journal size must be >= 0")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get("MOCKSERVER_" + f.name.upper())
            if raw is None:
                continue
            if f.name == "latency":
                values[f.name] = parse_latency(raw)
            elif f.name == "cors_origins":
                values[f.name] = [o.strip() for o in raw.split(",") if o.strip()]
            elif f.type in ("bool",):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif f.type in ("int",):
                values[f.name] = _number(int, raw, f.name)
            elif f.type in ("float",):
                values[f.name] = _number(float, raw, f.name)
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]


def _number(kind: type, raw: str, name: str) -> object:
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"MOCKSERVER_{name.upper()} must be a number, got {raw!r}") from None


def parse_latency(raw: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", raw)
    if not match:
        raise ConfigError(f"latency must be MS or MIN-MAX in milliseconds, got {raw!r}")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) else low
    if high < low:
        raise ConfigError(f"latency range {raw!r} has MIN > MAX")
    return low, high
