"""100,000 requests into the journal: it keeps the last N, each entry clipped, the same size after 10,000 requests as
after 100,000, and the API key (in any place a client can put it) is nowhere in it."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any
from urllib.parse import quote

import orjson

from mockserver import Config, create_app

from .support import CONVERSATION, KEY, KEY_HEADER, key_forms, report, scope

TOTAL = 100_000
CAPACITY = 1000
WRONG = "wrong-credential-7731"  # a credential that fails: still a secret, redacted by name and by value
ENCODED = quote(KEY, safe="")


def _shapes() -> list[tuple[bytes, bytes, list[tuple[bytes, bytes]]]]:
    def h(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
        return [(k.lower().encode(), v.encode()) for k, v in pairs]

    auth = (KEY_HEADER, KEY)
    ready = (CONVERSATION + "ready").encode()
    return [
        (ready, b"", h(auth)),
        (ready, b"", h((KEY_HEADER, WRONG))),
        (ready, b"", h(("Authorization", f"Bearer {KEY}"), ("Cookie", f"session={KEY}; theme=dark"))),
        (ready, f"api_key={ENCODED}&q={ENCODED}&{ENCODED}=1".encode(), h(auth)),
        ((CONVERSATION + ENCODED).encode(), b"", h(auth)),  # the key as an id
        ((CONVERSATION + ENCODED).encode(), b"", h()),  # ... without credentials: 401
        (("/not/a/route/" + ENCODED).encode(), b"", h(("X-Debug", f"token={KEY}"))),  # 404
        (ready, b"", h(auth, ("Referer", f"http://127.0.0.1:3000/?key={ENCODED}"), ("X-Forwarded-Key", KEY))),
        # heavy, once per cycle: a 20 KB id, and more headers and query parameters than an entry keeps
        (
            (CONVERSATION + "x" * 20_000 + ENCODED).encode(),
            b"",
            h(auth, *((f"X-Fill-{i}", "f" * 200 + KEY) for i in range(120))),
        ),
        (ready, b"&".join(b"p%d=%s" % (i, ENCODED.encode()) for i in range(120)), h(auth)),
    ]


async def _flood(app: Any, count: int, shapes: list, statuses: dict[int, int]) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    light = [scope("GET", path, query, headers) for path, query, headers in shapes[:-2]]
    heavy = [scope("GET", path, query, headers) for path, query, headers in shapes[-2:]]
    cycle = (light * 13)[:98] + heavy  # 100 requests, 2 of them heavy: any 1000 in a row have the same mix
    for i in range(count):
        await app(dict(cycle[i % len(cycle)]), receive, send)


def _deep_size(value: Any) -> int:
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(_deep_size(k) + _deep_size(v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        size += sum(_deep_size(item) for item in value)
    return size


def test_a_journal_flooded_with_100000_requests_stays_bounded_and_redacted():
    app = create_app(Config(request_log=False, api_key=KEY, journal_size=CAPACITY))
    journal = app.state.journal
    shapes = _shapes()
    statuses: dict[int, int] = {}
    loop = asyncio.new_event_loop()
    try:
        start = time.monotonic()
        loop.run_until_complete(asyncio.wait_for(_flood(app, TOTAL // 10, shapes, statuses), 120))
        size_10k = _deep_size(list(journal.entries))
        loop.run_until_complete(asyncio.wait_for(_flood(app, TOTAL - TOTAL // 10, shapes, statuses), 120))
        elapsed = time.monotonic() - start
        size_100k = _deep_size(list(journal.entries))
        served = {}

        async def admin() -> None:
            from .support import asgi_call

            served["reply"] = await asgi_call(app, "GET", b"/__mock/requests")

        loop.run_until_complete(admin())
    finally:
        loop.close()

    assert sum(statuses.values()) == TOTAL and not [s for s in statuses if s >= 500]
    assert journal.total == TOTAL and len(journal.entries) == CAPACITY
    # the same request mix repeated: the last 1000 entries weigh the same after 10x the traffic
    assert size_100k <= size_10k * 1.05, (size_10k, size_100k)
    assert size_100k < CAPACITY * 60_000  # and each entry is clipped: ~100 headers of ~2 KB at most
    entries = list(journal.entries)
    assert max(len(e["headers"]) for e in entries) <= 100 and max(len(e["query"]) for e in entries) <= 100
    assert max(len(e["path"]) for e in entries) < 2100
    dumped = orjson.dumps(journal.snapshot()).decode()
    reply = served["reply"]
    assert reply.status == 200 and reply.json()["total"] == TOTAL
    for artefact in (dumped, reply.body.decode()):
        leaked = [form for form in [*key_forms(), WRONG] if form in artefact]
        assert not leaked, leaked
    assert "[redacted]" in dumped
    report(
        f"journal flood: {TOTAL:,} requests in {elapsed:.1f} s, statuses {dict(sorted(statuses.items()))}, "
        f"{len(journal.entries)} entries kept, {size_10k / 1e6:.2f} MB after 10k vs {size_100k / 1e6:.2f} MB after "
        f"100k, key found 0 times in {len(dumped) / 1e6:.1f} MB of journal JSON"
    )
