"""The API key never appears in output, JUnit XML or cassettes, in any form it is sent in: every command runs with
a known key against a server that echoes its credentials back, and every artefact is searched for them."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from . import zoo
from .conftest import Served

pytestmark = pytest.mark.e2e  # real servers on loopback ports

ROOT = Path(__file__).resolve().parents[2]


def echoing(header: bytes, body: dict[str, Any]) -> Any:
    """A server that puts the value of `header` into `body` (a defect, so everything gets reported) under "echo",
    and into an undocumented header."""

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        from starlette.responses import JSONResponse

        if scope["type"] != "http":
            return
        value = dict(scope["headers"]).get(header, b"").decode()
        await JSONResponse({**body, "echo": value}, headers={"X-Echo": value})(scope, receive, send)

    return app


def artefacts(url: str, key: str, tmp_path: Path, *extra: str) -> list[str]:
    """stdout, stderr, JUnit XML of `check` and `fuzz`, and the fuzz cassette."""
    env = {**os.environ, "MOCKSERVER_API_KEY": key}
    found = []
    for command in ("check", "fuzz"):
        junit, cassette = tmp_path / f"{command}.xml", tmp_path / f"{command}.yaml"
        argv = [
            sys.executable,
            "-m",
            "mockserver",
            command,
            url,
            "--junit-xml",
            str(junit),
            "--max-examples",
            "5",
            "--seed",
            "1",
            "--api-key",
            key,
            *extra,
        ]
        if command == "fuzz":
            # a count bounds the run (the engine's own probes count too); --duration only guards against a hang
            argv += ["--max-requests", "80", "--duration", "120", "--cassette", str(cassette), "--rate-limit", "100"]
        result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "$MOCKSERVER_API_KEY" in result.stdout
        found += [result.stdout, result.stderr, junit.read_text()]
        if command == "fuzz":
            found.append(cassette.read_text())
    return found


def test_key_never_written(tmp_path: Path) -> None:
    body = {"conversation_id": "c", "title": "t", "created_at": "yesterday"}
    with Served(echoing(b"x-session-api-key", body)) as served:
        written = artefacts(served.url, zoo.KEY, tmp_path)
        suite = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "contracts",
                "--base-url",
                served.url,
                "-q",
                "-p",
                "no:cacheprovider",
                "--max-examples",
                "5",
                f"--junitxml={tmp_path / 's.xml'}",
            ],
            cwd=ROOT,
            env={**os.environ, "MOCKSERVER_API_KEY": zoo.KEY},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert suite.returncode == 1
        written += [suite.stdout, suite.stderr, (tmp_path / "s.xml").read_text()]
    for text in written:
        assert zoo.KEY not in text


def test_authorization_credentials_never_written(tmp_path: Path) -> None:
    # With a colon the key is user:password for HTTP basic; bearer and oauth2 send it whole
    key = "zoo-user:zoo-pass-4f1c9a7e"
    token = base64.b64encode(key.encode()).decode()
    spec = tmp_path / "auth.json"
    spec.write_text(json.dumps(zoo.AUTH_CONTRACT))
    with Served(echoing(b"authorization", {})) as served:  # no "id": every answer violates its schema
        written = artefacts(served.url, key, tmp_path, "--spec", str(spec))
    assert "curl -X GET " in written[0] and ' -u "$MOCKSERVER_API_KEY"' in written[0], written[0]
    assert '-H "Authorization: Bearer $MOCKSERVER_API_KEY"' in written[0], written[0]
    for text in written:
        assert key not in text and token not in text
