"""Public submission routes: one response (idempotent on its client UUID) and the offline-sync batch."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Schema
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.response import File, Stream

from survey_platform.accounts.guards import identify, provide_signed_in, require
from survey_platform.accounts.roles import STAFF_ROLES
from survey_platform.accounts.service import Principal
from survey_platform.audits.service import submit_audit_batch
from survey_platform.bodies import OnePassBody
from survey_platform.exports import campaign_export
from survey_platform.openapi.operations import described_operation
from survey_platform.responses.flagged import FlaggedQueue, QualityCache, flagged_queue
from survey_platform.responses.quality import FLAGS
from survey_platform.responses.reviews import ReviewDecision, decide
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


@get(
    "/campaigns/{campaign:str}/flagged",
    guards=[require(*STAFF_ROLES)],
    dependencies={"principal": Provide(provide_signed_in)},
    tags=["reviews"],
)
async def list_flagged(
    request: Request[Any, Any, Any],
    campaign: Annotated[str, CODE],
    principal: NamedDependency[Principal],
    decided: Annotated[
        Literal["pending", "decided", "all"],
        QueryParameter(name="state", description="by the reviewer's decision"),
    ] = "all",
    flag: FromQuery[Annotated[str | None, Parameter(pattern=f"^({'|'.join(FLAGS)})$")]] = None,
    interviewer: FromQuery[
        Annotated[int | None, Parameter(ge=1, le=2**31 - 1, description="the submitting account's id")]
    ] = None,
    limit: FromQuery[Annotated[int, Parameter(ge=1, le=1000)]] = 100,
    offset: FromQuery[Annotated[int, Parameter(ge=0, le=10**9)]] = 0,
) -> FlaggedQueue:
    """The interviews of a survey campaign that the quality rules flag, and each interviewer's flag rate.

    For the campaign's reviewers and admins (404 for anyone else, and for an inspection campaign). The rules
    (speeding, straight-lining, too many missing answers, duplicated answer sets) judge every eligible interview
    of the campaign; flagged interviews come without a decision first, then newest first. Per interviewer: how many
    of their interviews are flagged, against everyone else's rate (exact one-sided binomial test, Holm-adjusted;
    ``stands_out`` below 0.05).
    """
    cache: QualityCache = request.app.state.quality
    return await flagged_queue(
        campaign,
        principal,
        cache,
        state=decided,
        flag=flag,
        interviewer=interviewer,
        limit=limit,
        offset=offset,
    )


class InterviewReview(msgspec.Struct, forbid_unknown_fields=True):
    """Keep or exclude a flagged interview; an exclusion needs a reason."""

    decision: Literal["keep", "exclude"]
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


@post(
    "/responses/{response_id:uuid}/review",
    guards=[require(*STAFF_ROLES)],
    dependencies={"principal": Provide(provide_signed_in)},
    status_code=200,
    tags=["reviews"],
)
async def review_response(
    request: Request[Any, Any, Any],
    response_id: FromPath[uuid.UUID],
    data: JSONBody[InterviewReview],
    principal: NamedDependency[Principal],
) -> ReviewDecision:
    """A reviewer's decision on an interview: keep it or exclude it from the campaign's releases (with a reason).

    The latest decision counts; every decision stays in the history and the audit log. For the campaign's
    reviewers and admins (404 for anyone else), while the campaign is open or closed (409 once published); only
    an interview the quality rules flag can be decided (409 otherwise).
    """
    return await decide(
        response_id, data.decision, data.reason, principal, request.app.state.quality.flagged_ids
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
        path="/api/v1",
        route_handlers=[submit_response, submit_batch, export_responses, list_flagged, review_response],
        tags=["responses"],
    )
