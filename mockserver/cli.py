"""Command line: argument parsing and process wiring only. `serve`'s and `proxy`'s options are `Config`'s fields,
`check`'s and `fuzz`'s are `Plan`'s: each parser is built from the dataclass, with the field name as the argparse
destination. With an upstream, the exit prints the drift summary (and writes JUnit XML), exit 1 on violations.

Rules: a user's mistake (bad contract, bad fixture, bad option, busy port) prints one line,
`mockserver COMMAND: error: ...`, naming file, location and reason, and exits 2, with no traceback and no socket left
listening. The contract is the first positional argument of every command that reads one (check and fuzz take the
server as --url); an old spelling keeps working for one release with one `mockserver COMMAND: note: ...` line saying
how to write it now (docs/reference/cli.md). Heavy imports stay inside the commands.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__, spellings
from .check.commands import EXIT_CODES as RUN_EXIT_CODES
from .check.commands import HELP
from .check.merge import EXIT_CODES as MERGE_EXIT_CODES
from .check.plan import CHECK, FUZZ, FUZZ_DEFAULTS, Plan
from .contract.documents import DocumentError
from .contract.words import count
from .diff import command as diff
from .options import add_options, from_args, hints, positive_float
from .serve.config import Config, ConfigError

USAGE_ERROR = 2


_count = count


def _fail(name: str, message: str) -> int:
    print(f"mockserver {name}: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _name(args: argparse.Namespace) -> str:
    """The command as typed: `serve`, `fixtures check`, `report merge`."""
    sub = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {sub}" if sub else str(args.command)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mockserver", description="Mock servers and contract checks from OpenAPI 3.x.")
    root.add_argument("--version", action="version", version=f"mockserver {__version__}")
    subparsers = root.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        command.add(subparsers, name)
    return root


def _add_serve(subparsers: Any, name: str) -> None:
    serve = subparsers.add_parser(
        "serve", help="serve a contract as a mock server", description="Serve an OpenAPI 3.x contract."
    )
    add_options(serve, Config, "serve")


def _add_proxy(subparsers: Any, name: str) -> None:
    proxy = subparsers.add_parser(
        "proxy",
        help="forward every request to a real server, checking both directions against the contract",
        description="Forward every request to --upstream (never to the contract's servers) and return its answers, "
        "checking requests and answers against the contract: each violation is printed, journaled, and summarised at "
        "exit (exit 1 if any); --record DIR writes the answers as fixtures for `serve --fixtures DIR`.",
    )
    add_options(proxy, Config, "proxy")


def _add_fixtures(subparsers: Any, name: str) -> None:
    fixtures = subparsers.add_parser("fixtures", help="work with fixture files")
    sub = fixtures.add_subparsers(dest="fixtures_command", metavar="COMMAND", required=True)
    check = sub.add_parser("check", help="validate fixtures against the contract without serving")
    check.add_argument("spec", nargs="?", metavar="SPEC",
                       help="the contract: YAML/JSON file or http(s) URL (default: the built-in contract)")  # fmt: skip
    check.add_argument("--fixtures", metavar="DIR", action="append",
                       help="fixtures folder, repeatable (default: the built-in fixtures)")  # fmt: skip
    check.add_argument("--verbose", "-v", action="store_true", help="list every contract example not served")


def _add_run(subparsers: Any, name: str) -> None:
    title, description = HELP[name]
    p = subparsers.add_parser(name, help=title, description=description, epilog=RUN_EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_options(p, Plan, name, FUZZ_DEFAULTS if name == FUZZ else None)
    p.add_argument("--spec", dest="old_spec", help=argparse.SUPPRESS)  # before 0.2: `check BASE_URL --spec SPEC`


def _add_replay(subparsers: Any, name: str) -> None:
    replay = subparsers.add_parser(
        "replay", help="send the failing requests of a check/fuzz cassette again",
        description="Send the failing requests saved by check or fuzz (--cassette) again and say which still fail. "
        "The key is not in the cassette: it is taken from MOCKSERVER_API_KEY.",
        epilog="exit codes:\n  0  none still fails\n  1  some still fail\n  2  unreadable cassette or usage error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    replay.add_argument("cassette", metavar="CASSETTE", help="the cassette check or fuzz wrote")
    replay.add_argument("old_base_url", nargs="?", help=argparse.SUPPRESS)  # before 0.2: `replay CASSETTE BASE_URL`
    replay.add_argument("-u", "--url", dest="base_url", metavar="BASE_URL",
                        help="send them to this server instead (default: where they went)")  # fmt: skip
    replay.add_argument("--spec", metavar="SPEC", help="the contract, if it has moved (default: the one the run used)")
    replay.add_argument(
        "--allow-unsafe-methods",
        action="store_true",
        help="also send recorded POST/PUT/PATCH/DELETE requests (for disposable test servers)",
    )
    replay.add_argument("--request-timeout", type=positive_float, default=10.0, metavar="S",
                        help="seconds for one complete answer (default: 10.0)")  # fmt: skip


def _add_report(subparsers: Any, name: str) -> None:
    report = subparsers.add_parser("report", help="work with check/fuzz reports")
    sub = report.add_subparsers(dest="report_command", metavar="COMMAND", required=True)
    merge = sub.add_parser(
        "merge",
        help="merge the JUnit files of a sharded run (--shard I/N) into one",
        description="Join the shards' JUnit files into OUT (test cases kept, totals recounted) and print the merged "
        "verdict.",
        usage="mockserver report merge [-h] -o OUT.xml IN.xml [IN.xml ...]",
        epilog=MERGE_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    merge.add_argument("-o", "--output", dest="out", metavar="OUT.xml", help="the merged JUnit file to write")
    merge.add_argument("inputs", metavar="IN.xml", nargs="+", help="the shards' JUnit files (--junit-xml)")


def _config(args: argparse.Namespace, **extra: Any) -> Config:
    config: Config = from_args(Config, args, **extra)
    if config.api_key is None:
        config.api_key = os.environ.get("MOCKSERVER_API_KEY") or None
    return config


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(config: Config) -> int:
    import uvicorn

    from .serve.app import create_app
    from .serve.pipeline.core import build_mock

    mock = build_mock(config)  # every contract or fixture mistake stops here, before a socket is opened
    forwarder = None
    if config.upstream:
        from .serve.forward.proxy import Forwarder

        forwarder = Forwarder(config, mock)  # and an unwritable --record folder
    sock = _bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    fixtures = sum(len(index.by_name) for index in mock.fixtures.values())
    counts = f"{_count(len(mock.spec.operations), 'operation')}, {_count(fixtures, 'fixture')}"
    if mock.streams.streams:  # socket.io stream fixtures (serve/events/)
        counts += f", {_count(len(mock.streams.streams), 'event stream')} at {mock.streams.path}"
    if config.proxy:
        counts = f"{_count(len(mock.spec.operations), 'operation')}, proxy to {config.upstream}"
    elif config.upstream:
        counts += f", the rest forwarded to {config.upstream}"
    _report(mock, config.verbose)
    print(
        f"mockserver: serving {mock.spec.source} ({counts}) on http://{shown}:{port}"
        + (f" - admin at {config.admin_prefix}" if config.admin else "")
        + (f" - recording into {config.record}" if config.record else ""),
        file=sys.stderr,
        flush=True,
    )
    guarded = sum(1 for op in mock.spec.operations if op.requires_auth)
    if not config.proxy and guarded:
        mode = ("off: no operation asks for credentials (--auth off)" if config.auth == "off" else
                f"enforced as the contract declares: {_count(guarded, 'operation')} answer 401 without credentials "
                "(--auth off serves them without)")  # fmt: skip
        print(f"mockserver: auth {mode}", file=sys.stderr)
    if config.stateful and mock.stateful is not None:
        names = ", ".join(c.name for c in mock.stateful.collections) or "none found in the contract"
        singles = ", ".join(sorted({s.name for s in mock.stateful.singletons.values()}))
        print(f"mockserver: stateful collections: {names}" + (f"; singletons: {singles}" if singles else ""),
              file=sys.stderr)  # fmt: skip
    if config.state_url:
        from .serve.store import _safe

        print(f"mockserver: state, overrides and journal shared in {_safe(config.state_url)}", file=sys.stderr)
    elif config.workers > 1:
        print(
            "mockserver: note: each worker keeps its own overrides, state and journal (--state-url shares them)",
            file=sys.stderr,
        )
    if config.watch:
        print("mockserver: watching the contract and fixtures for changes", file=sys.stderr)
    gc.freeze()  # the contract, validators and fixtures live for ever: keep them out of every collection's walk
    common: dict[str, Any] = {
        "access_log": False, "log_level": "warning", "server_header": False, "date_header": False,
        "timeout_graceful_shutdown": 3, "lifespan": "on",  # at shutdown the app writes its buffered log lines
        # X-Forwarded-For/-Proto would only rewrite the client address and scheme, which nothing here reads: no
        # middleware layer per request
        "proxy_headers": False,
    }  # fmt: skip
    if forwarder is not None:  # lifespan on: the upstream client is closed on the loop that opened it
        app = create_app(config, mock, forwarder)
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again: SIGTERM's default action
        # would end the process before the summary and the JUnit file are written, so it becomes an exception here.
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            uvicorn.Server(uvicorn.Config(app, **{**common, "lifespan": "on"})).run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # the usual way to stop a proxy: the summary follows
        finally:
            signal.signal(signal.SIGTERM, previous)
            app.close()
        for line in forwarder.finish("proxy" if config.proxy else "serve", config.junit_xml):
            print(line, file=sys.stderr, flush=True)
        return forwarder.exit_code
    if config.workers == 1:
        app = create_app(config, mock)
        try:
            uvicorn.Server(uvicorn.Config(app, **common)).run(sockets=[sock])
        finally:
            app.close()
        return 0
    from uvicorn.supervisors import Multiprocess

    mock.store.close()  # each worker opens its own connection
    os.environ.update(config.to_env())
    uv_config = uvicorn.Config("mockserver.serve.app:create_app", factory=True, workers=config.workers, **common)
    Multiprocess(uv_config, sockets=[sock]).run()
    return 0


def _report(mock: Any, verbose: bool) -> None:
    """Start-up warnings before the serving line: each problem of the contract, then one line counting the examples
    that are not served (each of them with --verbose), so the line a user looks for stays in sight."""
    skipped = mock.invalid_examples
    mistakes = getattr(mock, "mistakes", [])
    counted = set(skipped) | set(mistakes)
    for warning in mock.warnings if verbose else [w for w in mock.warnings if w not in counted]:
        print(f"mockserver: warning: {warning}", file=sys.stderr)
    if mistakes and not verbose:
        print(f"mockserver: warning: {_count(len(mistakes), 'contract mistake')} worked around (--verbose lists "
              "them, --strict refuses them)", file=sys.stderr)  # fmt: skip
    if skipped and not verbose:
        print(f"mockserver: warning: {_count(len(skipped), 'contract example')} not served (invalid against the "
              "schema; --verbose lists them)", file=sys.stderr)  # fmt: skip
    if mock.format_examples:
        print(f"mockserver: note: serving {_count(mock.format_examples, 'example')} that fail only a format "
              "(--serve-invalid-format-examples)", file=sys.stderr)  # fmt: skip


def fixtures_check(args: argparse.Namespace) -> int:
    from .serve.pipeline.core import build_mock

    mock = build_mock(Config(spec=args.spec, fixtures=args.fixtures))
    loaded = sum(len(index.by_name) for index in mock.fixtures.values())
    flagged = sum(1 for index in mock.fixtures.values() for f in index.by_name.values() if f.flagged)
    if flagged:
        print(f"mockserver: {count(loaded, 'fixture')} loaded against {mock.spec.source}: {loaded - flagged} valid, "
              f"{flagged} flagged (recorded from a server that broke the contract; served as recorded, see the "
              "warnings)")  # fmt: skip
    else:
        print(f"mockserver: {count(loaded, 'fixture')} valid against {mock.spec.source}")
    _report(mock, args.verbose)
    return 0


def report_merge(out: str, inputs: list[str]) -> int:
    from .check import merge

    try:
        code, text = merge.main(out, inputs)
    except merge.MergeError as exc:  # nothing written
        return _fail("report merge", str(exc))
    sys.stdout.write(text)
    return code


def _run_serve(args: argparse.Namespace, argv: list[str] | None) -> int:
    return serve(_config(args))


def _run_proxy(args: argparse.Namespace, argv: list[str] | None) -> int:
    return serve(_config(args, proxy=True, fixtures=""))


def _run_fixtures(args: argparse.Namespace, argv: list[str] | None) -> int:
    return fixtures_check(args)


def _run_report(args: argparse.Namespace, argv: list[str] | None) -> int:
    out, inputs = spellings.merge(args)
    _print_hints(args)
    return report_merge(out, inputs)


def _run_replay(args: argparse.Namespace, argv: list[str] | None) -> int:
    from .check import commands, replay

    spellings.replay(args)
    _print_hints(args)
    problem = commands.check_base_url(args.base_url) if args.base_url else ""
    if problem:
        raise spellings.UsageError(problem)
    return replay.run(args.cassette, args.base_url, args.spec, args.request_timeout, args.allow_unsafe_methods)


def _run_check(args: argparse.Namespace, argv: list[str] | None) -> int:
    from .check import commands

    spellings.check(args)
    _print_hints(args)
    plan: Plan = from_args(Plan, args, fuzz=args.command == FUZZ)
    return commands.run(plan, argv)


@dataclasses.dataclass(frozen=True)
class Command:
    """One subcommand: `add` builds its parser, `run` carries it out (parsed arguments, argv) -> exit code."""

    add: Callable[[Any, str], None]
    run: Callable[[argparse.Namespace, list[str] | None], int]


# A new command is one entry here, in the order `mockserver --help` lists them
COMMANDS: dict[str, Command] = {
    "serve": Command(_add_serve, _run_serve),
    "proxy": Command(_add_proxy, _run_proxy),
    "fixtures": Command(_add_fixtures, _run_fixtures),
    CHECK: Command(_add_run, _run_check),
    FUZZ: Command(_add_run, _run_check),
    "replay": Command(_add_replay, _run_replay),
    "report": Command(_add_report, _run_report),
    "diff": Command(diff.add, diff.run_command),
}


def _print_hints(args: argparse.Namespace) -> None:
    """One line per old spelling read (printed once, before the command's own output)."""
    for hint in hints(args):
        print(f"mockserver {_name(args)}: note: {hint} (the old spelling goes in a later release)", file=sys.stderr)
    hints(args).clear()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _print_hints(args)  # those of the options' old spellings (--rate-limit 10)
    try:
        code = COMMANDS[args.command].run(args, list(argv) if argv is not None else None)
    except (DocumentError, ConfigError, spellings.UsageError) as exc:
        code = _fail(_name(args), str(exc))
    except KeyboardInterrupt:
        code = 130
    _print_hints(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
