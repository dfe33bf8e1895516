"""Schemathesis over the mock, in process: the harness of test_mock_conformance.py and test_fidelity_conformance.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig

from mockserver.contract.spec import Spec, load_spec
from mockserver.serve.app import create_app
from mockserver.serve.config import Config
from mockserver.serve.pipeline.core import Mock

KEY = "conformance-key"


def auth(spec: Spec) -> dict[str, dict[str, str]]:
    """Valid credentials for every security scheme, for Schemathesis' own OpenAPI-aware auth: it sends them on
    positive cases and leaves them out (or spoils them) where a case is about missing or invalid auth."""
    found = {}
    for name, scheme in spec.security_schemes.items():
        if scheme.type == "apiKey":
            found[name] = {"api_key": KEY}
        elif scheme.scheme == "basic":
            found[name] = {"username": "user", "password": KEY}
        else:
            found[name] = {"bearer": KEY}
    return found


def mock_schema(source: str | Path | None, spec: Spec | None = None, positive: bool = False,
                **config: object) -> schemathesis.schemas.BaseSchema:  # fmt: skip
    """Schemathesis over the contract at `source` (None: the built-in one), its app the mock of it built with
    `config`; from `spec` and without fixtures when the contract is loaded already (a large one, say)."""
    loaded = spec or load_spec(None if source is None else str(source))
    credentials = auth(loaded)
    options: dict[str, object] = {"auth": {"openapi": credentials}} if credentials else {}
    if positive:
        options["generation"] = {"mode": "positive"}
    schema = schemathesis.openapi.from_dict(loaded.document, config=SchemathesisConfig.from_dict(options))
    settings = Config(spec=None if source is None else str(source), request_log=False, **config)  # type: ignore[arg-type]
    schema.app = _Lazy(lambda: create_app(settings, Mock(loaded, {}, settings) if spec is not None else None))
    return schema


class _Lazy:
    """The mock's app, built by the first request: collection (in every xdist worker) only names the cases, and a
    large contract's mock is built once, by the worker that runs its tests."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build, self._app = build, None

    def _built(self) -> Any:
        if self._app is None:
            self._app = self._build()
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._built()(scope, receive, send)

    def __getattr__(self, name: str) -> Any:  # the app's own attributes (`mock`, ...): built on first use
        return getattr(self._built(), name)
