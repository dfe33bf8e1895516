"""fuzz against servers that hang, reset connections, trickle or send gigantic bodies: reported, and done within
--duration (plus the request timeout), never hanging past it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mockserver import cli

from . import zoo
from .conftest import Served

pytestmark = pytest.mark.e2e  # real servers on loopback ports

EXPECTED = {
    "hang": "response_time",
    "slow_trickle": "response_time",
    "gigantic": "response_size",
    "reset": "connection",
}


@pytest.mark.parametrize("name", zoo.HANGS)
def test_fuzz_reports_and_stops_in_time(
    zoo_server: Served, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKSERVER_API_KEY", zoo.KEY)
    started = time.monotonic()
    code = cli.main(
        [
            "fuzz",
            f"{zoo_server.url}/zoo/{name}",
            "--duration",
            "3",
            "--request-timeout",
            "1",
            "--max-examples",
            "5",
            "--seed",
            "1",
            "--no-progress",
            "--rate-limit",
            "50",
            "--cassette",
            str(tmp_path / "c.yaml"),
        ]
    )
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"  {EXPECTED[name]}: " in out, out
    # --duration 3 + --request-timeout 1 when quiet; the bound only catches a hang (a loaded machine is slow)
    assert elapsed < 120, elapsed


def test_unreachable_server_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support import free_port

    code = cli.main(["check", f"http://127.0.0.1:{free_port()}", "--no-progress", "--request-timeout", "1"])
    out = capsys.readouterr().out
    assert code == 2
    # One short line a person can act on, not urllib3's nested reprs
    [line] = [line for line in out.splitlines() if line.startswith("error:")]
    assert "cannot reach http://127.0.0.1:" in line and "connection refused (is the server running" in line, line
    assert "urllib3" not in out and "HTTPConnectionPool" not in out and "object at 0x" not in out, out


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "not-a-url"],
        ["check", "http://127.0.0.1:1", "--spec", "/nonexistent.yaml"],
        ["check", "http://127.0.0.1:1", "--max-examples", "0"],
    ],
)
def test_usage_errors_are_exit_2(argv: list[str]) -> None:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    assert code == 2
