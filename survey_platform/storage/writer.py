"""Group commit of responses: one background task writes queued rows in a single transaction.

Each request puts its rows on a queue and awaits a future; the writer takes everything queued (up to
``max_rows``), writes it in one transaction (one fsync for many requests) and resolves each future only after
COMMIT. Requests announce themselves while they validate (:meth:`GroupCommitWriter.expecting`): the writer
lingers for more rows only while some announced request has not queued yet, so a lone request or a burst that
has all arrived is committed at once instead of after the full linger. Idempotency lives here too: a row whose
client UUID is already stored (or earlier in the same batch) is not written again; an identical body hash is a
replay, a different one a conflict. So does the campaign's status: a new row is stored only if its campaign is open
inside the transaction that stores it (at commit), whatever any cache said when the request was validated.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime
import functools
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import asyncpg
import msgspec

from survey_platform.campaigns.lifecycle import SUBMITTING_STATUS

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The response table's columns in the order of :class:`ResponseRow`'s fields, with their PostgreSQL types.
PG_TYPES: dict[str, str] = {
    "uuid": "uuid",
    "campaign": "int",
    "city_code": "varchar",
    "venue_id": "int",
    "questionnaire": "int",
    "answers": "json",
    "body_hash": "varchar",
    "channel": "varchar",
    "started_at": "timestamptz",
    "submitted_at": "timestamptz",
    "received_at": "timestamptz",
    "duration_seconds": "double precision",
    "eligible": "boolean",
    "quality_flags": "json",
    "status": "varchar",
    "status_reason": "varchar",
    "submitted_by": "int",
    "paradata": "json",
}
COLUMNS: tuple[str, ...] = tuple(PG_TYPES)
SUMMARY_SQL = "uuid, campaign, body_hash, status, eligible, quality_flags, received_at"
SQLITE_LOOKUP_CHUNK = 500  # parameters per IN (...) lookup, far below SQLite's limit
SQLITE_INSERT_CHUNK = 250  # rows per multi-row INSERT: 4,250 parameters, far below SQLite's 32,766


class ResponseRow(msgspec.Struct, frozen=True):
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
    submitted_by: int | None = None
    paradata_json: str | None = None  # {"sections": {section id: seconds}}, already JSON

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


class StoredSummary(msgspec.Struct, frozen=True):
    """What a stored response looks like to its submitter."""

    uuid: uuid.UUID
    campaign_id: int
    body_hash: str
    status: str
    eligible: bool
    quality_flags: tuple[str, ...]
    received_at: datetime.datetime


class WriteOutcome(msgspec.Struct, frozen=True):
    """created: stored now; replayed: an identical body was already stored; conflict: same UUID, other body;
    closed: not stored, because its campaign was not open when the transaction committed (``stored`` is None)."""

    kind: Literal["created", "replayed", "conflict", "closed"]
    stored: StoredSummary | None


def plan_batch(
    rows: Sequence[ResponseRow],
    existing: dict[uuid.UUID, StoredSummary],
    open_campaigns: Collection[int] | None = None,
) -> tuple[list[ResponseRow], list[WriteOutcome]]:
    """Decide each row's outcome given the already stored rows (pure); returns (rows to insert, outcomes).

    ``open_campaigns``: the campaigns open in the writing transaction (None: all of them); a new row of any other
    campaign is "closed". A re-send of a stored row stays a replay whatever the campaign's status now.
    """
    known = dict(existing)
    to_insert: list[ResponseRow] = []
    outcomes: list[WriteOutcome] = []
    for row in rows:
        stored = known.get(row.uuid)
        if stored is None:
            if open_campaigns is not None and row.campaign_id not in open_campaigns:
                outcomes.append(WriteOutcome("closed", None))
                continue
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
    processes, and it holds the database's write lock, so the campaign status read inside the transaction is the
    status at commit (a close in another process waits for this transaction, or this one for the close).
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
            campaigns = sorted({row.campaign_id for row in rows})
            marks = ", ".join("?" for _ in campaigns)
            open_campaigns = {
                record[0]
                for record in connection.execute(
                    f"SELECT id FROM campaign WHERE id IN ({marks}) AND status = ?",
                    [*campaigns, SUBMITTING_STATUS],
                )
            }
            to_insert, outcomes = plan_batch(rows, existing, open_campaigns)
            for start in range(0, len(to_insert), SQLITE_INSERT_CHUNK):
                chunk_rows = to_insert[start : start + SQLITE_INSERT_CHUNK]
                connection.execute(
                    _sqlite_insert(len(chunk_rows)), [v for row in chunk_rows for v in _sqlite_values(row)]
                )
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                connection.execute("ROLLBACK")
            raise
        return outcomes


@functools.lru_cache(maxsize=64)
def _sqlite_insert(count: int) -> str:
    """One INSERT of ``count`` rows: a single step, so the GIL is released once per chunk, not once per row.

    (``executemany`` steps once per row, and each step hands the GIL back and forth with the event loop's
    thread; under load the writer then spends most of its time waiting for the GIL.)
    """
    row = "(" + ", ".join("?" for _ in COLUMNS) + ")"
    return f"INSERT INTO response ({', '.join(COLUMNS)}) VALUES " + ", ".join([row] * count)


def _flags_json(flags: tuple[str, ...]) -> str:
    return json.dumps(list(flags)) if flags else "[]"


def _sqlite_moment(moment: object) -> object:
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is datetime.UTC:
            return str(moment)
        return str(moment.astimezone(datetime.UTC) if moment.tzinfo else moment)
    return moment


_MOMENTS = slice(COLUMNS.index("started_at"), COLUMNS.index("received_at") + 1)
_FLAGS = COLUMNS.index("quality_flags")


def _column_values(row: ResponseRow, moment: Callable[[datetime.datetime | None], object]) -> list[object]:
    """The row's values in :data:`COLUMNS` order, timestamps through ``moment``, quality flags as JSON text."""
    values: list[object] = list(msgspec.structs.astuple(row))
    values[_MOMENTS] = map(moment, values[_MOMENTS])  # type: ignore[arg-type]
    values[_FLAGS] = _flags_json(row.quality_flags)
    return values


def _sqlite_values(row: ResponseRow) -> list[object]:
    """Row values as Piccolo stores them in SQLite (UUID text, UTC timestamps as text)."""
    values = _column_values(row, _sqlite_moment)
    values[0] = str(row.uuid)
    return values


_PG_JSON = msgspec.json.Encoder()


def _aware(moment: datetime.datetime | None) -> datetime.datetime | None:
    """Naive timestamps are UTC (as asyncpg binds them), never the server's time zone."""
    return moment.replace(tzinfo=datetime.UTC) if moment is not None and moment.tzinfo is None else moment


def _pg_record(row: ResponseRow) -> dict[str, object]:
    """A row as one object of the JSON batch (keys are the recordset's column names)."""
    record = dict(zip(COLUMNS, _column_values(row, _aware), strict=True))
    record["answers"] = msgspec.Raw(row.answers_json.encode())  # already JSON: embedded, not re-quoted
    record["quality_flags"] = row.quality_flags  # a JSON array inside the batch, not JSON text
    record["paradata"] = msgspec.Raw(row.paradata_json.encode()) if row.paradata_json is not None else None
    return record


def _pg_copy_record(row: ResponseRow) -> list[object]:
    """A row as binary COPY sends it (columns in :data:`COLUMNS` order; JSON columns as text)."""
    return _column_values(row, _aware)


CLOSED_SQLSTATE = "SV409"
"""Raised by PostgreSQL's trigger ``response_campaign_open`` (migration 2026-11-28T11:00) when a statement inserts
responses of a campaign that is not open; the statement is undone."""


class PostgresResponseStore:
    """Writes through the engine's asyncpg pool, so that a row is stored only while its campaign is open at commit.

    Each group is first one binary ``COPY`` (one round trip, its own transaction; it costs PostgreSQL about half the
    CPU per row of an ``INSERT … SELECT``, ``benchmarks/pg_insert.py``). The table's statement trigger takes a share
    lock on the new rows' campaigns, so a close in flight (an UPDATE of the campaign row) is waited for, and refuses
    the whole statement if any of them is not open. A COPY cannot skip rows either: when a UUID of the group is already
    stored (a re-send, or another process storing the same response) it fails whole on the unique constraint.
    Either refusal leaves nothing written, and the group goes in again through the insert-or-skip below, which
    classifies every row (created, replayed, conflict, closed).
    """

    INSERT = (
        f"INSERT INTO response ({', '.join(COLUMNS)}) "
        "SELECT * FROM json_to_recordset($1::json) AS r("
        + ", ".join(f"{name} {kind}" for name, kind in PG_TYPES.items())
        + ") WHERE r.campaign IN "
        "(SELECT id FROM campaign WHERE id = ANY($2::int[]) AND status = $3 FOR SHARE) "
        "ON CONFLICT (uuid) DO NOTHING RETURNING uuid"
    )
    """The insert-or-skip: one statement that keeps only rows whose campaign a locking sub-select finds open, and one
    JSON parameter for the whole group (msgspec encodes it in C and PostgreSQL parses it, instead of this process
    building sixteen typed arrays for asyncpg to bind)."""

    def __init__(self, pool_owner: object, copy_first: bool = True) -> None:
        self._engine = pool_owner
        self.copy_first = copy_first  # tests turn it off to drive the insert-or-skip alone
        # COPYs refused (a stored UUID or a closed campaign), their groups written by the insert-or-skip
        self.copies_refused = 0

    async def open(self) -> None:
        """COPY first only where the table's trigger checks the campaigns (a database without it, or with it
        disabled, is written through the insert-or-skip alone)."""
        async with self._engine.pool.acquire() as connection:  # type: ignore[attr-defined]
            checked = await connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'response_campaign_open' "
                "AND tgrelid = 'response'::regclass AND tgenabled <> 'D')"
            )
        if not checked and self.copy_first:
            logger.warning("the trigger response_campaign_open is missing or disabled: COPY is not used")
            self.copy_first = False

    async def close(self) -> None:
        return None

    async def _lookup(self, connection: object, keys: list[uuid.UUID]) -> dict[uuid.UUID, StoredSummary]:
        records = await connection.fetch(  # type: ignore[attr-defined]
            f"SELECT {SUMMARY_SQL} FROM response WHERE uuid = ANY($1::uuid[])", keys
        )
        return {summary.uuid: summary for summary in map(_summary_from_row, records)}

    async def write(self, rows: Sequence[ResponseRow]) -> list[WriteOutcome]:
        """Store the group's new rows of open campaigns; classify every row (created, replayed, conflict, closed)."""
        campaigns = sorted({row.campaign_id for row in rows})
        async with self._engine.pool.acquire() as connection:  # type: ignore[attr-defined]
            if self.copy_first:
                to_insert, outcomes = plan_batch(rows, {})  # duplicates inside the group
                try:
                    if to_insert:
                        await connection.copy_records_to_table(
                            "response", records=[_pg_copy_record(row) for row in to_insert], columns=COLUMNS
                        )
                    return outcomes
                except asyncpg.UniqueViolationError:
                    self.copies_refused += 1
                except asyncpg.PostgresError as error:
                    if error.sqlstate != CLOSED_SQLSTATE:
                        raise
                    self.copies_refused += 1
            return await self._insert_or_skip(connection, rows, campaigns)

    async def _insert_or_skip(
        self, connection: Any, rows: Sequence[ResponseRow], campaigns: list[int]
    ) -> list[WriteOutcome]:
        """The one-statement write. A row it did not store was stored before (a replay or a conflict) or else its
        campaign was not open; the batch is then planned again with what was learnt, and any row that becomes new
        (a UUID whose first row in the batch belonged to a closed campaign) is sent in one more statement."""
        inserted: set[uuid.UUID] = set()
        stored: dict[uuid.UUID, StoredSummary] = {}
        closed: set[int] = set()
        open_campaigns: set[int] | None = None  # not known until a row is refused
        while (
            True
        ):  # each pass stores, finds stored or finds closed at least one row: at most len(rows) passes
            to_insert, outcomes = plan_batch(rows, stored, open_campaigns)
            pending = [row for row in to_insert if row.uuid not in inserted]
            if not pending:
                return outcomes
            batch = _PG_JSON.encode([_pg_record(row) for row in pending]).decode()
            new = {
                record["uuid"]
                for record in await connection.fetch(self.INSERT, batch, campaigns, SUBMITTING_STATUS)
            }
            inserted |= new
            skipped = [row for row in pending if row.uuid not in new]
            if skipped:
                stored |= await self._lookup(connection, [row.uuid for row in skipped])
                closed |= {row.campaign_id for row in skipped if row.uuid not in stored}
                open_campaigns = set(campaigns) - closed


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
        self._expected = 0  # requests preparing rows that have not queued them yet
        self._wake: asyncio.Future[None] | None = None
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

    @contextlib.contextmanager
    def expecting(self) -> Iterator[None]:
        """Announce a write being prepared: while any is announced, the writer waits (up to its linger) for it."""
        self._expected += 1
        try:
            yield
        finally:
            self._expected -= 1
            if self._expected == 0 and self._wake is not None and not self._wake.done():
                self._wake.set_result(None)

    def enqueue(self, rows: Sequence[ResponseRow]) -> asyncio.Future[list[WriteOutcome]]:
        """Queue ``rows``; the future resolves after their COMMIT (or once found to be replays / conflicts)."""
        if self._task is None or self._task.done():
            raise RuntimeError("the response writer is not running")
        future: asyncio.Future[list[WriteOutcome]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(rows, future))
        return future

    async def write(self, rows: Sequence[ResponseRow]) -> list[WriteOutcome]:
        """Queue ``rows`` and wait until they are committed (or found to be replays / conflicts)."""
        return await asyncio.shield(self.enqueue(rows))

    async def _more_expected(self, deadline: float) -> bool:
        """Wait until every announced request has queued, or the deadline; False when there is nothing to wait for."""
        loop = asyncio.get_running_loop()
        remaining = deadline - loop.time()
        if self._expected == 0 or remaining <= 0:
            return False
        self._wake = loop.create_future()
        timer = loop.call_later(remaining, lambda wake=self._wake: wake.done() or wake.set_result(None))
        try:
            await self._wake
        finally:
            timer.cancel()
            self._wake = None
        return True

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            count = len(first.rows)
            deadline = loop.time() + self.linger_seconds
            while count < self.max_rows:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    if await self._more_expected(deadline):
                        continue
                    break
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
