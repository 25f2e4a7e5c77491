"""Appending to the audit log (the service never updates or deletes its rows)."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping, Sequence

from survey_platform.storage.tables import AuditLogEntry


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One audit-log entry to append (see :func:`record`)."""

    actor_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: str | int
    detail: Mapping[str, object] | None = None
    at: datetime.datetime | None = None


def _row(entry: Entry) -> AuditLogEntry:
    return AuditLogEntry(
        at=entry.at or datetime.datetime.now(datetime.UTC),
        actor_id=entry.actor_id,
        actor=entry.actor,
        action=entry.action,
        entity=entry.entity,
        entity_id=str(entry.entity_id),
        detail=json.dumps(dict(entry.detail or {}), ensure_ascii=False, default=str),
    )


async def record_many(entries: Sequence[Entry], chunk: int = 500) -> None:
    """Append many entries, a few statements in all (inside the caller's transaction, if any)."""
    for start in range(0, len(entries), chunk):
        await AuditLogEntry.insert(*(_row(e) for e in entries[start : start + chunk])).run()


async def record(
    *,
    actor_id: int | None,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Append one entry: who (``actor``) did ``action`` to ``entity`` ``entity_id``."""
    await AuditLogEntry.insert(_row(Entry(actor_id, actor, action, entity, entity_id, detail))).run()


async def entries(limit: int = 100, offset: int = 0, entity: str | None = None) -> list[dict[str, object]]:
    query = AuditLogEntry.select().order_by(AuditLogEntry.id, ascending=False).limit(limit).offset(offset)
    if entity:
        query = query.where(AuditLogEntry.entity == entity)
    rows = await query.run()
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if isinstance(row["detail"], str) else row["detail"]
    return rows
