"""The CLI: options, `fixtures check`, exit code 2 for a user's mistake, and the real server end to end."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import httpx
import pytest

from mockserver import cli, spellings
from mockserver.check.plan import Plan
from mockserver.cli import main, parser
from mockserver.options import from_args, hints
from mockserver.serve.config import Config
from tests.support import CONVERSATION, KEY_HEADER, ROOT, SHOP, serve


def test_serve_options_parse_into_a_config():
    from mockserver.cli import _config

    args = parser().parse_args(
        ["serve", SHOP, "--fixtures", "f", "--seed", "4", "--api-key", "k", "--fixtures-only", "--edge-cases",
         "--latency", "10-20", "--error-rate", "0.1", "--cors-origin", "http://a", "--cors-origin", "http://b",
         "--no-admin", "--admin-prefix", "/_m", "--journal-size", "7", "--no-request-log", "--workers", "2"]
    )  # fmt: skip
    config = _config(args)
    assert (config.spec, config.fixtures, config.seed, config.api_key) == ([SHOP], ["f"], 4, "k")
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
    assert main(["report", "merge", "merged.xml"]) == 2  # the old spelling, with nothing to merge
    assert "mockserver report merge: error: the merged file to write is missing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["report", "merge", "-o", "merged.xml"])
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


def test_each_command_is_one_entry_in_the_table():
    # The parser's subcommands are the table's entries, in its order: a new command is one entry
    from mockserver import cli

    subparsers = next(a for a in parser()._actions if a.dest == "command")
    assert list(subparsers.choices) == list(cli.COMMANDS)
    assert {"serve", "proxy", "fixtures", "check", "fuzz", "replay", "report"} <= set(cli.COMMANDS)


# --- one convention (docs/reference/cli.md): each spelling, old and new ----------------------------------------------


def _check_args(*argv: str) -> tuple[Plan, list[str]]:
    """What `check`/`fuzz` would run with, and the notes it prints, without running it."""
    args = parser().parse_args(list(argv))
    spellings.check(args)
    return from_args(Plan, args, fuzz=args.command == "fuzz"), hints(args)


@pytest.mark.parametrize("command", ["check", "fuzz"])
def test_the_contract_comes_first_and_the_server_is_url(command):
    for argv in (
        [command, "api.yaml", "--url", "http://127.0.0.1:9"],
        [command, "-u", "http://127.0.0.1:9", "api.yaml"],
    ):
        plan, notes = _check_args(*argv)
        assert (plan.spec, plan.base_url, notes) == ("api.yaml", "http://127.0.0.1:9", [])
    plan, notes = _check_args(command, "--url", "http://127.0.0.1:9")
    assert (plan.spec, plan.base_url, notes) == (None, "http://127.0.0.1:9", [])  # the built-in contract


@pytest.mark.parametrize("command", ["check", "fuzz"])
def test_the_old_check_spellings_still_work_with_a_note(command):
    plan, notes = _check_args(command, "http://127.0.0.1:9", "--spec", "api.yaml")
    assert (plan.spec, plan.base_url) == ("api.yaml", "http://127.0.0.1:9")
    assert len(notes) == 2 and "--url http://127.0.0.1:9" in notes[0] and "api.yaml --url" in notes[1]
    plan, notes = _check_args(command, "http://127.0.0.1:9")
    assert (plan.spec, plan.base_url) == (None, "http://127.0.0.1:9") and len(notes) == 1
    plan, notes = _check_args(command, "--url", "http://127.0.0.1:9", "--spec", "api.yaml")
    assert (plan.spec, plan.base_url) == ("api.yaml", "http://127.0.0.1:9") and len(notes) == 1


@pytest.mark.parametrize(
    "argv, reason",
    [
        (["api.yaml"], "the server to test is missing: mockserver check [SPEC] --url BASE_URL"),
        (["a.yaml", "--spec", "b.yaml", "--url", "http://h"], "two contracts given: a.yaml and --spec b.yaml"),
        (["--url", "ftp://h"], "BASE_URL must be an http:// or https:// URL with a host, got 'ftp://h'"),
    ],
)
def test_a_check_command_line_that_makes_no_sense_is_one_error_line(argv, reason, capsys):
    assert main(["check", *argv]) == 2
    assert capsys.readouterr().err == f"mockserver check: error: {reason}\n"


@pytest.mark.parametrize(
    "value, rate, noted", [("10/s", 10.0, False), ("0.5/s", 0.5, False), ("3 / sec", 3.0, False), ("10", 10.0, True)]
)
def test_check_rate_limit_is_n_per_second_and_a_bare_number_still_works(value, rate, noted):
    plan, notes = _check_args("fuzz", "--url", "http://h", "--rate-limit", value)
    assert plan.rate_limit == rate
    assert notes == (["--rate-limit 10 is read as 10/s; write --rate-limit 10/s"] if noted else [])


@pytest.mark.parametrize("value", ["fast", "0/s", "1.5/m", "10/h"])
def test_a_bad_check_rate_limit_exits_2(value, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["check", "--url", "http://h", "--rate-limit", value])
    assert caught.value.code == 2
    assert (
        f"mockserver check: error: argument --rate-limit: expected N/s (requests per second, N > 0), got {value!r}"
        in (capsys.readouterr().err)
    )


def test_a_note_is_one_line_on_stderr_before_the_command_runs(capsys):
    assert main(["check", "http://h", "--spec", "nowhere.yaml", "--rate-limit", "5"]) == 2  # nothing sent
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0:2] for line in lines[:3]] == [["mockserver check", " note"]] * 3  # rate, url, spec
    assert lines[3].startswith("mockserver check: error: nowhere.yaml") and len(lines) == 4


@pytest.mark.parametrize("command", ["serve", "proxy"])
def test_port_is_p_or_port(command):
    extra = ["--upstream", "http://127.0.0.1:9"] if command == "proxy" else []
    assert parser().parse_args([command, "-p", "4599", *extra]).port == 4599
    assert parser().parse_args([command, "--port", "4599", *extra]).port == 4599


def test_report_merge_takes_o_and_still_reads_the_old_order(monkeypatch, capsys):
    merged: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(cli, "report_merge", lambda out, inputs: merged.append((out, inputs)) or 0)
    assert main(["report", "merge", "-o", "m.xml", "a.xml", "b.xml"]) == 0
    assert main(["report", "merge", "a.xml", "b.xml", "--output", "m.xml"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["report", "merge", "m.xml", "a.xml", "b.xml"]) == 0  # before 0.2
    assert merged == [("m.xml", ["a.xml", "b.xml"])] * 3
    assert capsys.readouterr().err.startswith("mockserver report merge: note: read m.xml as the file to write; write: ")


def test_replay_takes_url_and_still_reads_the_old_positional(monkeypatch, capsys):
    from mockserver.check import replay

    sent: list[str | None] = []
    monkeypatch.setattr(replay, "run", lambda cassette, url, *rest: sent.append(url) or 0)
    assert main(["replay", "c.yaml", "--url", "http://127.0.0.1:9"]) == 0
    assert main(["replay", "c.yaml"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["replay", "c.yaml", "http://127.0.0.1:9"]) == 0  # before 0.2
    assert sent == ["http://127.0.0.1:9", None, "http://127.0.0.1:9"]
    assert "mockserver replay: note: read http://127.0.0.1:9 as the server" in capsys.readouterr().err


def _help(*command: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main([*command, "--help"])
    return out.getvalue()


def test_each_help_lists_its_own_options_with_defaults_in_user_terms(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    serve, proxy = _help("serve"), _help("proxy")
    assert "--latency MS|MIN-MAX" in serve and "(default: none)" in serve and "(0, 0)" not in serve
    for only_serve in ("--latency", "--fixtures DIR  ", "--seed", "--stateful", "--workers", "--error-rate"):
        assert only_serve in serve and only_serve not in proxy, only_serve
    assert "[--upstream URL]" in serve and " --upstream URL " in proxy.split("\n\n")[0]  # required by proxy only
    assert "require exactly this credential" in serve and "require exactly" not in proxy
    assert "redact from the journal, the log and recorded fixtures" in proxy
    check, fuzz = _help("check"), _help("fuzz")
    assert "--rate-limit N/s" in check and "(default: none)" in check and "(default: 10/s)" in fuzz
    assert "--max-requests" in fuzz and "--max-requests" not in check
    assert "(default: 10)" in check and "10.0" not in check  # --request-timeout in seconds, as a user writes it
    texts = [serve, proxy, check, fuzz, _help("fixtures"), _help("fixtures", "check"), _help("report", "merge"),
             _help("replay"), _help()]  # fmt: skip
    for text in texts:
        assert "_command" not in text and "base_url" not in text and "API_KEY " not in text, text
