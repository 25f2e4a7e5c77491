"""Campaigns and cities as public pages read them, kept for a second (one instance per application).

A crowd scanning one poster then costs a query per second, not one per visit. A status change made through this
application forgets the campaign at once (``campaigns.controller``); one made elsewhere (another process, the
command line) shows within the second, and responses are checked against the status at commit anyway
(``storage.writer``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

KEEP_SECONDS = 1.0
MAX_ENTRIES = 1_000


class RecentReads:
    """Values by key, each kept for :data:`KEEP_SECONDS` after it was read; failures are not kept."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}

    async def get(self, key: tuple[str, str], load: Callable[[], Awaitable[Any]]) -> Any:
        """The value of ``key`` (e.g. ``("campaign", code)``), read by ``load`` when not kept or too old."""
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and now - found[0] < KEEP_SECONDS:
            return found[1]
        value = await load()  # a missing campaign or city raises, and is not kept
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (now, value)
        return value

    def forget(self, kind: str, code: str) -> None:
        """Drop what is kept of ``code`` (after it changed)."""
        self._entries.pop((kind, code), None)
