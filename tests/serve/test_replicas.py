"""Replicas agree through Redis: two `--workers` with `--state-url` (a real redis-server started here) see the same
items, overrides, sequence positions and one merged journal, whichever worker a connection lands on."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support import CONVERSATIONS, CONVERSATIONS_FIXTURES, KEY_HEADER, redis_server, serve, wait_until

pytestmark = pytest.mark.e2e
KEY = {KEY_HEADER: "k"}
BASE = "/api/conversations"


def test_two_workers_with_a_state_url_agree_on_state_overrides_sequences_and_journal():
    with redis_server() as url, serve(
        CONVERSATIONS, "--fixtures", CONVERSATIONS_FIXTURES, "--stateful", "--workers", "2", "--state-url", url,
        "--no-request-log",
    ) as server:  # fmt: skip
        # printed just after the banner the server's start is detected by
        wait_until(lambda: "shared in redis://127.0.0.1" in server.stderr.text(), 10, server.stderr.text())
        with httpx.Client(base_url=server.url, timeout=10) as http:
            override = {"operation": f"GET {BASE}", "prefer": "code=422"}
            assert http.post("/__mock/overrides", json=override).status_code == 201
            created = http.post(BASE, json={"title": "Shared by replicas", "llm_api_key": "sk-secret"}, headers=KEY)
            new_id = created.json()["conversation_id"]
        sent, items, lists, sequence = 1, [], [], []  # the POST; admin requests are not journaled
        deadline = time.monotonic() + 30
        workers: set[int] = set()
        while time.monotonic() < deadline and (len(workers) < 2 or len(sequence) < 5):
            with httpx.Client(base_url=server.url, timeout=10) as fresh:  # a new connection: any worker may take it
                items.append(fresh.get(f"{BASE}/{new_id}", headers=KEY).json())
                lists.append(fresh.get(BASE, headers=KEY).status_code)
                sequence.append(fresh.get(f"{BASE}/warming-up", headers=KEY).json()["status"])
                sent += 3
                journal = fresh.get("/__mock/requests?limit=1000").json()
            workers = {e["worker"] for e in journal["requests"]}
        assert len(workers) == 2, f"only worker(s) {workers} answered in 30 s"
        assert all(item == items[0] for item in items) and items[0]["title"] == "Shared by replicas"
        assert "llm_api_key" not in items[0]
        assert set(lists) == {422}  # the override, on every worker
        assert sequence[:3] == ["STARTING", "STARTING", "RUNNING"] and set(sequence[3:]) == {"RUNNING"}
        with httpx.Client(base_url=server.url, timeout=10) as http:
            settle = time.monotonic() + 30  # a worker records after it answered: the last entry may lag (hang guard)
            while journal["total"] < sent and time.monotonic() < settle:
                journal = http.get("/__mock/requests?limit=0").json()
            assert journal["total"] == sent and journal["shared"] is True  # one merged journal, nothing twice
            assert http.post("/__mock/reset").status_code == 200
            assert http.get(f"{BASE}/{new_id}", headers=KEY).json() is None
            assert http.get(BASE, headers=KEY).status_code == 200
