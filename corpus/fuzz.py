"""`python -m corpus.fuzz DOC...`: Schemathesis over the mock serving each published document, in process (ASGI).

Positive mode (default): every check of the fidelity suite (no 5xx, schema-valid answers, documented media types,
valid data accepted) on `--examples` cases per operation; negative mode (`--negative`): invalid data, only 5xx
counted. Every case is run and judged (not stopped at the first failure); what Schemathesis itself cannot generate
for (an operation it cannot load, a strategy it cannot satisfy) is counted apart. Prints one line per document and
the distinct failures, most frequent first.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
)

from mockserver.contract.spec import load_spec
from mockserver.serve.app import create_app
from mockserver.serve.config import Config
from mockserver.serve.pipeline.core import Mock

POSITIVE = [not_a_server_error, response_schema_conformance, content_type_conformance, positive_data_acceptance]


def _credentials(spec: Any) -> dict[str, dict[str, str]]:
    found = {}
    for name, scheme in spec.security_schemes.items():
        if scheme.type == "apiKey":
            found[name] = {"api_key": "fuzz-key"}
        elif scheme.scheme == "basic":
            found[name] = {"username": "user", "password": "fuzz-key"}
        else:
            found[name] = {"bearer": "fuzz-key"}
    return found


def fuzz(path: str, negative: bool, examples: int) -> dict[str, Any]:
    spec = load_spec(path)
    credentials = _credentials(spec)
    options: dict[str, Any] = {"auth": {"openapi": credentials}} if credentials else {}
    schema = schemathesis.openapi.from_dict(spec.document, config=SchemathesisConfig.from_dict(options))
    config = Config(spec=[path], request_log=False, cors=False)
    schema.app = create_app(config, Mock(spec, {}, config))
    mode: Any = GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE
    out: dict[str, Any] = {"operations": 0, "cases": 0, "5xx": 0, "failures": Counter(), "cannot": Counter(),
                           "failed_operations": set()}  # fmt: skip
    for result in schema.get_all_operations():
        try:
            operation = result.ok()  # type: ignore[union-attr]
        except Exception as exc:  # an operation Schemathesis cannot load
            out["cannot"][f"cannot load: {type(exc).__name__}"] += 1
            continue
        out["operations"] += 1
        run = _runner(operation, mode, examples, negative, out)
        try:
            run()
        except BaseException as exc:  # Schemathesis could not generate (Unsatisfiable, ...), or its client failed
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            first = str(exc).splitlines()[0][:100] if str(exc) else ""
            out["cannot"][f"{type(exc).__name__}: {first} ({operation.label})"] += 1
    return out


def _runner(operation: Any, mode: Any, examples: int, negative: bool, out: dict[str, Any]) -> Any:
    """A Hypothesis test over one operation's cases that judges every case (no stop at the first failure)."""
    label = operation.label

    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, phases=[Phase.generate], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: Any) -> None:
        out["cases"] += 1
        response = case.call()
        if response.status_code >= 500:
            out["5xx"] += 1
            out["failures"][f"5xx: {response.text[:120]}"] += 1
            out["failed_operations"].add(label)
        if negative:
            return
        try:
            case.validate_response(response, checks=POSITIVE)
        except BaseException as exc:  # a failure group: each failure's title counts
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            for failure in getattr(exc, "exceptions", [exc]):
                out["failures"][getattr(failure, "title", type(failure).__name__)] += 1
            out["failed_operations"].add(label)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m corpus.fuzz")
    parser.add_argument("documents", nargs="+")
    parser.add_argument("--negative", action="store_true")
    parser.add_argument("--examples", type=int, default=10)
    args = parser.parse_args(argv)
    for path in args.documents:
        began = time.perf_counter()
        found = fuzz(path, args.negative, args.examples)
        mode = "negative" if args.negative else "positive"
        print(f"{path} ({mode}): {found['operations']} operations, {found['cases']} cases, {found['5xx']} 5xx, "
              f"{sum(found['failures'].values())} failures in {len(found['failed_operations'])} operations, "
              f"{sum(found['cannot'].values())} Schemathesis could not generate for, "
              f"{time.perf_counter() - began:.0f} s")  # fmt: skip
        for title, n in found["failures"].most_common(15):
            print(f"  {n:5}  {title}")
        for title, n in found["cannot"].most_common(8):
            print(f"  {n:5}  (Schemathesis) {title}")
        for label in sorted(found["failed_operations"])[:20]:
            print(f"         {label}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
