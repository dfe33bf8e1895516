"""The command line's old spellings (before 0.2), still read for one release: each is rewritten into the one
convention of docs/reference/cli.md (the contract first, the server as --url, `report merge -o OUT`) and leaves a
one-line note in the namespace's hints saying how to write it now. Deleting this module ends the grace period.

Rules: a spelling that is neither old nor new is a `UsageError` (exit 2, one line); nothing here runs a command.
"""

from __future__ import annotations

import argparse

from .options import hints


class UsageError(Exception):
    """A command line that parsed but does not make sense (two contracts, no server)."""


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def check(args: argparse.Namespace) -> None:
    """`check BASE_URL [--spec SPEC]` read as `check [SPEC] --url BASE_URL` (also fuzz)."""
    spec, url, old = args.spec, args.base_url, args.old_spec
    if url is None and spec is not None and _is_url(spec):  # the positional is the server, as it used to be
        url, spec = spec, None
        hints(args).append(f"read {url} as the server; write: mockserver {args.command} [SPEC] --url {url}")
    if old is not None:
        if spec is not None:
            raise UsageError(f"two contracts given: {spec} and --spec {old}")
        spec = old
        hints(args).append(f"--spec is now the first argument; write: mockserver {args.command} {old} --url BASE_URL")
    if url is None:
        raise UsageError(f"the server to test is missing: mockserver {args.command} [SPEC] --url BASE_URL")
    args.spec, args.base_url = spec, url


def merge(args: argparse.Namespace) -> tuple[str, list[str]]:
    """`report merge OUT.xml IN.xml...` read as `report merge -o OUT.xml IN.xml...`."""
    out, inputs = args.out, list(args.inputs)
    if out is None:
        if len(inputs) < 2:
            raise UsageError("the merged file to write is missing: mockserver report merge -o OUT.xml IN.xml...")
        out, inputs = inputs[0], inputs[1:]
        hints(args).append(f"read {out} as the file to write; write: mockserver report merge -o {out} IN.xml...")
    return out, inputs


def replay(args: argparse.Namespace) -> None:
    """`replay CASSETTE BASE_URL` read as `replay CASSETTE --url BASE_URL`."""
    if args.old_base_url is not None:
        if args.base_url is not None:
            raise UsageError(f"two servers given: --url {args.base_url} and {args.old_base_url}")
        args.base_url = args.old_base_url
        hints(args).append(f"read {args.base_url} as the server; write: mockserver replay CASSETTE --url URL")
