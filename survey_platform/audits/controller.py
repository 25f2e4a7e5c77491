"""HTTP routes for inspections: photo upload, audit submission and correction, review, assignments."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post, put
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, Parameter, QueryParameter
from litestar.response import File

from survey_platform.accounts.guards import provide_signed_in, require
from survey_platform.accounts.roles import ROLES, STAFF_ROLES
from survey_platform.accounts.service import Principal
from survey_platform.audits import service
from survey_platform.audits.photos import (
    MEDIA_TYPES,
    capture_time,
    check_photo,
    photo_metadata,
    photo_path,
    readable_photo,
    store_photo,
)
from survey_platform.audits.schemas import (
    AuditCorrection,
    AuditDetail,
    AuditSubmission,
    AuditSummary,
    PhotoInfo,
    ReviewRequest,
)
from survey_platform.bodies import refuse_nul_in_json, split_path
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.openapi.operations import PROBLEMS_OPT, described_operation
from survey_platform.settings import Settings
from survey_platform.storage.errors import (
    BadRequest,
    FieldProblem,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
SHA = Parameter(pattern=r"^[0-9a-f]{64}$")


def _catalog(request: Request[Any, Any, Any]) -> QuestionnaireCatalog:
    return request.app.state.questionnaires


@post("/campaigns/{campaign:str}/audits", guards=[require("inspector", "admin")])
async def submit_audit(
    request: Request[Any, Any, Any],
    campaign: Annotated[str, CODE],
    data: JSONBody[AuditSubmission],
    principal: NamedDependency[Principal],
) -> Response[AuditDetail]:
    """Submit an inspection (assigned inspectors, or an admin). 201 stored; 200 identical re-send; 409 UUID reused
    or campaign not open."""
    created, audit = await service.submit_audit(campaign, data, principal, _catalog(request))
    return Response(audit, status_code=201 if created else 200)


@get("/audits", guards=[require(*ROLES)])
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


@get("/audits/{audit_id:uuid}", guards=[require(*ROLES)])
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


@post("/audits/{audit_id:uuid}/review", guards=[require(*STAFF_ROLES)], status_code=200)
async def review_audit(
    audit_id: FromPath[uuid.UUID], data: JSONBody[ReviewRequest], principal: NamedDependency[Principal]
) -> AuditDetail:
    """Approve, return (a comment is required) or reject a submitted audit."""
    return await service.review_audit(audit_id, data.action, data.comment, principal)


async def _upload_photo(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    content_sha256: Annotated[
        str | None,
        HeaderParameter(
            name="X-Content-SHA256",
            pattern=r"^[0-9a-fA-F]{64}$",
            description="内容的 SHA-256（可选）/ the SHA-256 of the body (optional), checked against it",
        ),
    ] = None,
    captured_at: Annotated[
        str | None,
        HeaderParameter(
            name="X-Captured-At",
            max_length=40,
            description="拍摄时间（可选，带时区的 ISO 8601）/ when the photo was taken (optional; ISO 8601 with a "
            "UTC offset), kept because re-encoding on the phone drops the EXIF data",
        ),
    ] = None,
) -> Response[PhotoInfo]:
    """Upload one evidence photo as the raw request body (image/jpeg, image/png or image/webp).

    Photos are stored under their SHA-256; sending the same bytes again returns 200, so an interrupted upload is
    simply sent again. An optional ``X-Content-SHA256`` header is checked against the content; an optional
    ``X-Captured-At`` records when the photo was taken (the first upload that gives it wins).
    """
    settings: Settings = request.app.state.settings
    taken = capture_time(captured_at)
    data = await request.body()
    metadata, created = await store_photo(
        settings.photos_dir,
        data,
        request.headers.get("content-type", ""),
        settings.max_photo_bytes,
        principal.user_id,
        content_sha256,
        taken,
    )
    return Response(PhotoInfo(**metadata), status_code=201 if created else 200)  # type: ignore[arg-type]


@get("/photos/{sha256:str}/meta", guards=[require(*ROLES)])
async def photo_info(sha256: Annotated[str, SHA], principal: NamedDependency[Principal]) -> PhotoInfo:
    """Whether a photo is already stored (for resuming uploads): 200 with its metadata, or 404.

    Only for those who may read the photo (see ``GET /photos/{sha256}``); to anyone else it looks missing.
    """
    await readable_photo(sha256, principal)
    return PhotoInfo(**await photo_metadata(sha256))  # type: ignore[arg-type]


@get("/photos/{sha256:str}", guards=[require(*ROLES)], media_type="application/octet-stream")
async def photo_file(
    request: Request[Any, Any, Any], sha256: Annotated[str, SHA], principal: NamedDependency[Principal]
) -> File:
    """An evidence photo: for admins, the reviewers of a campaign whose audit holds it, the inspector whose audit
    holds it and the account that uploaded it; to anyone else it looks missing (404)."""
    await readable_photo(sha256, principal)
    metadata = await photo_metadata(sha256)
    settings: Settings = request.app.state.settings
    return File(path=photo_path(settings.photos_dir, sha256), media_type=str(metadata["media_type"]))


AUDIT_PART = "audit"
PHOTOS_PART = "photos"
MULTIPART_MEDIA = re.compile(r"^multipart/form-data\s*(;.*)?$", re.IGNORECASE)
_BAD_FILENAME = re.compile(r"[/\\\x00-\x1f\x7f]")


async def _submit_audit_multipart(
    request: Request[Any, Any, Any], campaign: Annotated[str, CODE], principal: NamedDependency[Principal]
) -> Response[AuditDetail]:
    """Submit an inspection together with its photos in one multipart/form-data request (assigned inspectors).

    Parts: ``audit`` (one text part) holds the audit exactly as the JSON route takes it (``AuditSubmission``);
    ``photos`` (file parts, at most ``SURVEY_MAX_AUDIT_PHOTOS``) hold JPEG, PNG or WebP photos, each checked
    like ``POST /photos`` (type sniffed and matching the part's Content-Type, at most ``SURVEY_MAX_PHOTO_BYTES``).
    Photo answers reference photos by SHA-256, whether sent in this request or uploaded before; every photo
    sent must be referenced by a photo answer. File names are not used (photos are stored under their hash),
    but a name with a directory part or control characters is refused. Other part names are refused.

    201 stored; 200 identical re-send; 409 UUID reused with other content. Nothing is stored unless the whole
    request is valid: the photos are written only after the audit has been validated, just before it is
    inserted. Error paths: ``form:<part>`` names a part (``form:photos[2]``), ``$...`` a field of the audit.
    """
    settings: Settings = request.app.state.settings
    if not MULTIPART_MEDIA.match(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(
            "请求体须为 multipart/form-data / the request body must be multipart/form-data",
            (
                FieldProblem(
                    "content-type", "media_type", "须为 multipart/form-data / expected multipart/form-data"
                ),
            ),
        )
    form = await _read_form(request)
    try:
        submission, attachments = await _audit_and_photos(form, settings, principal)
        created, audit = await service.submit_audit(
            campaign, submission, principal, _catalog(request), attachments
        )
    finally:
        await form.close()
    return Response(audit, status_code=201 if created else 200)


async def _read_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    try:
        return await request.form()
    except ClientException as error:
        if error.status_code == 413:
            limit = request.route_handler.resolve_request_max_body_size()
            raise PayloadTooLarge(
                "请求体过大 / the request body is too large", (FieldProblem("$", "size", f"> {limit} bytes"),)
            ) from None
        if "too large" in str(error.detail).lower():  # Litestar's limit on the number of parts
            raise PayloadTooLarge(
                "表单部分过多 / too many parts", (FieldProblem("$", "max_items", "too many parts"),)
            ) from None
        raise BadRequest(
            "multipart 格式无效 / malformed multipart/form-data",
            (FieldProblem("$", "malformed", str(error.detail)[:200]),),
        ) from None
    except (UnicodeError, LookupError):
        raise BadRequest(
            "表单文本须为 UTF-8 / form text must be UTF-8",
            (FieldProblem("$", "encoding", "表单文本字段无法解码 / a text part could not be decoded"),),
        ) from None


def _filename_problem(path: str, filename: str) -> FieldProblem | None:
    if len(filename) > 255 or filename in {".", ".."} or _BAD_FILENAME.search(filename):
        return FieldProblem(
            f"{path}.filename",
            "filename",
            "文件名不能含目录或控制字符 / the file name must be a plain name without directories",
        )
    return None


async def _audit_and_photos(
    form: FormMultiDict, settings: Settings, principal: Principal
) -> tuple[AuditSubmission, list[service.Attachment]]:
    """The audit and the checked photos of a multipart submission, or an error naming every bad part."""
    problems: list[FieldProblem] = []
    texts: list[str] = []
    files: list[tuple[str, UploadFile]] = []
    photo_index = 0
    for name, value in form.multi_items():
        if name == AUDIT_PART:
            if isinstance(value, UploadFile):
                problems.append(
                    FieldProblem(
                        "form:audit", "type", "audit 须为文本字段 / the audit part must be text (JSON)"
                    )
                )
            else:
                texts.append(value)
        elif name == PHOTOS_PART:
            path = f"form:photos[{photo_index}]"
            photo_index += 1
            if isinstance(value, UploadFile):
                files.append((path, value))
            else:
                problems.append(
                    FieldProblem(path, "type", "照片须为文件 / photos must be file parts with a file name")
                )
        else:
            shown = name[:100]
            problems.append(
                FieldProblem(
                    f"form:{shown}", "unknown", f"未知字段 / unknown part {shown!r} (expected audit, photos)"
                )
            )
    if not texts:
        problems.append(FieldProblem("form:audit", "required", "缺少 audit 字段 / the audit part is missing"))
    elif len(texts) > 1:
        problems.append(FieldProblem("form:audit", "duplicate", "audit 字段只能有一个 / send one audit part"))
    limit = settings.max_audit_photos
    if len(files) > limit:
        problems.append(
            FieldProblem(
                "form:photos", "max_items", f"每次最多 {limit} 张照片 / at most {limit} photos per audit"
            )
        )
        files = []  # not worth checking
    attachments: dict[str, service.Attachment] = {}
    for path, upload in files:
        if (problem := _filename_problem(path, upload.filename)) is not None:
            problems.append(problem)
        data = await upload.read(settings.max_photo_bytes + 1)
        try:
            sha256, _ = check_photo(data, upload.content_type, settings.max_photo_bytes, None)
        except InvalidInput as error:
            problems.extend(
                FieldProblem(path if e.path == "$" else f"{path}.{e.path}", e.code, e.message)
                for e in error.errors
            )
            continue
        store = _storer(upload, sha256, settings, principal)
        attachments.setdefault(sha256, service.Attachment(sha256, path, store))

    submission: AuditSubmission | None = None
    malformed: FieldProblem | None = None
    if len(texts) == 1:
        if len(texts[0].encode()) > settings.max_body_bytes:
            raise PayloadTooLarge(
                "audit 字段过大 / the audit part is too large",
                (FieldProblem("form:audit", "size", f"> {settings.max_body_bytes} bytes"),),
            )
        try:
            refuse_nul_in_json(texts[0].encode())
            submission = msgspec.json.decode(texts[0], type=AuditSubmission, strict=False)  # as JSONBody
        except InvalidInput as error:
            problems.extend(error.errors)
        except msgspec.ValidationError as error:
            path, reason = split_path(str(error))
            problems.append(FieldProblem(path or "$", "invalid", f"检查记录格式不符 / {reason}"[:500]))
        except (msgspec.DecodeError, RecursionError) as error:
            malformed = FieldProblem(
                "form:audit",
                "malformed",
                f"audit 不是有效的 JSON / the audit part is not valid JSON: {error}"[:300],
            )
    if malformed is not None:
        raise BadRequest("audit 不是有效的 JSON / the audit part is not valid JSON", (malformed, *problems))
    if problems or submission is None:
        raise InvalidInput("检查提交无效 / the multipart audit is invalid", tuple(problems))
    return submission, list(attachments.values())


def _storer(
    upload: UploadFile, sha256: str, settings: Settings, principal: Principal
) -> Callable[[], Awaitable[object]]:
    """Stores one checked photo exactly like ``POST /photos``, checked again against its hash."""

    async def store() -> object:
        await upload.seek(0)
        data = await upload.read(settings.max_photo_bytes + 1)
        return await store_photo(
            settings.photos_dir,
            data,
            upload.content_type,
            settings.max_photo_bytes,
            principal.user_id,
            sha256,
        )

    return store


def _multipart_operation(settings: Settings) -> type[Operation]:
    """The OpenAPI operation of the multipart route, with its form documented (Litestar sees a raw body)."""
    form = Schema(
        type=OpenAPIType.OBJECT,
        required=[AUDIT_PART],
        properties={
            AUDIT_PART: Schema(
                type=OpenAPIType.STRING,
                content_media_type="application/json",
                description="The audit as JSON: the body of POST /campaigns/{campaign}/audits (AuditSubmission).",
            ),
            PHOTOS_PART: Schema(
                type=OpenAPIType.ARRAY,
                max_items=settings.max_audit_photos,
                items=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                description="JPEG, PNG or WebP photos; answers reference them by SHA-256.",
            ),
        },
    )
    return described_operation(
        request_body=RequestBody(
            content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True
        )
    )


def _photo_operation(settings: Settings) -> type[Operation]:
    """The OpenAPI operation of the photo upload, with its raw body documented (Litestar sees no ``data``)."""
    photo = OpenAPIMediaType(
        schema=Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.BINARY,
            description=f"照片的字节 / the photo's bytes (at most {settings.max_photo_bytes})",
        )
    )
    return described_operation(
        request_body=RequestBody(content=dict.fromkeys(MEDIA_TYPES, photo), required=True)
    )


def audit_router(settings: Settings) -> Router:
    upload = post(
        "/photos",
        guards=[require("inspector", "admin")],
        request_max_body_size=settings.max_photo_bytes,
        opt={"raw_body": True, PROBLEMS_OPT: {409: None}},
        name="upload_photo",
        operation_class=_photo_operation(settings),
    )(_upload_photo)
    submit_multipart = post(
        "/campaigns/{campaign:str}/audits/multipart",
        guards=[require("inspector", "admin")],
        request_max_body_size=settings.max_audit_upload_bytes,
        opt={"multipart": True},
        name="submit_audit_multipart",
        operation_class=_multipart_operation(settings),
    )(_submit_audit_multipart)
    return Router(
        path="/api/v1",
        route_handlers=[
            submit_audit,
            submit_multipart,
            list_audits,
            get_audit,
            correct_audit,
            review_audit,
            upload,
            photo_info,
            photo_file,
        ],
        dependencies={"principal": Provide(provide_signed_in)},
        tags=["audits"],
    )
