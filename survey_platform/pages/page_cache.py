"""Rendered release pages kept in memory: a release is frozen, so its pages are rendered once per language and
query and then served as stored bytes (gzip), with an ETag.

What can change around a frozen release is which releases exist and their status (a correction supersedes a
release and its pages gain a banner). :class:`ReleasePages` keeps a snapshot of the release list, read again when
it is older than ``ttl`` seconds (one query, shared by concurrent requests); when the snapshot changes, every
stored page is dropped. A correction published by this process is seen at once (``forget``); one published by
another process (the CLI, another worker) within ``ttl`` seconds.

Visitors with a staff session cookie get pages rendered for them and not stored (the page carries their session's
CSRF token).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import gzip
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from litestar import MediaType, Request, Response

from survey_platform.accounts.sessions import COOKIE_NAME
from survey_platform.pages.release_charts import ChartCache
from survey_platform.pages.rendering import PAGE_HEADERS
from survey_platform.publishing.service import ReleaseSummary, list_releases

DEFAULT_TTL = 2.0  # seconds a snapshot of the release list is trusted
MAX_PAGES = 2048
PAGE_VARY = "Cookie, Accept-Encoding"


@dataclasses.dataclass(frozen=True, slots=True)
class CachedPage:
    """A rendered page kept gzipped (a tenth of its size; the rare client without gzip gets it unpacked), with
    an ETag over the HTML."""

    gzipped: bytes
    etag: str
    language: str

    @classmethod
    def of(cls, html: str, language: str) -> CachedPage:
        body = html.encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(gzip.compress(body, compresslevel=9, mtime=0), f'"{digest}"', language)

    def response(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """The page for this request: 304 when the client has it, gzip when it accepts it."""
        headers = {
            **PAGE_HEADERS,
            "Vary": PAGE_VARY,
            "Content-Language": self.language,
            "ETag": self.etag,
        }
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=MediaType.HTML, headers=headers)
        return Response(gzip.decompress(self.gzipped), media_type=MediaType.HTML, headers=headers)


class ReleasePages:
    """Per application: the release-list snapshot, rendered pages, drawn charts and other per-release reads."""

    def __init__(self, ttl: float = DEFAULT_TTL, max_pages: int = MAX_PAGES) -> None:
        self.ttl = ttl
        self.max_pages = max_pages
        self.charts = ChartCache()
        self.memo: dict[
            Hashable, Any
        ] = {}  # per-release reads that never change (questionnaire, datapackage)
        self._pages: collections.OrderedDict[Hashable, CachedPage] = collections.OrderedDict()
        self._releases: list[ReleaseSummary] = []
        self._token: tuple[Any, ...] | None = None
        self._read_at = -float("inf")
        self._reading: asyncio.Future[list[ReleaseSummary]] | None = None
        self.rendered = 0  # pages actually rendered (for tests and benchmarks)

    # -- the release list ------------------------------------------------------------------------------------------
    async def releases(self, *, fresh: bool = False) -> list[ReleaseSummary]:
        """Every release, newest first, from a snapshot no older than ``ttl`` seconds (``fresh``: read now)."""
        if not fresh and time.monotonic() - self._read_at < self.ttl:
            return self._releases
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read())
            self._reading.add_done_callback(lambda _: setattr(self, "_reading", None))
        return await asyncio.shield(self._reading)

    async def _read(self) -> list[ReleaseSummary]:
        started = time.monotonic()
        releases = await list_releases()
        token = tuple((r.release, r.status, r.superseded_by) for r in releases)
        if token != self._token:
            self._pages.clear()
            self._token = token
        self._releases, self._read_at = releases, started
        return releases

    async def summary(self, code: str) -> ReleaseSummary | None:
        """The release ``code`` from the snapshot (read again once when it is not there: it may be new)."""
        for fresh in (False, True):
            found = next((r for r in await self.releases(fresh=fresh) if r.release == code), None)
            if found is not None:
                return found
        return None

    def forget(self) -> None:
        """Read the release list again at the next request (a release was published by this process)."""
        self._read_at = -float("inf")

    # -- pages -----------------------------------------------------------------------------------------------------
    async def page(
        self,
        request: Request[Any, Any, Any],
        key: Hashable,
        language: str,
        render: Callable[[], Awaitable[str]],
    ) -> Response[bytes]:
        """The stored page for ``key`` in ``language``, rendered by ``render`` when missing (and not stored for a
        visitor with a session cookie)."""
        full_key = (key, language)
        personal = COOKIE_NAME in request.cookies
        if not personal:
            found = self._pages.get(full_key)
            if found is not None:
                self._pages.move_to_end(full_key)
                return found.response(request)
        page = CachedPage.of(await render(), language)
        self.rendered += 1
        if not personal:
            self._pages[full_key] = page
            if len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        return page.response(request)

    async def remember(self, key: Hashable, read: Callable[[], Awaitable[Any]]) -> Any:
        """A per-release value read once (the release is frozen)."""
        if key not in self.memo:
            self.memo[key] = await read()
        return self.memo[key]


def release_pages(request: Request[Any, Any, Any]) -> ReleasePages:
    """The application's :class:`ReleasePages` (made on first use)."""
    state = request.app.state
    pages = state.get("release_pages")
    if pages is None:
        pages = ReleasePages()
        state["release_pages"] = pages
    return pages


__all__ = ["CachedPage", "ReleasePages", "release_pages"]
