"""Command line: argument parsing and process wiring only.

Rules: a user's mistake (bad contract, bad fixture, bad option, busy port) prints one line naming file, location and
reason and exits 2, with no traceback and no socket left listening. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import sys
from collections.abc import Sequence

from .config import Config, ConfigError, parse_latency
from .documents import DocumentError

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


def _add_serve(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="serve a contract as a mock server", description="Serve an OpenAPI 3.x contract.")
    p.add_argument("spec", nargs="?", help="YAML/JSON file or http(s) URL (default: the built-in contract)")
    p.add_argument("--fixtures", metavar="DIR", help="fixtures folder (default: the built-in fixtures with the built-in contract)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=_port, default=4010, help="port (default: 4010; 0 picks a free one)")
    p.add_argument("--seed", type=int, default=0, help="another deterministic world of generated data")
    p.add_argument("--api-key", default=os.environ.get("MOCKSERVER_API_KEY"), help="require this exact credential (default: $MOCKSERVER_API_KEY; without it any non-empty value passes)")
    p.add_argument("--fixtures-only", action="store_true", help="requests without a fixture answer null where the contract allows it")
    p.add_argument("--edge-cases", action="store_true", help="boundary-seeking generated data instead of readable data")
    p.add_argument("--latency", type=_latency, default=(0, 0), metavar="MS|MIN-MAX", help="added latency in milliseconds")
    p.add_argument("--error-rate", type=_rate, default=0.0, metavar="P", help="fraction of requests answered 500/503")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN", help="allow only these origins (repeatable)")
    p.add_argument("--no-cors", action="store_true", help="no CORS headers at all")
    p.add_argument("--no-admin", action="store_true", help="turn off the /__mock endpoints")
    p.add_argument("--admin-prefix", default="/__mock", help="prefix of the admin endpoints (default: /__mock)")
    p.add_argument("--journal-size", type=int, default=1000, help="requests kept in the journal (default: 1000)")
    p.add_argument("--no-request-log", action="store_true", help="no per-request log line")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")


def _add_fixtures(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("fixtures", help="work with fixture files")
    sub = p.add_subparsers(dest="fixtures_command", required=True)
    check = sub.add_parser("check", help="validate fixtures against the contract without serving")
    check.add_argument("spec", nargs="?", help="YAML/JSON file or URL (default: the built-in contract)")
    check.add_argument("--fixtures", metavar="DIR", help="fixtures folder (default: the built-in fixtures)")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mockserver", description="Mock servers and contract checks from OpenAPI 3.x.")
    subparsers = root.add_subparsers(dest="command", required=True)
    _add_serve(subparsers)
    _add_fixtures(subparsers)
    try:
        from . import checking
    except ImportError:  # the checker ships in its own module; serve works without it
        checking = None  # type: ignore[assignment]
    if checking is not None and hasattr(checking, "register"):
        checking.register(subparsers)
    return root


def _config(args: argparse.Namespace) -> Config:
    return Config(
        spec=args.spec,
        fixtures=args.fixtures,
        seed=args.seed,
        api_key=args.api_key or None,
        fixtures_only=args.fixtures_only,
        edge_cases=args.edge_cases,
        latency=args.latency,
        error_rate=args.error_rate,
        cors=not args.no_cors,
        cors_origins=args.cors_origin,
        admin=not args.no_admin,
        admin_prefix=args.admin_prefix,
        journal_size=args.journal_size,
        request_log=not args.no_request_log,
    )


def _environment(config: Config) -> dict[str, str]:
    """The config as MOCKSERVER_* variables, for worker processes that build the app with the ASGI factory."""
    env = {
        "MOCKSERVER_SEED": str(config.seed),
        "MOCKSERVER_FIXTURES_ONLY": str(config.fixtures_only),
        "MOCKSERVER_EDGE_CASES": str(config.edge_cases),
        "MOCKSERVER_LATENCY": f"{config.latency[0]}-{config.latency[1]}",
        "MOCKSERVER_ERROR_RATE": str(config.error_rate),
        "MOCKSERVER_CORS": str(config.cors),
        "MOCKSERVER_CORS_ORIGINS": ",".join(config.cors_origins),
        "MOCKSERVER_ADMIN": str(config.admin),
        "MOCKSERVER_ADMIN_PREFIX": config.admin_prefix,
        "MOCKSERVER_JOURNAL_SIZE": str(config.journal_size),
        "MOCKSERVER_REQUEST_LOG": str(config.request_log),
    }
    if config.spec is not None:
        env["MOCKSERVER_SPEC"] = config.spec
    if config.fixtures is not None:
        env["MOCKSERVER_FIXTURES"] = config.fixtures
    if config.api_key:
        env["MOCKSERVER_API_KEY"] = config.api_key
    return env


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


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import build_mock, create_app

    config = _config(args)
    if args.workers < 1:
        return _fail("--workers must be at least 1")
    mock = build_mock(config)  # every contract or fixture mistake stops here, before a socket is opened
    sock = _bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    fixtures = sum(len(index.by_name) for index in mock.fixtures.values())
    print(
        f"mockserver: serving {mock.spec.source} ({_count(len(mock.spec.operations), 'operation')}, {_count(fixtures, 'fixture')}) "
        f"on http://{shown}:{port}" + (f" - admin at {config.admin_prefix}" if config.admin else ""),
        file=sys.stderr,
        flush=True,
    )
    for warning in mock.spec.warnings:
        print(f"mockserver: warning: {warning}", file=sys.stderr)
    gc.freeze()  # the contract, validators and fixtures live for ever: keep them out of every collection's walk
    common = dict(access_log=False, log_level="warning", server_header=False, date_header=False, timeout_graceful_shutdown=3)
    if args.workers == 1:
        server = uvicorn.Server(uvicorn.Config(create_app(config, mock), lifespan="off", **common))  # type: ignore[arg-type]
        server.run(sockets=[sock])
        return 0
    from uvicorn.supervisors import Multiprocess

    os.environ.update(_environment(config))
    uv_config = uvicorn.Config("mockserver.app:create_app", factory=True, workers=args.workers, lifespan="off", **common)  # type: ignore[arg-type]
    Multiprocess(uv_config, sockets=[sock]).run()
    return 0


def fixtures_check(args: argparse.Namespace) -> int:
    from .app import build_mock

    mock = build_mock(Config(spec=args.spec, fixtures=args.fixtures))
    count = sum(len(index.by_name) for index in mock.fixtures.values())
    print(f"mockserver: {count} fixtures valid against {mock.spec.source}")
    for warning in mock.spec.warnings:
        print(f"mockserver: warning: {warning}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "fixtures":
            return fixtures_check(args)
        return int(args.handler(args))
    except (DocumentError, ConfigError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
