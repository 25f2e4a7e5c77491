"""Appending to the audit log (the service never updates or deletes its rows)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping

from survey_platform.storage.tables import AuditLogEntry


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
    await AuditLogEntry.insert(
        AuditLogEntry(
            at=datetime.datetime.now(datetime.UTC),
            actor_id=actor_id,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=json.dumps(dict(detail or {}), ensure_ascii=False, default=str),
        )
    ).run()


async def entries(limit: int = 100, offset: int = 0, entity: str | None = None) -> list[dict[str, object]]:
    query = AuditLogEntry.select().order_by(AuditLogEntry.id, ascending=False).limit(limit).offset(offset)
    if entity:
        query = query.where(AuditLogEntry.entity == entity)
    rows = await query.run()
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if isinstance(row["detail"], str) else row["detail"]
    return rows
