"""Group commit of responses: one background task writes queued rows in a single transaction.

Each request puts its rows on a queue and awaits a future; the writer takes everything queued (up to
``max_rows``), writes it in one transaction (one fsync for many requests) and resolves each future only after
COMMIT. Idempotency lives here too: a row whose client UUID is already stored (or earlier in the same batch) is
not written again; an identical body hash is a replay, a different one a conflict.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

COLUMNS: tuple[str, ...] = (
    "uuid",
    "campaign",
    "city_code",
    "venue_id",
    "questionnaire",
    "answers",
    "body_hash",
    "channel",
    "started_at",
    "submitted_at",
    "received_at",
    "duration_seconds",
    "eligible",
    "quality_flags",
    "status",
    "status_reason",
)
SUMMARY_SQL = "uuid, campaign, body_hash, status, eligible, quality_flags, received_at"
SQLITE_LOOKUP_CHUNK = 500  # parameters per IN (...) lookup, far below SQLite's limit


@dataclasses.dataclass(frozen=True, slots=True)
class ResponseRow:
    """One validated response, ready to insert (JSON columns already encoded)."""

    uuid: uuid.UUID
    campaign_id: int
    city_code: str
    venue_id: int | None
    questionnaire_id: int
    answers_json: str
    body_hash: str
    channel: str
    started_at: datetime.datetime | None
    submitted_at: datetime.datetime | None
    received_at: datetime.datetime
    duration_seconds: float | None
    eligible: bool
    quality_flags: tuple[str, ...]
    status: str
    status_reason: str

    def values(self) -> tuple[object, ...]:
        return (
            self.uuid,
            self.campaign_id,
            self.city_code,
            self.venue_id,
            self.questionnaire_id,
            self.answers_json,
            self.body_hash,
            self.channel,
            self.started_at,
            self.submitted_at,
            self.received_at,
            self.duration_seconds,
            self.eligible,
            _flags_json(self.quality_flags),
            self.status,
            self.status_reason,
        )

    def summary(self) -> StoredSummary:
        return StoredSummary(
            self.uuid,
            self.campaign_id,
            self.body_hash,
            self.status,
            self.eligible,
            self.quality_flags,
            self.received_at,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class StoredSummary:
    """What a stored response looks like to its submitter."""

    uuid: uuid.UUID
    campaign_id: int
    body_hash: str
    status: str
    eligible: bool
    quality_flags: tuple[str, ...]
    received_at: datetime.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class WriteOutcome:
    """created: stored now; replayed: an identical body was already stored; conflict: same UUID, other body."""

    kind: Literal["created", "replayed", "conflict"]
    stored: StoredSummary


def plan_batch(
    rows: Sequence[ResponseRow], existing: dict[uuid.UUID, StoredSummary]
) -> tuple[list[ResponseRow], list[WriteOutcome]]:
    """Decide each row's outcome given the already stored rows (pure); returns (rows to insert, outcomes)."""
    known = dict(existing)
    to_insert: list[ResponseRow] = []
    outcomes: list[WriteOutcome] = []
    for row in rows:
        stored = known.get(row.uuid)
        if stored is None:
            known[row.uuid] = row.summary()
            to_insert.append(row)
            outcomes.append(WriteOutcome("created", known[row.uuid]))
        elif stored.body_hash == row.body_hash:
            outcomes.append(WriteOutcome("replayed", stored))
        else:
            outcomes.append(WriteOutcome("conflict", stored))
    return to_insert, outcomes


def _summary_from_row(record: Sequence[object]) -> StoredSummary:
    raw_uuid, campaign, body_hash, status, eligible, flags, received = record
    received_at = datetime.datetime.fromisoformat(received) if isinstance(received, str) else received
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=datetime.UTC)
    return StoredSummary(
        uuid=raw_uuid if isinstance(raw_uuid, uuid.UUID) else uuid.UUID(str(raw_uuid)),
        campaign_id=int(campaign),  # type: ignore[call-overload]
        body_hash=str(body_hash),
        status=str(status),
        eligible=bool(int(eligible)) if not isinstance(eligible, bool) else eligible,  # type: ignore[call-overload]
        quality_flags=tuple(json.loads(flags) if isinstance(flags, str | bytes) else flags or ()),  # type: ignore[arg-type]
        received_at=received_at,
    )


class ResponseStore(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def write(self, rows: Sequence[ResponseRow]) -> list[WriteOutcome]: ...


class SQLiteResponseStore:
    """Writes each batch in one hop to a dedicated thread that owns a sqlite3 connection.

    One hop per batch (not one per statement) matters: a busy event loop holds the GIL, and every hop back to a
    worker thread can wait a whole switch interval. BEGIN IMMEDIATE makes lookup-then-insert atomic across
    processes.
    """

    def __init__(self, path: Path, busy_timeout_seconds: float = 30.0, synchronous: str = "normal") -> None:
        self.path = path
        self.busy_timeout_seconds = busy_timeout_seconds
        self.synchronous = "FULL" if synchronous.lower() == "full" else "NORMAL"
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None

    async def _call(self, function: Callable[..., T], *args: object) -> T:
        assert self._executor is not None, "SQLiteResponseStore.open() was not called"
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _open_sync(self) -> None:
        connection = sqlite3.connect(
            str(self.path), timeout=self.busy_timeout_seconds, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA foreign_keys = 1")
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        self._connection = connection

    def _close_sync(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def open(self) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="sqlite-writer"
        )
        await self._call(self._open_sync)

    async def close(self) -> None:
        if self._executor is not None:
            await self._call(self._close_sync)
            self._executor.shutdown(wait=True)
            self._executor = None

    async def write(self, rows: Sequence[ResponseRow]) -> list[WriteOutcome]:
        return await self._call(self._write_sync, rows)

    def _write_sync(self, rows: Sequence[ResponseRow]) -> list[WriteOutcome]:
        connection = self._connection
        assert connection is not None
        placeholders = ", ".join("?" for _ in COLUMNS)
        insert = f"INSERT INTO response ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        connection.execute("BEGIN IMMEDIATE")
        try:
            existing: dict[uuid.UUID, StoredSummary] = {}
            keys = list({str(row.uuid) for row in rows})
            for start in range(0, len(keys), SQLITE_LOOKUP_CHUNK):
                chunk = keys[start : start + SQLITE_LOOKUP_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                for record in connection.execute(
                    f"SELECT {SUMMARY_SQL} FROM response WHERE uuid IN ({marks})", chunk
                ):
                    summary = _summary_from_row(record)
                    existing[summary.uuid] = summary
            to_insert, outcomes = plan_batch(rows, existing)
            if to_insert:
                connection.executemany(insert, [_sqlite_values(row) for row in to_insert])
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                connection.execute("ROLLBACK")
            raise
        return outcomes


def _flags_json(flags: tuple[str, ...]) -> str:
    return json.dumps(list(flags)) if flags else "[]"


def _sqlite_moment(moment: object) -> object:
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is datetime.UTC:
            return str(moment)
        return str(moment.astimezone(datetime.UTC) if moment.tzinfo else moment)
    return moment


def _sqlite_values(row: ResponseRow) -> tuple[object, ...]:
    """Row values as Piccolo stores them in SQLite (UUID text, UTC timestamps as text)."""
    return (
        str(row.uuid),
        row.campaign_id,
        row.city_code,
        row.venue_id,
        row.questionnaire_id,
        row.answers_json,
        row.body_hash,
        row.channel,
        _sqlite_moment(row.started_at),
        _sqlite_moment(row.submitted_at),
        _sqlite_moment(row.received_at),
        row.duration_seconds,
        row.eligible,
        _flags_json(row.quality_flags),
        row.status,
        row.status_reason,
    )


class PostgresResponseStore:
    """Writes through the engine's asyncpg pool: one array lookup and one unnest insert per batch."""

    INSERT = (
        f"INSERT INTO response ({', '.join(COLUMNS)}) "
        "SELECT * FROM unnest($1::uuid[], $2::int[], $3::varchar[], $4::int[], $5::int[], $6::json[], "
        "$7::varchar[], $8::varchar[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], "
        "$12::double precision[], $13::boolean[], $14::json[], $15::varchar[], $16::varchar[]) "
        "ON CONFLICT (uuid) DO NOTHING RETURNING uuid"
    )

    def __init__(self, pool_owner: object) -> None:
        self._engine = pool_owner

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def _lookup(self, connection: object, keys: list[uuid.UUID]) -> dict[uuid.UUID, StoredSummary]:
        records = await connection.fetch(  # type: ignore[attr-defined]
            f"SELECT {SUMMARY_SQL} FROM response WHERE uuid = ANY($1::uuid[])", keys
        )
        return {summary.uuid: summary for summary in map(_summary_from_row, records)}

    async def write(self, rows: Sequence[ResponseRow]) -> list[WriteOutcome]:
        pool = self._engine.pool  # type: ignore[attr-defined]
        async with pool.acquire() as connection, connection.transaction():
            keys = list({row.uuid for row in rows})
            existing = await self._lookup(connection, keys)
            to_insert, outcomes = plan_batch(rows, existing)
            if to_insert:
                columns = list(zip(*(row.values() for row in to_insert), strict=True))
                inserted = {record["uuid"] for record in await connection.fetch(self.INSERT, *columns)}
                if len(inserted) < len(to_insert):
                    # Another process stored some of these UUIDs between our lookup and insert: classify again.
                    raced = await self._lookup(
                        connection, [r.uuid for r in to_insert if r.uuid not in inserted]
                    )
                    existing.update(raced)
                    _, outcomes = plan_batch(rows, {k: v for k, v in existing.items() if k not in inserted})
        return outcomes


@dataclasses.dataclass(slots=True)
class _Pending:
    rows: Sequence[ResponseRow]
    future: asyncio.Future[list[WriteOutcome]]


class GroupCommitWriter:
    """Batches concurrent writes into shared transactions; each caller's future resolves after COMMIT."""

    def __init__(self, store: ResponseStore, max_rows: int = 2_000, linger_seconds: float = 0.001) -> None:
        self.store = store
        self.max_rows = max(1, max_rows)
        self.linger_seconds = linger_seconds
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.rows_written = 0

    async def start(self) -> None:
        await self.store.open()
        self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    async def stop(self) -> None:
        """Write everything already queued, then stop."""
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None
        await self.store.close()

    async def write(self, rows: Sequence[ResponseRow]) -> list[WriteOutcome]:
        """Queue ``rows`` and wait until they are committed (or found to be replays / conflicts)."""
        if self._task is None or self._task.done():
            raise RuntimeError("the response writer is not running")
        future: asyncio.Future[list[WriteOutcome]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(rows, future))
        return await asyncio.shield(future)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            count = len(first.rows)
            lingered = False
            while count < self.max_rows:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    if lingered or self.linger_seconds <= 0:
                        break
                    lingered = True
                    await asyncio.sleep(self.linger_seconds)
                    continue
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                count += len(item.rows)
            await self._flush(batch)

    async def _flush(self, batch: list[_Pending]) -> None:
        rows = [row for pending in batch for row in pending.rows]
        try:
            outcomes = await self.store.write(rows)
        except Exception as error:
            if len(batch) == 1:
                logger.exception("response batch of %d rows failed", len(rows))
                if not batch[0].future.done():
                    batch[0].future.set_exception(error)
                return
            # Isolate the failing request: write each request on its own.
            for pending in batch:
                await self._flush([pending])
            return
        self.batches += 1
        self.rows_written += sum(1 for outcome in outcomes if outcome.kind == "created")
        offset = 0
        for pending in batch:
            size = len(pending.rows)
            if not pending.future.done():
                pending.future.set_result(outcomes[offset : offset + size])
            offset += size
