"""Public submission routes: one response (idempotent on its client UUID) and the offline-sync batch."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.background_tasks import BackgroundTask
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Schema
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.response import File, Stream

from survey_platform.accounts.guards import identify, require
from survey_platform.audits.service import submit_audit_batch
from survey_platform.bodies import OnePassBody
from survey_platform.exports import campaign_export
from survey_platform.openapi.operations import described_operation
from survey_platform.responses.schemas import BatchRequest, BatchResult, Submission, SubmissionResult, tally
from survey_platform.responses.service import Ingestor
from survey_platform.settings import Settings
from survey_platform.spreadsheet import csv_chunks, write_xlsx
from survey_platform.storage.errors import FieldProblem, InvalidInput, Unauthorized

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")


@post("/campaigns/{campaign:str}/responses", dto=OnePassBody[Submission], return_dto=None)
async def submit_response(
    request: Request[Any, Any, Any], campaign: Annotated[str, CODE], data: JSONBody[Submission]
) -> Response[SubmissionResult]:
    """Submit one response (citizens need no account).

    201 stored; 200 identical re-send; 409 UUID reused or campaign not open; 422 invalid. Citizens need no account (channel ``qr`` or ``online``; at most ``SURVEY_ANON_RESPONSES_PER_HOUR`` new
    responses per connection and campaign in any hour, then 429 with Retry-After). A signed-in interviewer
    assigned to the campaign (or an admin) sends street-intercept interviews: recorded with the account.
    """
    ingestor: Ingestor = request.app.state.ingestor
    principal = await identify(request)
    address = request.app.state.addresses.key(request.scope)
    created, result = await ingestor.submit(campaign, data, principal, address)
    return Response(result, status_code=201 if created else 200)


async def _submit_batch(request: Request[Any, Any, Any], data: JSONBody[BatchRequest]) -> BatchResult:
    """Offline sync from the field: many responses and audits at once, with a result per item (partial success).

    Signed-in field accounts only (401 anonymous). Responses: interviewers assigned to each item's survey
    campaign; audits: inspectors assigned to each item's inspection campaign; admins: any campaign. An item the
    account may not submit fails on its own with 403, an item of a campaign that is not open with 409. Audit
    photos are uploaded first (``POST /photos``) and referenced by SHA-256.
    """
    principal = await identify(request)
    if principal is None:  # the route's guard refuses anonymous requests first
        raise Unauthorized("批量提交需要登录 / batch submission requires signing in")
    ingestor: Ingestor = request.app.state.ingestor
    limit = request.app.state.settings.max_batch_items
    count = len(data.responses) + len(data.audits)
    if count > limit:
        path = "$" if data.audits else "$.responses"
        raise InvalidInput(
            f"一次最多提交 {limit} 条 / at most {limit} items per batch",
            (FieldProblem(path, "max_items", f"{count} > {limit}"),),
        )
    result = await ingestor.submit_batch(data.responses, principal)
    if data.audits:
        audits = await submit_audit_batch(data.audits, principal, request.app.state.questionnaires)
        result.audits = audits
        result.audits_created, result.audits_replayed, result.audits_failed = tally(audits)
    return result


CSV_MEDIA = "text/csv"  # Litestar adds "; charset=utf-8" to text/* types
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EXPORT_CONTENT = {
    200: {
        CSV_MEDIA: OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, description="UTF-8 CSV with a BOM")
        ),
        XLSX_MEDIA: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)),
    }
}


@get(
    "/campaigns/{campaign:str}/export",
    guards=[require("admin")],
    tags=["exports"],
    operation_class=described_operation(content=_EXPORT_CONTENT),
)
async def export_responses(
    request: Request[Any, Any, Any],
    campaign: Annotated[str, CODE],
    format: FromQuery[Annotated[str, Parameter(pattern="^(csv|xlsx)$")]] = "csv",
) -> Response[Any]:
    """Raw data of a campaign (admin): one row per response with quality flags (survey), or one row per audit
    with venue, inspector, review state, check answers, compliance, GPS and photos (inspection).

    Streamed CSV, or an XLSX file written off the event loop.
    """
    export = await campaign_export(campaign, request.app.state.questionnaires)
    filename = f"{export.name}.{format}"
    if format == "csv":
        return Stream(
            csv_chunks(export.rows),
            media_type=CSV_MEDIA,
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )
    handle, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        await write_xlsx(export.rows, path, export.sheet)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return File(
        path=path,
        filename=filename,
        media_type=XLSX_MEDIA,
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def response_router(settings: Settings) -> Router:
    """The submission routes; the batch route's body limit comes from ``settings``."""
    submit_batch = post(
        "/batch",
        status_code=200,
        request_max_body_size=settings.max_batch_body_bytes,
        name="submit_batch",
        guards=[require()],  # signed-in accounts only; each item's campaign decides who may submit it
        dto=OnePassBody[BatchRequest],
        return_dto=None,
    )(_submit_batch)
    return Router(
        path="/api/v1", route_handlers=[submit_response, submit_batch, export_responses], tags=["responses"]
    )
