"""Options are fields: every `Config` field with command-line metadata is a `serve` option whose argparse
destination is the field's name, and every `Plan` field one of `check`/`fuzz` (for the commands it names); the
`MOCKSERVER_*` variables round-trip a `Config`."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from mockserver.check.plan import CHECK, FUZZ, FUZZ_DEFAULTS, Plan
from mockserver.cli import parser
from mockserver.options import from_args as _from_args
from mockserver.serve.config import Config


def subparser(name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def destinations(command: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in command._actions if not isinstance(a, argparse._HelpAction)}


def cli_fields(cls: type, command: str | None = None) -> dict[str, dataclasses.Field]:
    found = {}
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("cli")
        if spec and (command is None or command in spec.get("commands", (command,))):
            found[f.name] = f
    return found


def default(f: dataclasses.Field) -> object:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None if f.default is dataclasses.MISSING else f.default  # a required positional has none


def test_every_config_option_is_a_serve_option_named_after_its_field():
    options = destinations(subparser("serve"))
    fields = cli_fields(Config)
    assert set(options) == set(fields)  # and no option without a field
    for name, f in fields.items():
        assert options[name].default == default(f), name
        assert tuple(options[name].option_strings) == tuple(f.metadata["cli"]["flags"]), name
    assert not {"max_delay_ms", "max_body_bytes"} & set(options)  # fields without metadata are not options


@pytest.mark.parametrize("command", [CHECK, FUZZ])
def test_every_plan_option_of_a_command_is_an_option_named_after_its_field(command):
    options = destinations(subparser(command))
    fields = cli_fields(Plan, command)
    assert set(options) - {"old_spec"} == set(fields)  # --spec: the old spelling of the positional contract
    for name, f in fields.items():
        expected = FUZZ_DEFAULTS.get(name, default(f)) if command == FUZZ else default(f)
        assert options[name].default == expected, name


def test_fuzz_only_options_are_fuzz_only():
    # --allow-unsafe-methods and --cassette are check's too: read-only by default and replayable, both commands
    assert set(cli_fields(Plan, FUZZ)) - set(cli_fields(Plan, CHECK)) == {"max_requests", "duration"}
    assert {"allow_unsafe_methods", "cassette"} <= set(cli_fields(Plan, CHECK))
    with pytest.raises(SystemExit):
        parser().parse_args(["check", "http://h", "--max-requests", "5"])


def test_a_command_line_becomes_a_plan_field_by_field():
    args = parser().parse_args(
        ["fuzz", "s.yaml", "--url", "http://h", "--api-key", "sekrit", "--max-examples", "3", "--seed", "5",
         "--include", "GET /x", "--include", "getY", "--workers", "2", "--request-timeout", "1.5",
         "--rate-limit", "4/s", "--max-requests", "9", "--duration", "7", "--allow-unsafe-methods", "--junit-xml",
         "j.xml", "--cassette", "c.yaml", "--no-progress"]
    )  # fmt: skip
    plan: Plan = _from_args(Plan, args, fuzz=True)
    assert plan == Plan(
        base_url="http://h", spec="s.yaml", api_key="sekrit", fuzz=True, max_examples=3, seed=5,
        include=["GET /x", "getY"], workers=2, request_timeout=1.5, rate_limit=4.0, max_requests=9, duration=7.0,
        allow_unsafe_methods=True, junit_xml="j.xml", cassette="c.yaml", progress=False,
    )  # fmt: skip
    assert "sekrit" not in repr(plan)


def test_fuzz_defaults_bound_a_run_against_a_live_server():
    plan: Plan = _from_args(Plan, parser().parse_args(["fuzz", "--url", "http://h"]), fuzz=True)
    assert (plan.rate_limit, plan.max_requests, plan.duration, plan.max_examples) == (10.0, 600, 60.0, 100)
    assert not plan.allow_unsafe_methods


@pytest.mark.parametrize("option", [["--max-examples", "0"], ["--workers", "x"], ["--request-timeout", "-1"],
                                    ["--rate-limit", "0"]])  # fmt: skip
def test_bad_numbers_are_usage_errors(option, capsys):
    with pytest.raises(SystemExit) as caught:
        parser().parse_args(["check", "--url", "http://h", *option])
    assert caught.value.code == 2 and "expected" in capsys.readouterr().err


def test_a_config_round_trips_through_the_environment():
    config = Config(
        spec="api.yaml", fixtures="", host="::1", port=0, seed=9, api_key="k=1,2", fixtures_only=True, edge_cases=True,
        latency=(5, 10), error_rate=0.25, cors=False, cors_origins=["http://a", "http://b"], admin=False,
        admin_prefix="/_m", journal_size=0, request_log=False, workers=3, stateful=True, state_size=9,
        state_url="redis://127.0.0.1:6379/2", watch=True, rate_limit=20, max_delay_ms=5, max_body_bytes=7,
    )  # fmt: skip
    env = config.to_env()
    assert all(name.startswith("MOCKSERVER_") for name in env)
    assert Config.from_env(env) == config
    assert Config.from_env(Config().to_env()) == Config()
    every = {f.name for f in dataclasses.fields(Config) if getattr(config, f.name) is not None}  # None: unset
    assert {name.removeprefix("MOCKSERVER_").lower() for name in env} == every  # nothing left behind for workers
    forwarding = Config(upstream="http://127.0.0.1:9/base", upstream_timeout=2.5, max_upstream_bytes=99, record="r",
                        violations_header=True, junit_xml="j.xml", proxy=True)  # fmt: skip
    assert Config.from_env(forwarding.to_env()) == forwarding
