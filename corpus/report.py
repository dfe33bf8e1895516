"""RESULTS.md from the results of a run: one table, then each distinct cause with the documents that show it."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from .exercise import Result

KINDS = {
    "refused": "refused at start-up",
    "crashed": "crashed (an exception left the mock)",
    "5xx": "5xx answers",
    "invalid": "answers invalid against their contract",
    "rejected": "valid requests answered 4xx",
    "timeout": "timeouts",
    "unsendable": "operations the runner could not build a request for",
    "unsatisfiable": "answers to a schema no value satisfies (the mock says so; closest value served)",
}


def summary(results: list[Result]) -> dict[str, Any]:
    started = [r for r in results if r.started]
    startup = sorted(r.startup_seconds for r in started) or [0.0]
    out: dict[str, Any] = {
        "documents": len(results),
        "started": len(started),
        "operations": sum(r.operations for r in results),
        "requests": sum(r.requests for r in results),
        "warnings": sum(r.warnings for r in results),
        "startup_median": statistics.median(startup),
        "startup_max": startup[-1],
        "peak_rss_mib": max((r.peak_rss_kib for r in results), default=0) / 1024,
    }
    for band in ("2xx", "3xx", "4xx", "5xx"):
        out[band] = sum(r.statuses.get(band, 0) for r in results)
    for kind in KINDS:
        out[kind] = sum(r.count(kind) for r in results)
    return out


def causes(results: list[Result]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(kind, cause) -> [(document, detail)], most frequent first."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for result in results:
        for finding in result.findings:
            found[(finding.kind, finding.cause)].append((result.document, finding.detail))
    return dict(sorted(found.items(), key=lambda item: (-len(item[1]), item[0])))


def markdown(results: list[Result], seconds: float, title: str, package: str, note: str = "",
             workers: int = 1) -> str:  # fmt: skip
    s = summary(results)
    lines = [
        f"# {title}",
        "",
        f"`{package}` (APIs-guru, MIT): every document through the mock in process (ASGI transport), one valid "
        "request per operation of every method, each answer checked against its contract. Written by "
        "`make corpus` (`python -m corpus`); see corpus/README.md.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| documents | {s['documents']:,} |",
        f"| started | {s['started']:,} |",
        f"| refused at start-up | {s['refused']:,} |",
        f"| crashed | {s['crashed']:,} |",
        f"| start-up warnings | {s['warnings']:,} |",
        f"| start-up time, median / max | {s['startup_median']:.2f} s / {s['startup_max']:.1f} s |",
        f"| operations | {s['operations']:,} |",
        f"| requests sent | {s['requests']:,} |",
        f"| answers 2xx / 3xx / 4xx / 5xx | {s['2xx']:,} / {s['3xx']:,} / {s['4xx']:,} / {s['5xx']:,} |",
        f"| answers invalid against their contract | {s['invalid']:,} |",
        f"| valid requests answered 4xx | {s['rejected']:,} |",
        f"| timeouts | {s['timeout']:,} |",
        f"| operations the runner could not build a request for | {s['unsendable']:,} |",
        f"| answers to a schema no value satisfies (said at start-up; closest value) | {s['unsatisfiable']:,} |",
        f"| wall time ({workers} worker process{'es' if workers > 1 else ''} at once) | {seconds / 60:.1f} min |",
        f"| peak memory of a worker (RSS) | {s['peak_rss_mib']:.0f} MiB |",
        "",
        *([note, ""] if note else []),
        "Each remaining cause, judged a mistake of the mock, of the runner or of the contract: corpus/REVIEW.md.",
        "",
        "## Distinct causes",
        "",
    ]
    found = causes(results)
    if not found:
        lines.append("None.")
    for (kind, cause), where in found.items():
        documents = sorted({d for d, _ in where})
        shown = ", ".join(f"`{d}`" for d in documents[:6]) + (
            f" and {len(documents) - 6} more" if len(documents) > 6 else ""
        )
        lines.append(f"- **{KINDS[kind]}** ({len(where)}×, {len(documents)} documents): {cause}")
        lines.append(f"  - {shown}")
        lines.append(f"  - e.g. {where[0][1][:240]}".replace("|", "\\|"))
    return "\n".join(lines) + "\n"
