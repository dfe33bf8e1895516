"""The `Store` behind state, overrides, sequence positions, the journal and the rate limit: one behaviour, two
implementations (memory; Redis, started by the test), and replicas that agree through Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.serve.config import Config, ConfigError
from mockserver.serve.journal import Journal, Redactor
from mockserver.serve.pipeline.core import build_mock
from mockserver.serve.pipeline.overrides import Overrides
from mockserver.serve.redis_store import RedisStore
from mockserver.serve.store import MemoryStore, StateError, Store
from tests.support import free_port, redis_server


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.e2e)])  # e2e: a real redis-server
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore(3)
        return
    made = RedisStore(request.getfixturevalue("redis_url"), 3)
    made.reset()
    try:
        yield made
    finally:
        made.reset()
        made.close()


def test_overrides_are_versioned_and_counted(store: Store):
    version, items = store.overrides()
    assert items == []
    first = store.add_override({"operation": "GET /a", "params": {}, "prefer": "code=500", "times": 2})
    forever = store.add_override({"operation": "GET /a", "params": {}, "prefer": "code=422", "times": None})
    after, items = store.overrides()
    assert after != version and [i["id"] for i in items] == [first["id"], forever["id"]]
    assert [i["left"] for i in items] == [2, None]
    assert store.use_override(first["id"]) and store.use_override(first["id"])
    assert not store.use_override(first["id"])  # used up, and gone
    assert [i["id"] for i in store.overrides()[1]] == [forever["id"]]
    assert all(store.use_override(forever["id"]) for _ in range(5))
    assert store.remove_overrides(forever["id"]) == 1 and store.remove_overrides(forever["id"]) == 0
    store.add_override({"operation": "GET /b", "params": {}, "prefer": "code=500", "times": None})
    assert store.remove_overrides(None) == 1 and store.overrides()[1] == []


def test_sequence_positions_count_per_identity(store: Store):
    assert [store.advance("a"), store.advance("a"), store.advance("b"), store.advance("a")] == [0, 1, 0, 2]


def test_collections_seed_once_keep_order_and_evict_the_oldest(store: Store):
    store.seed("/c", [("s1", {"id": "s1"}), ("s2", {"id": "s2"})], limit=3)
    store.seed("/c", [("other", {"id": "other"})], limit=3)  # already seeded: nothing
    assert [i["id"] for i in store.items("/c")] == ["s1", "s2"]
    store.put("/c", "n1", {"id": "n1"}, limit=3)
    store.put("/c", "s1", {"id": "s1", "v": 2}, limit=3)  # an update keeps its place
    assert [i["id"] for i in store.items("/c")] == ["s1", "s2", "n1"] and store.get("/c", "s1") == {"id": "s1", "v": 2}
    store.put("/c", "n2", {"id": "n2"}, limit=3)
    assert [i["id"] for i in store.items("/c")] == ["s2", "n1", "n2"] and store.get("/c", "s1") is None
    assert store.delete("/c", "n1") and not store.delete("/c", "n1")
    assert [store.next_number("/c"), store.next_number("/c"), store.next_number("/d")] == [1, 2, 1]


def test_the_journal_keeps_the_last_entries_and_counts_all(store: Store):
    for i in range(5):
        store.record({"n": i})
    total, entries = store.journal()
    assert total == 5 and [e["n"] for e in entries] == [2, 3, 4]
    assert [e["n"] for e in store.journal(2)[1]] == [3, 4] and store.journal(0) == (5, [])
    store.clear_journal()
    assert store.journal() == (5, [])


def test_the_journal_reads_the_same_from_every_store(store: Store):
    """The journal asks the store's capability (`raw_entries`), not its class: both read back the same entries."""
    journal = Journal(3, Redactor({"x-api-key"}, "k3y-value"), store)
    for i in range(4):
        journal.record("GET", f"/things/{i}", [], (("x-api-key", "k3y-value"),), 200, "generated", "GET /things/{id}",
                       0.5, ["k3y-value"])  # fmt: skip
    snapshot = journal.snapshot()
    assert snapshot["total"] == 4 and snapshot["shared"] is store.shared
    assert [e["path"] for e in snapshot["requests"]] == ["/things/1", "/things/2", "/things/3"]
    assert "k3y-value" not in repr(snapshot["requests"])


def test_overrides_are_read_again_only_when_their_version_changes(store: Store):
    overrides = Overrides(store, 1000)
    assert overrides.refresh() is False
    store.add_override({"operation": "GET /things/{id}", "params": {"id": "a"}, "prefer": "code=404", "times": 1})
    assert overrides.refresh() is True and list(overrides.by_operation) == ["GET /things/{id}"]
    found = overrides.find("GET /things/{id}", {"id": "a"}, {})
    assert found is not None and found.prefer == "code=404"
    assert overrides.refresh() is False  # its one use is spent: the version moved on


def test_rate_windows_count_per_second(store: Store):
    assert [store.hit(10), store.hit(10), store.hit(11)] == [1, 2, 1]


def test_reset_forgets_everything_but_override_ids_stay_unique(store: Store):
    first = store.add_override({"operation": "GET /a", "params": {}, "prefer": "code=500", "times": None})
    store.advance("a")
    store.seed("/c", [("s1", {"id": "s1"})], limit=3)
    store.record({"n": 1})
    version = store.overrides()[0]
    store.reset()
    assert store.overrides()[1] == [] and store.overrides()[0] != version
    assert store.advance("a") == 0 and store.items("/c") == [] and store.journal() == (0, [])
    store.seed("/c", [("s1", {"id": "s1"})], limit=3)  # seeding works again after a reset
    assert store.get("/c", "s1") == {"id": "s1"}
    again = store.add_override({"operation": "GET /a", "params": {}, "prefer": "code=500", "times": None})
    assert again["id"] != first["id"]


def test_an_unreachable_state_url_is_one_line_at_start_up():
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(ConfigError) as caught:
        build_mock(Config(state_url=url))
    assert f"cannot reach the state store at {url}" in str(caught.value)


def test_a_password_never_shows_in_messages():
    with pytest.raises(StateError) as caught:
        RedisStore(f"redis://:hunter2-password@127.0.0.1:{free_port()}/0", 10)
    assert "hunter2" not in str(caught.value) and "//***@127.0.0.1" in str(caught.value)


@pytest.mark.parametrize("url", ["http://x", "redis://", "redis://h:1/x"])
def test_a_malformed_state_url_is_refused(url):
    with pytest.raises(ConfigError):
        Config(state_url=url)


def test_keep_journal_keeps_only_the_given_entries_and_the_count(store):
    for number in range(3):
        store.record({"n": number})
    _, entries = store.journal()
    store.keep_journal([e for e in entries if e["n"] != 1])
    total, kept = store.journal()
    assert total == 3 and [e["n"] for e in kept] == [0, 2]
    store.record({"n": 3})
    store.record({"n": 4})
    assert [e["n"] for e in store.journal()[1]] == [2, 3, 4]  # still bounded by the capacity (3)
    store.keep_journal([])
    assert store.journal() == (5, [])
