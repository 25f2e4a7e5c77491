"""HTTP routes for inspections: photo upload, audit submission and correction, review, assignments."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.response import File

from survey_platform.accounts.guards import provide_signed_in, require
from survey_platform.accounts.service import Principal
from survey_platform.audits import service
from survey_platform.audits.photos import photo_metadata, photo_path, store_photo
from survey_platform.audits.schemas import (
    AuditCorrection,
    AuditDetail,
    AuditSubmission,
    AuditSummary,
    InspectorAssignment,
    PhotoInfo,
    ReviewRequest,
)
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.settings import Settings

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
SHA = Parameter(pattern=r"^[0-9a-f]{64}$")
REVIEWERS = ("admin", "reviewer")
SIGNED_IN = ("admin", "reviewer", "inspector")


def _catalog(request: Request[Any, Any, Any]) -> QuestionnaireCatalog:
    return request.app.state.questionnaires


@post("/campaigns/{campaign:str}/audits", guards=[require("inspector")])
async def submit_audit(
    request: Request[Any, Any, Any],
    campaign: Annotated[str, CODE],
    data: JSONBody[AuditSubmission],
    principal: NamedDependency[Principal],
) -> Response[AuditDetail]:
    """Submit an inspection (assigned inspectors). 201 stored; 200 identical re-send; 409 UUID reused."""
    created, audit = await service.submit_audit(campaign, data, principal, _catalog(request))
    return Response(audit, status_code=201 if created else 200)


@get("/audits", guards=[require(*SIGNED_IN)])
async def list_audits(
    principal: NamedDependency[Principal],
    campaign: FromQuery[Annotated[str | None, Parameter(max_length=80)]] = None,
    review_state: Annotated[
        str | None, QueryParameter(name="state", pattern="^(submitted|approved|returned|rejected)$")
    ] = None,
    limit: FromQuery[Annotated[int, Parameter(ge=1, le=5000)]] = 500,
    offset: FromQuery[Annotated[int, Parameter(ge=0, le=10**9)]] = 0,
) -> list[AuditSummary]:
    """Audits: an inspector sees only their own; reviewers and admins see all."""
    return await service.list_audits(principal, campaign, review_state, limit, offset)


@get("/audits/{audit_id:uuid}", guards=[require(*SIGNED_IN)])
async def get_audit(audit_id: FromPath[uuid.UUID], principal: NamedDependency[Principal]) -> AuditDetail:
    return await service.get_audit(audit_id, principal)


@put("/audits/{audit_id:uuid}", guards=[require("inspector")])
async def correct_audit(
    request: Request[Any, Any, Any],
    audit_id: FromPath[uuid.UUID],
    data: JSONBody[AuditCorrection],
    principal: NamedDependency[Principal],
) -> AuditDetail:
    """Send a returned audit back for review with corrected answers."""
    return await service.correct_audit(audit_id, data, principal, _catalog(request))


@post("/audits/{audit_id:uuid}/review", guards=[require(*REVIEWERS)], status_code=200)
async def review_audit(
    audit_id: FromPath[uuid.UUID], data: JSONBody[ReviewRequest], principal: NamedDependency[Principal]
) -> AuditDetail:
    """Approve, return (a comment is required) or reject a submitted audit."""
    return await service.review_audit(audit_id, data.action, data.comment, principal)


@put("/campaigns/{campaign:str}/inspectors", guards=[require("admin")])
async def assign_inspectors(
    campaign: Annotated[str, CODE], data: JSONBody[InspectorAssignment], principal: NamedDependency[Principal]
) -> InspectorAssignment:
    return InspectorAssignment(await service.assign_inspectors(campaign, data.inspectors, principal))


@get("/campaigns/{campaign:str}/inspectors", guards=[require(*REVIEWERS)])
async def list_inspectors(campaign: Annotated[str, CODE]) -> InspectorAssignment:
    return InspectorAssignment(await service.assigned_inspectors(campaign))


async def _upload_photo(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Response[PhotoInfo]:
    """Upload one evidence photo as the raw request body (image/jpeg, image/png or image/webp).

    Photos are stored under their SHA-256; sending the same bytes again returns 200, so an interrupted upload is
    simply sent again. An optional ``X-Content-SHA256`` header is checked against the content.
    """
    settings: Settings = request.app.state.settings
    data = await request.body()
    metadata, created = await store_photo(
        settings.photos_dir,
        data,
        request.headers.get("content-type", ""),
        settings.max_photo_bytes,
        principal.user_id,
        request.headers.get("x-content-sha256"),
    )
    return Response(PhotoInfo(**metadata), status_code=201 if created else 200)  # type: ignore[arg-type]


@get("/photos/{sha256:str}/meta", guards=[require(*SIGNED_IN)])
async def photo_info(sha256: Annotated[str, SHA]) -> PhotoInfo:
    """Whether a photo is already stored (for resuming uploads): 200 with its metadata, or 404."""
    return PhotoInfo(**await photo_metadata(sha256))  # type: ignore[arg-type]


@get("/photos/{sha256:str}", guards=[require(*SIGNED_IN)], media_type="application/octet-stream")
async def photo_file(request: Request[Any, Any, Any], sha256: Annotated[str, SHA]) -> File:
    metadata = await photo_metadata(sha256)
    settings: Settings = request.app.state.settings
    return File(path=photo_path(settings.photos_dir, sha256), media_type=str(metadata["media_type"]))


def audit_router(settings: Settings) -> Router:
    upload = post(
        "/photos",
        guards=[require("inspector", "admin")],
        request_max_body_size=settings.max_photo_bytes,
        opt={"raw_body": True},
        name="upload_photo",
    )(_upload_photo)
    return Router(
        path="/api/v1",
        route_handlers=[
            submit_audit,
            list_audits,
            get_audit,
            correct_audit,
            review_audit,
            assign_inspectors,
            list_inspectors,
            upload,
            photo_info,
            photo_file,
        ],
        dependencies={"principal": Provide(provide_signed_in)},
        tags=["audits"],
    )
