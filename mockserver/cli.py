"""Command line: argument parsing and process wiring only. `serve`'s and `proxy`'s options are `Config`'s fields,
`check`'s and `fuzz`'s are `Plan`'s: each parser is built from the dataclass, with the field name as the argparse
destination. With an upstream, the exit prints the drift summary (and writes JUnit XML), exit 1 on violations.

Rules: a user's mistake (bad contract, bad fixture, bad option, busy port) prints one line naming file, location and
reason and exits 2, with no traceback and no socket left listening. Heavy imports stay inside the commands.
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

from . import __version__
from .check import shards
from .check.plan import CHECK, FUZZ, FUZZ_DEFAULTS, Plan
from .config import Config, ConfigError, parse_latency, parse_rate_limit
from .contract.documents import DocumentError

USAGE_ERROR = 2


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _fail(message: str) -> int:
    print(f"mockserver: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _latency(raw: str) -> tuple[int, int]:
    try:
        return parse_latency(raw)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate_limit(raw: str) -> int:
    try:
        return parse_rate_limit(raw)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {raw!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {raw!r}")
    return value


def _port(raw: str) -> int:
    if not raw.isdigit() or int(raw) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0..65535, got {raw!r}")
    return int(raw)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


_TYPES: dict[str, Callable[[str], Any]] = {
    "latency": _latency, "rate": _rate, "rate_limit": _rate_limit, "port": _port, "positive_int": _positive_int,
    "positive_float": _positive_float, "shard": shards.argument,
}  # fmt: skip


def add_options(parser: argparse.ArgumentParser, cls: type, command: str | None = None,
                defaults: dict[str, Any] | None = None) -> None:  # fmt: skip
    """One argument per field of `cls` that has `cli` metadata (and takes `command`), destination = field name."""
    for f in dataclasses.fields(cls):
        spec = dict(f.metadata.get("cli") or {})
        if not spec or (command is not None and command not in spec.pop("commands", (command,))):
            continue
        flags = spec.pop("flags")
        if isinstance(spec.get("type"), str):
            spec["type"] = _TYPES[spec["type"]]
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        default = (defaults or {}).get(f.name, default)
        if "help" in spec and default not in (None, False, True, [], "") and "default:" not in spec["help"]:
            spec["help"] += f" (default: {default})"
        if flags:
            parser.add_argument(*flags, dest=f.name, default=default, **spec)
        elif spec.get("nargs") == "?":
            parser.add_argument(f.name, default=default, **spec)
        else:
            parser.add_argument(f.name, **spec)


def _from_args(cls: type, args: argparse.Namespace, **extra: Any) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names}, **extra)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mockserver", description="Mock servers and contract checks from OpenAPI 3.x.")
    root.add_argument("--version", action="version", version=f"mockserver {__version__}")
    subparsers = root.add_subparsers(dest="command", required=True)
    serve = subparsers.add_parser(
        "serve", help="serve a contract as a mock server", description="Serve an OpenAPI 3.x contract."
    )
    add_options(serve, Config, "serve")
    proxy = subparsers.add_parser(
        "proxy",
        help="forward every request to a real server, checking both directions against the contract",
        description="Forward every request to --upstream (never to the contract's servers) and return its answers, "
        "checking requests and answers against the contract: each violation is printed, journaled, and summarised at "
        "exit (exit 1 if any); --record DIR writes the answers as fixtures for `serve --fixtures DIR`.",
    )
    add_options(proxy, Config, "proxy")
    fixtures = subparsers.add_parser("fixtures", help="work with fixture files")
    sub = fixtures.add_subparsers(dest="fixtures_command", required=True)
    check = sub.add_parser("check", help="validate fixtures against the contract without serving")
    check.add_argument("spec", nargs="?", help="YAML/JSON file or URL (default: the built-in contract)")
    check.add_argument("--fixtures", metavar="DIR", help="fixtures folder (default: the built-in fixtures)")
    check.add_argument("--verbose", "-v", action="store_true", help="list every contract example not served")
    for command, title, description in (
        (CHECK, "check that a running server honours the contract",
         "Send valid requests (examples, boundary and generated cases) to BASE_URL and check every answer against the "
         "contract. Read-only unless --allow-unsafe-methods: only GET/HEAD/OPTIONS operations are sent, the others are "
         "listed as skipped. A 429 (or 503 with Retry-After) is waited out and sent again, never a failure."),
        (FUZZ, "everything check does, plus invalid requests and stateful sequences, bounded in time",
         "Like check, plus negative data (wrong types, missing parameters, junk headers) that must get a 4xx and never "
         "a 5xx, and stateful sequences where the contract has links. Read-only unless --allow-unsafe-methods."),
    ):  # fmt: skip
        p = subparsers.add_parser(command, help=title, description=description, epilog=EXIT_CODES,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        add_options(p, Plan, command, FUZZ_DEFAULTS if command == FUZZ else None)
    replay = subparsers.add_parser(
        "replay", help="send the failing requests of a check/fuzz cassette again",
        description="Send the failing requests saved by check or fuzz (--cassette) again and say which still fail. "
        "The key is not in the cassette: it is taken from MOCKSERVER_API_KEY.",
        epilog="exit codes:\n  0  none still fails\n  1  some still fail\n  2  unreadable cassette or usage error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    replay.add_argument("cassette", metavar="CASSETTE", help="the cassette check or fuzz wrote")
    replay.add_argument("base_url", nargs="?", metavar="BASE_URL", help="send them here instead (default: where "
                        "they went)")  # fmt: skip
    replay.add_argument("--spec", metavar="SPEC", help="the contract (default: the one the run used)")
    replay.add_argument(
        "--allow-unsafe-methods",
        action="store_true",
        help="also send recorded POST/PUT/PATCH/DELETE requests (for disposable test servers)",
    )
    replay.add_argument("--request-timeout", type=_positive_float, default=10.0, metavar="S",
                        help="seconds for one complete answer (default: 10.0)")  # fmt: skip
    report = subparsers.add_parser("report", help="work with check/fuzz reports")
    sub = report.add_subparsers(dest="report_command", required=True)
    merge = sub.add_parser(
        "merge",
        help="merge the JUnit files of a sharded run (--shard I/N) into one",
        description="Join the shards' JUnit files into OUT (test cases kept, totals recounted) and print the merged "
        "verdict.",
        epilog=MERGE_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    merge.add_argument("out", metavar="OUT.xml", help="the merged JUnit file to write")
    merge.add_argument("inputs", metavar="IN.xml", nargs="+", help="the shards' JUnit files (--junit-xml)")
    return root


EXIT_CODES = """exit codes:
  0  conforming: every operation tested, no failure
  1  failures found (each listed once, with a curl that reproduces it)
  2  usage error, unreachable server, broken contract or unusable API key
  3  inconclusive: some operation could not be tested (the server kept answering 429 or 503 with Retry-After)"""


MERGE_EXIT_CODES = """exit codes:
  0  every shard passed
  1  violations in any shard
  2  else: a shard exited 2, a shard is missing or repeated, or an input cannot be read
  3  else: a shard was inconclusive (some operation could not be tested)"""


def _config(args: argparse.Namespace, **extra: Any) -> Config:
    config: Config = _from_args(Config, args, **extra)
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
    from .serve.mock import build_mock

    mock = build_mock(config)  # every contract or fixture mistake stops here, before a socket is opened
    forwarder = None
    if config.upstream:
        from .serve.proxy import Forwarder

        forwarder = Forwarder(config, mock)  # and an unwritable --record folder
    sock = _bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    fixtures = sum(len(index.by_name) for index in mock.fixtures.values())
    counts = f"{_count(len(mock.spec.operations), 'operation')}, {_count(fixtures, 'fixture')}"
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
    if config.stateful and mock.stateful is not None:
        names = ", ".join(c.name for c in mock.stateful.collections) or "none found in the contract"
        print(f"mockserver: stateful collections: {names}", file=sys.stderr)
    if config.state_url:
        from .serve.state import _safe

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
        "timeout_graceful_shutdown": 3, "lifespan": "off",
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
        return 1 if forwarder.failed else 0
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
    for warning in mock.warnings if verbose else [w for w in mock.warnings if w not in set(skipped)]:
        print(f"mockserver: warning: {warning}", file=sys.stderr)
    if skipped and not verbose:
        print(f"mockserver: warning: {_count(len(skipped), 'contract example')} not served (invalid against the "
              "schema; --verbose lists them)", file=sys.stderr)  # fmt: skip
    if mock.format_examples:
        print(f"mockserver: note: serving {_count(mock.format_examples, 'example')} that fail only a format "
              "(--serve-invalid-format-examples)", file=sys.stderr)  # fmt: skip


def fixtures_check(args: argparse.Namespace) -> int:
    from .serve.mock import build_mock

    mock = build_mock(Config(spec=args.spec, fixtures=args.fixtures))
    count = sum(len(index.by_name) for index in mock.fixtures.values())
    flagged = sum(1 for index in mock.fixtures.values() for f in index.by_name.values() if f.flagged)
    if flagged:
        print(f"mockserver: {count} fixtures loaded against {mock.spec.source}: {count - flagged} valid, "
              f"{flagged} flagged (recorded from a server that broke the contract; served as recorded, see the "
              "warnings)")  # fmt: skip
    else:
        print(f"mockserver: {count} fixtures valid against {mock.spec.source}")
    _report(mock, args.verbose)
    return 0


def report_merge(out: str, inputs: list[str]) -> int:
    from .check import merge

    try:
        code, text = merge.main(out, inputs)
    except merge.MergeError as exc:  # nothing written
        return _fail(str(exc))
    sys.stdout.write(text)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(_config(args))
        if args.command == "proxy":
            return serve(_config(args, proxy=True, fixtures=""))
        if args.command == "fixtures":
            return fixtures_check(args)
        if args.command == "report":
            return report_merge(args.out, args.inputs)
        from .check import commands

        if args.command == "replay":
            from .check import replay

            problem = commands.check_base_url(args.base_url) if args.base_url else ""
            if problem:
                return _fail(problem)
            return replay.run(args.cassette, args.base_url, args.spec, args.request_timeout, args.allow_unsafe_methods)

        plan: Plan = _from_args(Plan, args, fuzz=args.command == FUZZ)
        return commands.run(plan, list(argv) if argv is not None else None)
    except (DocumentError, ConfigError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
