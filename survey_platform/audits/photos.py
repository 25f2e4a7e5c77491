"""Evidence photos stored content-addressed (SHA-256) in the data directory, with type and size checks.

Client file names are never used: the stored path is derived from the hash only, so no name can traverse
directories. Uploading the same bytes again is a no-op, which makes interrupted uploads safe to resume.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import os
import re
import tempfile
from pathlib import Path

from survey_platform.accounts.service import Principal
from survey_platform.storage.errors import FieldProblem, InvalidInput, NotFound
from survey_platform.storage.tables import Audit, Photo

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
MEDIA_TYPES: dict[str, str] = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def sniff_media_type(data: bytes) -> str | None:
    """The image type from the file's first bytes (JPEG, PNG or WebP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def photo_path(root: Path, sha256: str) -> Path:
    """Where the photo with this hash lives (two-level fan-out); refuses anything but a SHA-256."""
    if not SHA256_PATTERN.match(sha256):
        raise InvalidInput(
            "照片 ID 无效 / invalid photo id", (FieldProblem("$.sha256", "format", "64 hex digits"),)
        )
    return root / sha256[:2] / sha256[2:4] / sha256


def check_photo(
    data: bytes, declared_type: str, max_bytes: int, expected_sha256: str | None
) -> tuple[str, str]:
    """(sha256, media type) of an acceptable upload, else InvalidInput naming every problem."""
    problems: list[FieldProblem] = []
    if not data:
        problems.append(FieldProblem("$", "empty", "照片为空 / the photo is empty"))
    if len(data) > max_bytes:
        problems.append(
            FieldProblem("$", "size", f"照片超过 {max_bytes} 字节 / the photo exceeds {max_bytes} bytes")
        )
    sniffed = sniff_media_type(data)
    declared = declared_type.split(";")[0].strip().lower()
    if sniffed is None:
        problems.append(FieldProblem("$", "type", "仅接受 JPEG、PNG、WebP / only JPEG, PNG or WebP images"))
    elif declared != sniffed:
        problems.append(
            FieldProblem(
                "content-type",
                "type",
                f"声明类型 {declared} 与内容 {sniffed} 不符 / declared type does not match",
            )
        )
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and expected_sha256.lower() != digest:
        problems.append(
            FieldProblem("x-content-sha256", "hash", "内容哈希不符 / the content does not match its SHA-256")
        )
    if problems:
        raise InvalidInput("照片无效 / invalid photo", tuple(problems))
    return digest, sniffed  # type: ignore[return-value]


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


async def store_photo(
    root: Path,
    data: bytes,
    declared_type: str,
    max_bytes: int,
    uploader: int | None,
    expected_sha256: str | None,
    captured_at: datetime.datetime | None = None,
) -> tuple[dict[str, object], bool]:
    """Store an upload; returns (metadata, created).

    ``captured_at``: when the photo was taken, as the phone recorded it; kept from the first upload that gives
    one (the same bytes sent again never change it).
    """
    digest, media_type = check_photo(data, declared_type, max_bytes, expected_sha256)
    await asyncio.to_thread(_write_atomically, photo_path(root, digest), data)
    existing = await Photo.select().where(Photo.sha256 == digest).first().run()
    if existing is not None:
        if existing["captured_at"] is None and captured_at is not None:
            await (
                Photo.update({Photo.captured_at: captured_at})
                .where((Photo.sha256 == digest) & Photo.captured_at.is_null())
                .run()
            )
            existing["captured_at"] = captured_at
        return _metadata(existing), False
    await (
        Photo.insert(
            Photo(
                sha256=digest,
                media_type=media_type,
                size=len(data),
                uploaded_by=uploader,
                uploaded_at=datetime.datetime.now(datetime.UTC),
                captured_at=captured_at,
            )
        )
        .on_conflict(action="DO NOTHING")
        .run()
    )
    row = await Photo.select().where(Photo.sha256 == digest).first().run()
    return _metadata(row), True


def capture_time(text: str | None) -> datetime.datetime | None:
    """The ``X-Captured-At`` header as a time: ISO 8601 with a UTC offset (``2026-05-01T09:30:00+08:00``), or
    None when absent; anything else is refused (422) naming the header."""
    if text is None or not text.strip():
        return None
    try:
        parsed = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(
            "拍摄时间无效 / invalid capture time",
            (
                FieldProblem(
                    "header:x-captured-at",
                    "format",
                    "应为带时区的 ISO 8601 时间，如 2026-05-01T09:30:00+08:00 / expected an ISO 8601 time with "
                    f"a UTC offset, e.g. 2026-05-01T09:30:00+08:00; got {text[:40]!r}",
                ),
            ),
        )
    return parsed


def _metadata(row: dict[str, object]) -> dict[str, object]:
    return {
        "sha256": row["sha256"],
        "media_type": row["media_type"],
        "size": row["size"],
        "captured_at": row["captured_at"],
    }


async def photo_metadata(sha256: str) -> dict[str, object]:
    if not SHA256_PATTERN.match(sha256):
        raise NotFound("照片不存在 / photo not found")
    row = await Photo.select().where(Photo.sha256 == sha256).first().run()
    if row is None:
        raise NotFound("照片不存在 / photo not found")
    return _metadata(row)


async def others_photos(hashes: set[str], principal: Principal) -> set[str]:
    """Those of the stored ``hashes`` that another account uploaded."""
    if not hashes:
        return set()
    rows = await Photo.select(Photo.sha256, Photo.uploaded_by).where(Photo.sha256.is_in(sorted(hashes))).run()
    return {row["sha256"] for row in rows if row["uploaded_by"] != principal.user_id}


async def missing_photos(hashes: set[str]) -> set[str]:
    if not hashes:
        return set()
    rows = await Photo.select(Photo.sha256).where(Photo.sha256.is_in(list(hashes))).run()
    return hashes - {row["sha256"] for row in rows}


async def readable_photo(sha256: str, principal: Principal) -> None:
    """Raise NotFound unless ``principal`` may read the photo: an admin; the account that uploaded it; the inspector
    of an audit that holds it; a reviewer assigned to the campaign of such an audit."""
    from survey_platform.campaigns.assignments import may_review

    if principal.role == "admin":
        return
    if not SHA256_PATTERN.match(sha256):
        raise NotFound("照片不存在 / photo not found")
    uploader = await Photo.select(Photo.uploaded_by).where(Photo.sha256 == sha256).first().run()
    if uploader is not None and uploader["uploaded_by"] == principal.user_id:
        return
    # Photos are referenced from each audit's JSON list of hashes (a hex digest cannot break out of the pattern).
    holders = await Audit.raw(
        "SELECT campaign, inspector FROM audit WHERE CAST(photos AS TEXT) LIKE {}", f'%"{sha256}"%'
    ).run()
    for holder in holders:
        if holder["inspector"] == principal.user_id:
            return
        if principal.role == "reviewer" and await may_review(holder["campaign"], principal):
            return
    raise NotFound("照片不存在 / photo not found")
