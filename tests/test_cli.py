"""The CLI: options, `fixtures check`, exit code 2 for a user's mistake, and the real server end to end."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from mockserver.cli import main, parser
from mockserver.config import Config
from tests.support import CONVERSATION, KEY_HEADER, ROOT, SHOP, serve


def test_serve_options_parse_into_a_config():
    from mockserver.cli import _config

    args = parser().parse_args(
        ["serve", SHOP, "--fixtures", "f", "--seed", "4", "--api-key", "k", "--fixtures-only", "--edge-cases",
         "--latency", "10-20", "--error-rate", "0.1", "--cors-origin", "http://a", "--cors-origin", "http://b",
         "--no-admin", "--admin-prefix", "/_m", "--journal-size", "7", "--no-request-log", "--workers", "2"]
    )  # fmt: skip
    config = _config(args)
    assert (config.spec, config.fixtures, config.seed, config.api_key) == (SHOP, "f", 4, "k")
    assert config.fixtures_only and config.edge_cases and not config.admin and not config.request_log
    assert config.latency == (10, 20) and config.error_rate == 0.1
    assert config.cors_origins == ["http://a", "http://b"] and config.admin_prefix == "/_m" and config.journal_size == 7
    assert args.workers == 2 and args.host == "127.0.0.1" and args.port == 4010


def test_runtime_options_parse_into_a_config():
    from mockserver.cli import _config

    args = parser().parse_args(
        ["serve", "--stateful", "--state-size", "50", "--state-url", "redis://127.0.0.1:6379/2", "--watch",
         "--rate-limit", "20/s"]
    )  # fmt: skip
    config = _config(args)
    assert config.stateful and config.watch and config.state_size == 50 and config.rate_limit == 20
    assert config.state_url == "redis://127.0.0.1:6379/2"
    assert Config.from_env(config.to_env()).rate_limit == 20  # what worker processes read back
    assert Config.from_env({"MOCKSERVER_RATE_LIMIT": "7/s"}).rate_limit == 7


@pytest.mark.e2e
def test_version():
    result = subprocess.run([sys.executable, "-m", "mockserver", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.startswith("mockserver ")


@pytest.mark.parametrize(
    "option",
    [["--latency", "x"], ["--error-rate", "2"], ["--port", "99999"], ["--rate-limit", "fast"],
     ["--rate-limit", "20/h"]],
)  # fmt: skip
def test_bad_options_exit_2(option, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["serve", *option])
    assert caught.value.code == 2


@pytest.mark.parametrize("command", ["check", "fuzz"])
def test_shard_option_parses_for_check_and_fuzz(command):
    from mockserver.check.shards import Shard

    assert parser().parse_args([command, "http://127.0.0.1:9", "--shard", "2/4"]).shard == Shard(2, 4)
    assert parser().parse_args([command, "http://127.0.0.1:9"]).shard is None


@pytest.mark.parametrize("command", ["check", "fuzz"])
@pytest.mark.parametrize(
    "value, reason",
    [
        ("0/4", "shards are numbered 1 to 4, got '0/4'"),
        ("5/4", "shards are numbered 1 to 4, got '5/4'"),
        ("x", "expected I/N, this job's number and the number of jobs (e.g. 2/4), got 'x'"),
        ("2/0", "the number of shards must be at least 1, got '2/0'"),
    ],
)
def test_bad_shard_exits_2_with_the_reason(command, value, reason, capsys):
    with pytest.raises(SystemExit) as caught:
        main([command, "http://127.0.0.1:9", "--shard", value])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --shard: {reason}" in err and "Traceback" not in err


def test_report_merge_needs_an_output_and_inputs(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["report", "merge", "merged.xml"])
    assert caught.value.code == 2
    assert "IN.xml" in capsys.readouterr().err


def test_fixtures_check_accepts_the_builtin_fixtures(capsys):
    assert main(["fixtures", "check"]) == 0
    assert "42 fixtures valid" in capsys.readouterr().out


def test_fixtures_check_names_file_pointer_and_reason(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "operation: GET /api/conversations/{conversation_id}\nmatch: {path: {conversation_id: x}}\n"
        "response: {status: 200, body: {conversation_id: x, title: t, status: PAUSED}}\n"
    )
    assert main(["fixtures", "check", "--fixtures", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "/response/body/status" in err and "PAUSED" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "text, pointer",
    [
        ("operation: GET /nope\nresponse: {status: 200}\n", "/operation"),
        ("operation: GET /api/conversations/{conversation_id}\nresponse: {status: 404}\n", "/response/status"),
        (
            "operation: GET /api/conversations/{conversation_id}\nmatch: {path: {id: x}}\nresponse: {status: 200}\n",
            "/match/path/id",
        ),
        ("operation: GET /api/conversations/{conversation_id}\nresponse: {stauts: 200}\n", "/response/stauts"),
        ("operation: [unclosed\n", "invalid YAML"),
    ],
)
def test_bad_fixtures_stop_start_up(tmp_path, capsys, text, pointer):
    (tmp_path / "f.yaml").write_text(text)
    assert main(["serve", "--fixtures", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert pointer in err and "f.yaml" in err and "Traceback" not in err


def test_symlink_out_of_the_fixtures_folder_is_refused(tmp_path, capsys):
    outside = tmp_path / "secret.yaml"
    outside.write_text("operation: x\n")
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "link.yaml").symlink_to(outside)
    assert main(["fixtures", "check", "--fixtures", str(folder)]) == 2
    assert "outside the fixtures folder" in capsys.readouterr().err


@pytest.mark.e2e
def test_busy_port_exits_2_without_traceback():
    with serve() as server:
        port = str(server.port)
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", port],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=30,
        )
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1:" + port in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
def test_serve_end_to_end_on_loopback():
    with serve("--api-key", "e2e-secret-key") as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            ok = http.get(CONVERSATION + "running", headers={KEY_HEADER: "e2e-secret-key"})
            assert ok.status_code == 200 and ok.json()["status"] == "RUNNING"
            assert ok.headers["x-mock-source"] == "fixture"
            assert http.get(CONVERSATION + "running").status_code == 401
            generated = http.get(CONVERSATION + "fresh-id", headers={KEY_HEADER: "e2e-secret-key"})
            assert generated.json()["conversation_id"] == "fresh-id"
            assert http.get("/__mock/health").json()["status"] == "ok"
    err = server.output()
    assert "GET /api/conversations/running 200 fixture" in err
    assert "e2e-secret-key" not in err


@pytest.mark.e2e
def test_serve_a_file_contract_with_workers():
    with serve(SHOP, "--workers", "2", "--no-request-log") as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            answers = {http.get("/v1/pets/4", headers={"Authorization": "Basic eDp5"}).content for _ in range(6)}
    assert len(answers) == 1  # replicas agree without shared state


@pytest.mark.e2e
def test_python_dash_m_and_console_script_agree():
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=30
    )
    assert result.returncode == 0 and "serve" in result.stdout
