"""Public submission routes: one response (idempotent on its client UUID) and the offline-sync batch."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.response import File, Stream

from survey_platform.accounts.guards import require
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.service import get_campaign
from survey_platform.responses.export import answer_columns, campaign_rows, csv_chunks, write_xlsx
from survey_platform.responses.schemas import BatchRequest, BatchResult, Submission, SubmissionResult
from survey_platform.responses.service import Ingestor
from survey_platform.settings import Settings
from survey_platform.storage.errors import FieldProblem, InvalidInput

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")


@post("/campaigns/{campaign:str}/responses")
async def submit_response(
    request: Request[Any, Any, Any], campaign: Annotated[str, CODE], data: JSONBody[Submission]
) -> Response[SubmissionResult]:
    """Submit one response (no account needed). 201 stored; 200 identical re-send; 409 UUID reused; 422 invalid."""
    ingestor: Ingestor = request.app.state.ingestor
    created, result = await ingestor.submit(campaign, data)
    return Response(result, status_code=201 if created else 200)


async def _submit_batch(request: Request[Any, Any, Any], data: JSONBody[BatchRequest]) -> BatchResult:
    """Offline sync: many responses at once, with a result per item (partial success)."""
    ingestor: Ingestor = request.app.state.ingestor
    limit = request.app.state.settings.max_batch_items
    if len(data.responses) > limit:
        raise InvalidInput(
            f"一次最多提交 {limit} 条 / at most {limit} items per batch",
            (FieldProblem("$.responses", "max_items", f"{len(data.responses)} > {limit}"),),
        )
    return await ingestor.submit_batch(data.responses)


@get("/campaigns/{campaign:str}/export", guards=[require("admin")], tags=["exports"])
async def export_responses(
    request: Request[Any, Any, Any],
    campaign: Annotated[str, CODE],
    format: FromQuery[Annotated[str, Parameter(pattern="^(csv|xlsx)$")]] = "csv",
) -> Response[Any]:
    """Raw responses of a campaign with quality flags (admin): streamed CSV, or an XLSX file."""
    found = await get_campaign(campaign)
    catalog: QuestionnaireCatalog = request.app.state.questionnaires
    columns = answer_columns(await catalog.get(found.questionnaire_version))
    filename = f"{campaign}-responses.{format}"
    if format == "csv":
        return Stream(
            csv_chunks(campaign_rows(campaign, columns)),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    await write_xlsx(campaign_rows(campaign, columns), path)
    return File(
        path=path,
        filename=filename,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def response_router(settings: Settings) -> Router:
    """The submission routes; the batch route's body limit comes from ``settings``."""
    submit_batch = post(
        "/batch", status_code=200, request_max_body_size=settings.max_batch_body_bytes, name="submit_batch"
    )(_submit_batch)
    return Router(
        path="/api/v1", route_handlers=[submit_response, submit_batch, export_responses], tags=["responses"]
    )
