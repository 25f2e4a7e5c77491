"""Sliding-window limits ("at most N events per window per key"), in this process or shared through Redis.

Used for anonymous responses per (salted address hash, campaign) and hour, and for failed sign-ins per account and
per address. A slot is reserved before the work and released again when the work turned out not to count (a
re-sent response that was already stored, a request that failed), so concurrent requests cannot overshoot the limit
and replays cost nothing. A slot may be named (e.g. by the response's client UUID): reserving a name that already
holds a slot takes nothing more and is never refused, so concurrent copies of one submission share one slot. Redis
keeps one sorted set per key (member = slot name, score = time) and decides in one Lua script, atomically across
processes; the in-process variant keeps the same data in a dict.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable

from redis.asyncio import Redis

_RESERVE = """
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZSCORE', key, member) then
  return '-1'
end
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(window * 1000))
  return '0'
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class Limited(Exception):
    """The limit is reached; ``retry_after`` is the whole number of seconds until a slot frees."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"limit reached; retry after {retry_after:.0f} s")
        self.retry_after = max(1, math.ceil(retry_after))


class SlidingWindowLimiter:
    """At most ``limit`` reserved slots per key within the last ``window_seconds`` (``limit`` 0: unlimited)."""

    def __init__(
        self,
        name: str,
        limit: int,
        window_seconds: float,
        redis: Redis | None = None,
        namespace: str = "survey",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.limit = limit
        self.window = float(window_seconds)
        self.redis = redis
        self.prefix = f"{namespace}:limit:{name}:"
        self.clock = clock
        self._slots: dict[str, dict[str, float]] = {}
        self._lock = asyncio.Lock()
        self._script = redis.register_script(_RESERVE) if redis is not None else None
        self._operations = 0

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    async def reserve(self, key: str, member: str | None = None) -> tuple[str, bool]:
        """Take a slot for ``key`` (named ``member``, default a random name): returns (name, newly taken).

        Raises :class:`Limited` when ``key`` has no free slot and ``member`` does not hold one already.
        """
        member = member or secrets.token_hex(8)
        if not self.enabled:
            return member, False
        now = self.clock()
        if self._script is not None:
            wait = float(
                await self._script(keys=[self.prefix + key], args=[now, self.window, self.limit, member])
            )
            if wait > 0:
                raise Limited(wait)
            return member, wait == 0
        async with self._lock:
            slots = self._live(key, now)
            if member in slots:
                return member, False
            if len(slots) >= self.limit:
                raise Limited(min(slots.values()) + self.window - now)
            slots[member] = now
            self._sweep(now)
        return member, True

    async def release(self, key: str, member: str) -> None:
        """Give a reserved slot back (the work it was taken for did not count)."""
        if not self.enabled:
            return
        if self.redis is not None:
            await self.redis.zrem(self.prefix + key, member)
            return
        async with self._lock:
            self._slots.get(key, {}).pop(member, None)

    async def clear(self, key: str) -> None:
        """Forget every slot of ``key``."""
        if self.redis is not None:
            await self.redis.delete(self.prefix + key)
            return
        async with self._lock:
            self._slots.pop(key, None)

    def _live(self, key: str, now: float) -> dict[str, float]:
        slots = self._slots.setdefault(key, {})
        expired = [member for member, at in slots.items() if at <= now - self.window]
        for member in expired:
            del slots[member]
        return slots

    def _sweep(self, now: float) -> None:
        """Drop keys whose slots have all expired, now and then (memory stays bounded by active keys)."""
        self._operations += 1
        if self._operations % 1024:
            return
        for key in [k for k, slots in self._slots.items() if not self._live(k, now)]:
            del self._slots[key]


__all__ = ["Limited", "SlidingWindowLimiter"]
