"""Load and faults on loopback, bounded by a count: 50 keep-alive connections sending a mix of fixture, generated, 401,
404 and 422 requests (60,000 across the three servers; a busy machine takes longer, never sends fewer) get zero 5xx,
lose no connection and no request (log and journal count every one), and the server's memory stays flat from the
first fifth of the run to its end. At the same time, the same mix against `--error-rate` and `--latency` servers
shows each behaves as documented: a fraction P of the mocked answers are injected 500/503s, and every answer
waits at least the configured minimum."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from mockserver import Config, create_app

from .support import CONVERSATION, KEY, KEY_HEADER, Server, key_forms, report, serve

MAX_REQUESTS = 60_000  # across the three servers: the run's bound (a busy machine takes longer, never fewer)
HANG_S = 240.0  # a guard against a hang only, never reached by a slow run (pytest's own timeout is 300 s)
CONNECTIONS = 50
SIDE_CONNECTIONS = 8  # each, for the --error-rate and --latency servers
ERROR_RATE = 0.2
LATENCY = (40, 60)
KINDS = ("fixture", "generated", "401", "404", "422")

_FIXTURES = create_app(Config(request_log=False)).state.mock.fixtures
_INDEX = next(iter(_FIXTURES.values()))
FIXTURE_BODIES = {
    name: _INDEX.by_name[name].first.body_bytes
    for name in ("ready", "running", "stopped", "not-found", "unicode-title")
}
UNAUTHORIZED = _INDEX.unauthorized.first.body_bytes if _INDEX.unauthorized else b""


def _request(target: str, key: bool = True) -> bytes:
    auth = f"{KEY_HEADER}: {KEY}\r\n" if key else ""
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()


@dataclass
class Expect:
    kind: str
    data: bytes
    check: Callable[[int, dict[str, str], bytes], str | None]  # a problem, or None


def _mix() -> itertools.cycle[Callable[[int], Expect]]:
    def fixture(n: int) -> Expect:
        name = list(FIXTURE_BODIES)[n % len(FIXTURE_BODIES)]
        return Expect(
            "fixture",
            _request(CONVERSATION + name),
            lambda s, h, b: None if (s, b) == (200, FIXTURE_BODIES[name]) else f"{s} {b[:80]!r}",
        )

    def generated(n: int) -> Expect:
        echo = f'"conversation_id":"load-{n}"'.encode()

        def check(s: int, h: dict[str, str], b: bytes) -> str | None:
            if s == 200 and h.get("x-mock-source") == "generated" and (echo in b or b == b"null"):
                return None
            return f"{s} {b[:80]!r}"

        return Expect("generated", _request(f"{CONVERSATION}load-{n}"), check)

    def unauthorized(n: int) -> Expect:
        return Expect(
            "401",
            _request(f"{CONVERSATION}load-{n}", key=False),
            lambda s, h, b: None if (s, b) == (401, UNAUTHORIZED) else f"{s} {b[:80]!r}",
        )

    def not_found(n: int) -> Expect:
        return Expect(
            "404",
            _request(f"/api/nothing/{n}"),
            lambda s, h, b: None if s == 404 and b'/no-path"' in b else f"{s} {b[:80]!r}",
        )

    def invalid(n: int) -> Expect:
        return Expect(
            "422", _request(f"{CONVERSATION}load-{n}%ff%fe"),
            lambda s, h, b: None if s == 422 and b'"loc":["path","conversation_id"]' in b else f"{s} {b[:80]!r}",
        )  # fmt: skip

    # fixture and generated answers are what a frontend mostly asks for; errors are a fair share
    return itertools.cycle([fixture, generated, fixture, unauthorized, generated, not_found, fixture, invalid])


@dataclass
class Tally:
    name: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)  # injected 5xx by request kind
    wrong: list[str] = field(default_factory=list)  # wrong answers (first few)
    drops: list[str] = field(default_factory=list)  # connections lost, closed or stalled
    latencies: list[float] = field(default_factory=list)
    connected: int = 0

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)


async def _read(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def _worker(server: Server, tally: Tally, counter: itertools.count, start: asyncio.Event, faults: bool) -> None:
    mix = _mix()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    tally.connected += 1
    await start.wait()
    loop = asyncio.get_running_loop()
    try:
        while (n := next(counter)) < MAX_REQUESTS:
            expect = next(mix)(n)
            sent = loop.time()
            writer.write(expect.data)
            tally.requests += 1
            try:
                status, headers, body = await asyncio.wait_for(_read(reader), timeout=20)
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError) as exc:
                tally.drops.append(f"{expect.kind}: {type(exc).__name__}")
                return
            tally.latencies.append(loop.time() - sent)
            tally.statuses[status] += 1
            tally.kinds[expect.kind] += 1
            if faults and status in (500, 503):
                tally.faults[expect.kind] += 1
                if headers.get("x-mock-source") != "error" or b"injected" not in body:
                    tally.wrong.append(f"{expect.kind}: fault {status} {body[:80]!r}")
                continue
            problem = expect.check(status, headers, body)
            if problem and len(tally.wrong) < 20:
                tally.wrong.append(f"{expect.kind}: {problem}")
            if headers.get("connection", "").lower() == "close":
                tally.drops.append(f"{expect.kind}: server closed the connection")
                return
    finally:
        writer.close()


async def _memory(
    server: Server, samples: list[tuple[float, int]], start: asyncio.Event, tallies: tuple[Tally, ...], workers: list
) -> None:
    """(share of the run's requests sent so far, the server's RSS in KiB), every 0.2 s until every worker is done."""
    await start.wait()
    while not all(w.done() for w in workers):
        samples.append((sum(t.requests for t in tallies) / MAX_REQUESTS, server.rss_kib()))
        await asyncio.sleep(0.2)  # a sampling period, not a wait for something to happen
    samples.append((1.0, server.rss_kib()))


async def _run(
    main: Server, faulty: Server, slow: Server
) -> tuple[Tally, Tally, Tally, list[tuple[float, int]], float]:
    tallies = (Tally("load"), Tally("error-rate"), Tally("latency"))
    counter = itertools.count()
    start = asyncio.Event()
    samples: list[tuple[float, int]] = []
    workers = [
        *(_worker(main, tallies[0], counter, start, False) for _ in range(CONNECTIONS)),
        *(_worker(faulty, tallies[1], counter, start, True) for _ in range(SIDE_CONNECTIONS)),
        *(_worker(slow, tallies[2], counter, start, False) for _ in range(SIDE_CONNECTIONS)),
    ]
    tasks = [asyncio.ensure_future(w) for w in workers]
    sampler = asyncio.ensure_future(_memory(main, samples, start, tallies, tasks))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_S
    while sum(t.connected for t in tallies) < len(workers):  # every connection open before the count starts
        assert loop.time() < deadline and not any(t.done() for t in tasks), "could not open all connections"
        await asyncio.sleep(0.01)
    began = loop.time()
    start.set()
    await asyncio.wait_for(asyncio.gather(*tasks, sampler), timeout=HANG_S)
    return (*tallies, samples, loop.time() - began)


def _journal_total(server: Server) -> int:
    return int(httpx.get(server.url + "/__mock/requests?limit=0", timeout=10).json()["total"])


@pytest.mark.e2e
def test_load_and_fault_injection_on_loopback():
    args = ("--api-key", KEY)
    with (
        serve(*args) as main,
        serve(*args, "--error-rate", str(ERROR_RATE), "--no-admin", "--no-request-log") as faulty,
        serve(*args, "--latency", f"{LATENCY[0]}-{LATENCY[1]}", "--no-request-log") as slow,
    ):
        loop = asyncio.new_event_loop()
        try:
            load, errors, latency, samples, elapsed = loop.run_until_complete(_run(main, faulty, slow))
        finally:
            loop.close()
        journal_total = _journal_total(main)
        admin_off = httpx.get(faulty.url + "/__mock/requests", timeout=10)
    log_lines = [line for line in main.stderr.lines if re.match(r"GET \S+ \d{3} \w+ [\d.]+ms$", line)]

    # after the first fifth of the requests (caches and the journal filled) against the last fifth
    warm = [kib for share, kib in samples if 0.2 <= share < 0.4]
    last = [kib for share, kib in samples if share >= 0.8]
    baseline, final = statistics.median(warm), statistics.median(last)
    growth_mib = (final - baseline) / 1024
    rate = sum(errors.faults[k] for k in KINDS if k != "404") / max(
        1, sum(errors.kinds[k] for k in KINDS if k != "404")
    )
    mocked = sum(errors.kinds[k] for k in KINDS if k != "404")
    sigma = math.sqrt(ERROR_RATE * (1 - ERROR_RATE) / max(1, mocked))
    report(
        f"load: {load.requests:,} requests on {CONNECTIONS} connections in {elapsed:.1f} s "
        f"({load.requests / elapsed:,.0f}/s), by kind {dict(load.kinds)}, "
        f"statuses {dict(sorted(load.statuses.items()))}, {load.server_errors} 5xx, "
        f"{len(load.drops)} dropped connections, {len(load.wrong)} wrong answers, "
        f"log lines {len(log_lines):,}, journal total {journal_total:,}, "
        f"RSS {baseline / 1024:.1f} MiB after warm-up -> {final / 1024:.1f} MiB at the end ({growth_mib:+.1f} MiB)"
    )
    report(
        f"error-rate {ERROR_RATE}: {errors.requests:,} requests, injected 5xx on {rate:.3f} of {mocked:,} mocked "
        f"answers (expected {ERROR_RATE} ± {5 * sigma:.3f}), 404s faulted {errors.faults['404']}, "
        f"{len(errors.drops)} dropped"
    )
    low = LATENCY[0] / 1000
    at_least = sum(t >= low - 0.001 for t in latency.latencies) / max(1, len(latency.latencies))
    report(
        f"latency {LATENCY[0]}-{LATENCY[1]} ms: {latency.requests:,} requests, "
        f"fastest answer {min(latency.latencies) * 1000:.1f} ms, {at_least:.2%} at {LATENCY[0] - 1} ms or more, "
        f"median {statistics.median(latency.latencies) * 1000:.1f} ms, {latency.server_errors} 5xx, "
        f"{len(latency.drops)} dropped"
    )

    assert load.connected == CONNECTIONS and load.requests > CONNECTIONS * 20
    assert set(load.kinds) == set(KINDS)
    assert load.server_errors == 0
    assert load.drops == [] and errors.drops == [] and latency.drops == []
    assert load.wrong == [] and errors.wrong == [] and latency.wrong == []
    assert sum(load.statuses.values()) == load.requests  # every request answered
    assert len(log_lines) == load.requests == journal_total  # nothing lost: logged and journaled once each
    assert not [form for form in key_forms() if form in main.output()]
    assert growth_mib < max(8.0, baseline / 1024 * 0.1), samples  # flat: under 8 MiB (or 10 %) after warm-up

    assert errors.faults["404"] == 0  # only answers from the contract's operations are faulted
    assert abs(rate - ERROR_RATE) < 5 * sigma + 0.01
    assert set(s for s in errors.statuses if s >= 500) == {500, 503}
    assert admin_off.status_code == 404 and json.loads(admin_off.content)["type"].endswith("/no-path")  # --no-admin

    assert latency.server_errors == 0
    # At least the configured minimum, give or take the server loop's clock: uvloop reads the time once per loop turn
    # (millisecond resolution), so on a busy machine a sleep can end a little early. No answer skips the latency.
    assert min(latency.latencies) >= low * 0.75
    assert at_least >= 0.99
    assert (
        max(latency.latencies) - min(latency.latencies) >= (LATENCY[1] - LATENCY[0]) / 1000 * 0.75
    )  # spread, not fixed
