"""The Redis store (`--state-url redis://HOST:PORT/DB`): every protocol of store.py, shared by every replica.

Rules: values are JSON; every read-modify-write that replicas could race on is one Redis command or one Lua script;
the client is imported only when a Redis store is opened; a failure is a `StateError` whose message never holds a
password.
"""

from __future__ import annotations

from typing import Any

import orjson

from .store import MAX_POSITIONS, PREFIX, StateError, _safe

# Lua scripts: each runs atomically in Redis, so replicas never interleave inside one.
_USE_OVERRIDE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local left = redis.call('HGET', KEYS[2], ARGV[1])
if not left then return 1 end
left = tonumber(left) - 1
if left <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('INCR', KEYS[3])
  if left < 0 then return 0 end
  return 1
end
redis.call('HSET', KEYS[2], ARGV[1], left)
return 1
"""
# The end of _PUT and _SEED: only the newest `limit` items of a collection stay (KEYS[1] items, KEYS[2] their order)
_EVICT = """
local extra = redis.call('ZCARD', KEYS[2]) - limit
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
  redis.call('HDEL', KEYS[1], unpack(old))
end
return 1
"""
_PUT = (
    """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local limit = tonumber(ARGV[3])
"""
    + _EVICT
)
_RECORD = """
redis.call('INCR', KEYS[2])
if tonumber(ARGV[2]) > 0 then
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
end
return 1
"""
_ADVANCE = """
local served = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if served == 1 and redis.call('HLEN', KEYS[1]) > tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], ARGV[1], 1)
end
return served
"""
_SEED = (
    """
if redis.call('SETNX', KEYS[4], 1) == 0 then return 0 end
local limit = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then
    redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[i])
  end
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
"""
    + _EVICT
)


class RedisStore:
    shared = True
    raw_entries = False

    def __init__(self, url: str, journal_size: int) -> None:
        try:
            import redis
        except ImportError:
            raise StateError(
                "--state-url needs the Redis client: pip install 'mockserver[redis]' (or: pip install redis)"
            ) from None
        self.url = url
        self.capacity = journal_size
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        try:
            self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
            self.client.ping()
        except self._errors as exc:
            raise StateError(f"cannot reach the state store at {_safe(url)}: {exc}") from None
        self._use = self.client.register_script(_USE_OVERRIDE)
        self._put = self.client.register_script(_PUT)
        self._seed = self.client.register_script(_SEED)
        self._record = self.client.register_script(_RECORD)
        self._advance = self.client.register_script(_ADVANCE)

    @staticmethod
    def _key(*parts: str) -> str:
        return PREFIX + ":".join(parts)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._errors as exc:
            raise StateError(f"state store at {_safe(self.url)}: {exc}") from None

    def _pipe(self, *commands: tuple[str, tuple[Any, ...]]) -> list[Any]:
        def run() -> list[Any]:
            pipe = self.client.pipeline(transaction=False)
            for name, args in commands:
                getattr(pipe, name)(*args)
            return list(pipe.execute())

        return self._call(run)  # type: ignore[no-any-return]

    def overrides_version(self) -> int:
        return int(self._call(self.client.get, self._key("overrides", "version")) or 0)

    def overrides(self) -> tuple[int, list[dict[str, Any]]]:
        version, items, left = self._pipe(
            ("get", (self._key("overrides", "version"),)),
            ("hgetall", (self._key("overrides"),)),
            ("hgetall", (self._key("overrides", "left"),)),
        )
        found = []
        for key, raw in sorted(items.items(), key=lambda kv: int(kv[0])):
            item = orjson.loads(raw)
            item["left"] = int(left[key]) if key in left else None
            found.append(item)
        return int(version or 0), found

    def add_override(self, item: dict[str, Any]) -> dict[str, Any]:
        key = str(self._call(self.client.incr, self._key("overrides", "next")))
        item = {**item, "id": key}
        commands: list[tuple[str, tuple[Any, ...]]] = [("hset", (self._key("overrides"), key, orjson.dumps(item)))]
        if item.get("times") is not None:
            commands.append(("hset", (self._key("overrides", "left"), key, int(item["times"]))))
        commands.append(("incr", (self._key("overrides", "version"),)))
        self._pipe(*commands)
        return {**item, "left": item.get("times")}

    def remove_overrides(self, override_id: str | None) -> int:
        if override_id is None:
            count, _, _, _ = self._pipe(
                ("hlen", (self._key("overrides"),)),
                ("delete", (self._key("overrides"),)),
                ("delete", (self._key("overrides", "left"),)),
                ("incr", (self._key("overrides", "version"),)),
            )
            return int(count)
        count, _, _ = self._pipe(
            ("hdel", (self._key("overrides"), override_id)),
            ("hdel", (self._key("overrides", "left"), override_id)),
            ("incr", (self._key("overrides", "version"),)),
        )
        return int(count)

    def use_override(self, override_id: str) -> bool:
        keys = [self._key("overrides"), self._key("overrides", "left"), self._key("overrides", "version")]
        return bool(self._call(self._use, keys=keys, args=[override_id]))

    def advance(self, key: str) -> int:
        # bounded like the memory store's: past MAX_POSITIONS identities, every sequence starts again
        return int(self._call(self._advance, keys=[self._key("sequences")], args=[key, MAX_POSITIONS])) - 1

    def _collection_keys(self, collection: str) -> list[str]:
        return [self._key("items", collection), self._key("order", collection), self._key("order-n", collection)]

    def seed(self, collection: str, items: list[tuple[str, dict[str, Any]]], limit: int) -> None:
        args: list[Any] = [limit]
        for item_id, item in items:
            args += [item_id, orjson.dumps(item)]
        keys = [*self._collection_keys(collection), self._key("seeded", collection)]
        self._call(self._seed, keys=keys, args=args)

    def next_number(self, collection: str) -> int:
        return int(self._call(self.client.incr, self._key("numbers", collection)))

    def get(self, collection: str, item_id: str) -> dict[str, Any] | None:
        raw = self._call(self.client.hget, self._key("items", collection), item_id)
        return None if raw is None else orjson.loads(raw)  # type: ignore[no-any-return]

    def put(self, collection: str, item_id: str, item: dict[str, Any], limit: int) -> None:
        self._call(self._put, keys=self._collection_keys(collection), args=[item_id, orjson.dumps(item), limit])

    def delete(self, collection: str, item_id: str) -> bool:
        removed, _ = self._pipe(
            ("hdel", (self._key("items", collection), item_id)), ("zrem", (self._key("order", collection), item_id))
        )
        return bool(removed)

    def items(self, collection: str) -> list[dict[str, Any]]:
        order, items = self._pipe(
            ("zrange", (self._key("order", collection), 0, -1)), ("hgetall", (self._key("items", collection),))
        )
        return [orjson.loads(items[key]) for key in order if key in items]

    def record(self, entry: Any) -> None:
        keys = [self._key("journal"), self._key("journal", "total")]
        self._call(self._record, keys=keys, args=[orjson.dumps(entry) if self.capacity else b"", self.capacity])

    def journal(self, limit: int | None = None) -> tuple[int, list[Any]]:
        if limit is not None and limit <= 0:
            total = self._call(self.client.get, self._key("journal", "total"))
            return int(total or 0), []
        total, raw = self._pipe(
            ("get", (self._key("journal", "total"),)),
            ("lrange", (self._key("journal"), -limit if limit else 0, -1)),
        )
        return int(total or 0), [orjson.loads(item) for item in raw]

    def clear_journal(self) -> None:
        self._call(self.client.delete, self._key("journal"))

    def keep_journal(self, entries: list[Any]) -> None:
        # delete and push in one transaction; an entry recorded between the caller's read and this is lost
        def run() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(self._key("journal"))
            if entries:
                pipe.rpush(self._key("journal"), *(orjson.dumps(e) for e in entries))
            pipe.execute()

        self._call(run)

    def hit(self, window: int) -> int:
        key = self._key("rate", str(window))
        count, _ = self._pipe(("incr", (key,)), ("expire", (key, 10)))
        return int(count)

    def reset(self) -> None:
        def run() -> None:
            keep = {self._key("overrides", "next").encode(), self._key("overrides", "version").encode()}
            doomed = [k for k in self.client.scan_iter(match=PREFIX + "*", count=1000) if k not in keep]
            pipe = self.client.pipeline(transaction=True)
            if doomed:
                pipe.delete(*doomed)
            pipe.incr(self._key("overrides", "version"))
            pipe.execute()

        self._call(run)

    def close(self) -> None:
        try:
            self.client.close()
        except self._errors:
            pass
