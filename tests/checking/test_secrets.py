"""The API key never appears in output, JUnit XML or cassettes: every command runs with a known key, even against
a server that echoes it back, and every artefact is searched for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import zoo
from .conftest import Served

ROOT = Path(__file__).resolve().parents[2]


def test_key_never_written(tmp_path: Path) -> None:
    from starlette.responses import JSONResponse

    async def echo(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        key = headers.get(b"x-session-api-key", b"").decode()
        # Echo the key in the body and in an undocumented header, with a defect so everything gets reported
        body = {"conversation_id": "c", "title": "t", "session_api_key": key, "created_at": "yesterday"}
        await JSONResponse(body, headers={"X-Echo": key})(scope, receive, send)

    env = {**os.environ, "MOCKSERVER_API_KEY": zoo.KEY}
    with Served(echo) as served:
        artefacts = []
        for command in ("check", "fuzz"):
            junit, cassette = tmp_path / f"{command}.xml", tmp_path / f"{command}.yaml"
            argv = [sys.executable, "-m", "mockserver.checking", command, served.url, "--junit-xml", str(junit),
                    "--max-examples", "5", "--seed", "1", "--api-key", zoo.KEY]
            if command == "fuzz":
                argv += ["--duration", "3", "--cassette", str(cassette), "--rate-limit", "100"]
            result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 1, result.stdout + result.stderr
            assert "$MOCKSERVER_API_KEY" in result.stdout
            artefacts += [result.stdout, result.stderr, junit.read_text()]
            if command == "fuzz":
                artefacts.append(cassette.read_text())
        suite = subprocess.run([sys.executable, "-m", "pytest", "contracts", "--base-url", served.url, "-q",
                                "-p", "no:cacheprovider", "--max-examples", "5", f"--junitxml={tmp_path / 's.xml'}"],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert suite.returncode == 1
        artefacts += [suite.stdout, suite.stderr, (tmp_path / "s.xml").read_text()]
    for text in artefacts:
        assert zoo.KEY not in text
