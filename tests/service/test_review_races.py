"""Two reviewers deciding the same audit at once: one decision lands, the other is refused (on PostgreSQL the two
transactions really run at the same time; SQLite serialises them)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from service_helpers import in_app, inspection_setup

from survey_platform.accounts.service import Principal
from survey_platform.audits.service import review_audit
from survey_platform.storage.errors import Conflict
from survey_platform.storage.tables import AuditReview, Venue

pytestmark = pytest.mark.usefixtures("client")


async def test_concurrent_decisions_on_one_audit_leave_one_in_the_history(
    client: AsyncTestClient[Litestar],
) -> None:
    ctx = await inspection_setup(client)
    audit = {"id": str(uuid.uuid4()), "venue": ctx["venue"], "answers": {"counter_payment": True}}
    created = await client.post("/api/v1/campaigns/qr-2026/audits", json=audit, headers=ctx["inspector"])
    assert created.status_code == 201, created.text
    reviewer = Principal(ctx["reviewer_id"], "reviewer", "reviewer")

    async def both() -> list[Any]:
        audit_id = uuid.UUID(audit["id"])
        return await asyncio.gather(
            review_audit(audit_id, "approve", "", reviewer),
            review_audit(audit_id, "reject", "电话号码可见 / phone number shown", reviewer),
            return_exceptions=True,
        )

    outcomes = await in_app(client, both)
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
    steps = await in_app(client, AuditReview.select(AuditReview.action).order_by(AuditReview.id).run)
    assert steps[0]["action"] == "submit" and len(steps) == 2  # the submission and one decision
    history = await in_app(
        client, Venue.select(Venue.visit_history).where(Venue.id == ctx["venue"]).first().run
    )
    approved = "approve" in [s["action"] for s in steps]
    assert ('"approved"' in str(history["visit_history"])) == approved
