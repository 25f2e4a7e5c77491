"""Releases: publish (compute from stored inputs and freeze), verify, read; a correction supersedes.

Publishing reads a campaign's inputs (``publishing.inputs``), computes the results and the open-data files off the
event loop (``publishing.compute``, ``publishing.opendata``) and stores them in one transaction that also marks the
campaign published and any earlier release of it superseded. A computation that fails stores nothing. Two publishes
of one campaign at once give one release and a clear 409: each expects the campaign's latest release to be the one
it saw when it started, checked inside the storing transaction, and a unique (campaign, sequence) backs it up.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime
import hashlib
import importlib.metadata
import secrets
import time
from collections.abc import Iterator
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Max

from survey_platform.accounts.service import Principal
from survey_platform.campaigns import lifecycle
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.service import get_campaign, status_at_commit
from survey_platform.publishing.compute import compute_release, inputs_fingerprint
from survey_platform.publishing.inputs import recorded_part, release_inputs
from survey_platform.publishing.model import ReleaseInputs, ReleaseResults
from survey_platform.publishing.opendata import OpenDataMeta, open_data_files
from survey_platform.questionnaire.columns import AnswerValueError
from survey_platform.questionnaire.model import Questionnaire
from survey_platform.storage import audit_log
from survey_platform.storage.database import write_transaction
from survey_platform.storage.errors import Conflict, InvalidInput, NotFound
from survey_platform.storage.tables import AuditReview, Release, ReleaseFile, ResponseReview
from survey_platform.storage.tables import Campaign as CampaignTable

MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_RESULTS = msgspec.json.Encoder(order="deterministic")
_INPUTS = msgspec.json.Encoder(order="deterministic")


def software_version() -> str:
    try:
        return importlib.metadata.version("survey-platform")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "unknown"


class ReleaseSummary(msgspec.Struct, frozen=True):
    """A release as listed: its id, campaign, questionnaire, when, status and where to read it."""

    release: str
    campaign: str
    campaign_name: str
    kind: str
    questionnaire: str
    questionnaire_version: str
    created_at: datetime.datetime
    status: str
    superseded_by: str | None
    supersedes: str | None
    note: str
    urls: dict[str, str]


class ReleaseFileInfo(msgspec.Struct, frozen=True):
    name: str
    media_type: str
    size: int
    sha256: str
    url: str


class ReleaseMeta(ReleaseSummary, frozen=True, kw_only=True):
    """A release's metadata: method settings, fingerprints (inputs, results, software, seed), files, changelog."""

    method: dict[str, Any]
    seed: int
    software_version: str
    inputs_fingerprint: str
    results_hash: str
    changelog: list[str]
    files: list[ReleaseFileInfo]


@dataclasses.dataclass(frozen=True, slots=True)
class StoredRelease:
    meta: ReleaseMeta
    inputs: ReleaseInputs  # as recorded (without responses and audits)
    results: ReleaseResults


@dataclasses.dataclass(frozen=True, slots=True)
class Computed:
    """What a computation produced, before it is stored."""

    inputs: ReleaseInputs
    results: ReleaseResults
    results_json: bytes
    files: dict[str, bytes]


def release_urls(code: str, kind: str) -> dict[str, str]:
    """The API and page addresses of a release."""
    api = f"/api/v1/releases/{code}"
    urls = {
        "api": api,
        "page": f"/releases/{code}",
        "files": f"{api}/files",
        "datapackage": f"{api}/files/datapackage.json",
    }
    if kind == "survey":
        urls["rankings"] = f"{api}/rankings"
        urls["rankings_page"] = f"/releases/{code}/rankings"
    else:
        urls["inspections"] = f"{api}/inspections"
        urls["inspections_page"] = f"/releases/{code}/inspections"
    return urls


def compute_and_render(
    inputs: ReleaseInputs,
    questionnaire: Questionnaire,
    code: str,
    created: datetime.datetime,
    timings: dict[str, float] | None = None,
) -> Computed:
    """The pure part of publishing (run off the event loop): results, their JSON and the open-data files."""
    started = time.perf_counter()
    try:
        results = compute_release(inputs, questionnaire)
    except AnswerValueError as error:  # ReleaseInputError too: the message names the city/variable/category
        raise InvalidInput(f"无法计算发布结果 / the release cannot be computed: {error}") from None
    scored = time.perf_counter()
    meta = OpenDataMeta(release_id=code, created=created.isoformat(), software_version=software_version())
    computed = Computed(inputs, results, _RESULTS.encode(results), open_data_files(meta, results))
    if timings is not None:
        timings["score"] = scored - started
        timings["files"] = time.perf_counter() - scored
    return computed


def changelog(old: StoredRelease, new: Computed) -> list[str]:
    """What a correction changed compared with the release it supersedes (bilingual lines, pure)."""
    lines: list[str] = []
    if old.meta.inputs_fingerprint != new.results.fingerprint:
        lines.append("输入的回答或检查记录不同 / the responses or audits that feed it differ")
    old_method = msgspec.to_builtins(old.inputs.method)
    new_method = msgspec.to_builtins(new.inputs.method)
    for key in sorted(set(old_method) | set(new_method)):
        if key != "seed" and old_method.get(key) != new_method.get(key):
            lines.append(
                f"方法设置 {key}: {old_method.get(key)!r} → {new_method.get(key)!r} / method setting changed"
            )
    old_cities = {c.code: c for c in old.inputs.cities}
    for city in new.inputs.cities:
        before = old_cities.get(city.code)
        if before is not None and before.margins != city.margins:
            lines.append(f"{city.name_zh} 的加权边际已更正 / weighting margins of {city.code} corrected")
        if before is not None and before.population != city.population:
            lines.append(f"{city.name_zh} 的人口已更正 / population of {city.code} corrected")
    if old.results.rankings and new.results.rankings:
        a, b = old.results.rankings.national.score, new.results.rankings.national.score
        if a is not None and b is not None and round(a, 2) != round(b, 2):
            lines.append(f"全国得分 / national score {a:.2f} → {b:.2f}")
        old_ranks = {c.city: c.rank for c in old.results.rankings.cities}
        moved = [c.city for c in new.results.rankings.cities if old_ranks.get(c.city) != c.rank]
        if moved:
            lines.append(
                f"{len(moved)} 个城市名次变化 / {len(moved)} cities changed rank: {', '.join(moved[:20])}"
            )
    if old.results.inspections and new.results.inspections:
        a, b = old.results.inspections.overall.rate, new.results.inspections.overall.rate
        if round(a, 4) != round(b, 4):
            lines.append(f"问题率 / problem rate {a:.1%} → {b:.1%}")
    return lines or ["数字未变 / no figure changed"]


async def publish(
    campaign_code: str,
    catalog: QuestionnaireCatalog,
    *,
    note: str = "",
    actor: Principal | None = None,
    seed: int | None = None,
    timings: dict[str, float] | None = None,
) -> StoredRelease:
    """Compute a release of a closed (or, for a correction, published) campaign and store it; see the module doc.

    ``timings`` (optional) receives the seconds of each stage: read (the inputs from the database, of which query
    and decode), score (``compute_release``), files (results JSON and open data), write (the storing transaction).
    """
    campaign = await get_campaign(campaign_code)
    if not lifecycle.accepts_publish(campaign.status):
        raise Conflict(
            f"活动状态为 {campaign.status}，请先关闭 / campaign {campaign_code!r} is {campaign.status}: close it "
            "before publishing"
        )
    previous = await _latest(campaign.id)
    watermark = await review_watermark(campaign.id)
    seed = secrets.randbelow(2**31) if seed is None else seed
    stages = timings if timings is not None else {}
    started = time.perf_counter()
    inputs = await release_inputs(campaign, catalog, seed, timings=stages)
    questionnaire = await catalog.get(campaign.questionnaire_version)
    stages["read"] = time.perf_counter() - started
    sequence = (previous["sequence"] if previous else 0) + 1
    code = f"{campaign.code}-r{sequence}"
    created = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    computed = await asyncio.to_thread(compute_and_render, inputs, questionnaire, code, created, stages)
    old = await get_release(previous["code"]) if previous else None
    lines = changelog(old, computed) if old is not None else []
    started = time.perf_counter()
    await _store(campaign, code, sequence, previous, watermark, computed, created, note, actor, lines)
    stages["write"] = time.perf_counter() - started
    await audit_log.record(
        actor_id=actor.user_id if actor else None,
        actor=actor.username if actor else "system",
        action="release.publish",
        entity="release",
        entity_id=code,
        detail={
            "campaign": campaign.code,
            "supersedes": previous["code"] if previous else None,
            "note": note,
        },
    )
    return await get_release(code)


async def review_watermark(campaign_id: int) -> tuple[int, int]:
    """The last reviewers' decision on the campaign's interviews and the last review step of its audits (row ids):
    a release is stored only if neither moved while it was computed (its inputs would be out of date)."""
    decided = (
        await ResponseReview.select(Max(ResponseReview.id))
        .where(ResponseReview.response.campaign == campaign_id)
        .first()
        .run()
    )
    reviewed = (
        await AuditReview.select(Max(AuditReview.id))
        .where(AuditReview.audit.campaign == campaign_id)
        .first()
        .run()
    )
    return int(decided["max"] or 0), int(reviewed["max"] or 0)


async def _latest(campaign_id: int) -> dict[str, Any] | None:
    return (
        await Release.select(Release.id, Release.code, Release.sequence)
        .where(Release.campaign == campaign_id)
        .order_by(Release.sequence, ascending=False)
        .first()
        .run()
    )


async def _store(
    campaign: Campaign,
    code: str,
    sequence: int,
    previous: dict[str, Any] | None,
    watermark: tuple[int, int],
    computed: Computed,
    created: datetime.datetime,
    note: str,
    actor: Principal | None,
    lines: list[str],
) -> None:
    concurrent = Conflict(
        f"同一活动的另一次发布已先完成 / another publish of campaign {campaign.code!r} finished first; "
        "read the latest release and publish again if a correction is still needed"
    )
    try:
        async with write_transaction(Release._meta.db):
            # exclusive: a reviewer's decision or an approval waits for this commit and then finds it published
            status = await status_at_commit(campaign.id, exclusive=True)
            latest = await _latest(campaign.id)
            if not lifecycle.accepts_publish(status) or (latest or {}).get("code") != (previous or {}).get(
                "code"
            ):
                raise concurrent
            if await review_watermark(campaign.id) != watermark:
                raise Conflict(
                    f"计算期间有新的审核决定 / a reviewer decided on campaign {campaign.code!r} while its release was "
                    "being computed: nothing was published; publish again to include the decision"
                )
            rows = (
                await Release.insert(
                    Release(
                        code=code,
                        campaign=campaign.id,
                        sequence=sequence,
                        questionnaire=campaign.questionnaire_version,
                        kind=campaign.kind,
                        created_at=created,
                        created_by=actor.username if actor else "system",
                        note=note,
                        status="current",
                        supersedes=previous["code"] if previous else "",
                        changelog=msgspec.json.encode(lines).decode(),
                        software_version=software_version(),
                        seed=computed.inputs.method.seed,
                        inputs_fingerprint=computed.results.fingerprint,
                        inputs=_INPUTS.encode(recorded_part(computed.inputs)).decode(),
                        results_hash=hashlib.sha256(computed.results_json).hexdigest(),
                        results=computed.results_json.decode(),
                    )
                )
                .returning(Release.id)
                .run()
            )
            release_id = rows[0]["id"]
            for name, content in sorted(computed.files.items()):
                await ReleaseFile.insert(
                    ReleaseFile(
                        release=release_id,
                        name=name,
                        media_type=_media_type(name),
                        sha256=hashlib.sha256(content).hexdigest(),
                        size=len(content),
                        content=content,
                    )
                ).run()
            if previous is not None:
                await (
                    Release.update({Release.status: "superseded", Release.superseded_by: code})
                    .where(Release.id == previous["id"])
                    .run()
                )
            if status == "closed":
                await (
                    CampaignTable.update(
                        {CampaignTable.status: "published", CampaignTable.updated_at: created}
                    )
                    .where(CampaignTable.id == campaign.id)
                    .run()
                )
    except Conflict:
        raise
    except Exception as error:
        if "unique" in str(error).lower():  # the other publish took this sequence in the meantime
            raise concurrent from None
        raise


def _media_type(name: str) -> str:
    for suffix, media in MEDIA_TYPES.items():
        if name.endswith(suffix):
            return media
    return "application/octet-stream"


# --------------------------------------------------------------------------------------------------------- reading

# code → (results hash, recorded inputs, results): a release's numbers never change, so they are decoded once;
# the most recently read releases are kept (a national release decodes to tens of MB)
_CACHE: collections.OrderedDict[str, tuple[str, ReleaseInputs, ReleaseResults]] = collections.OrderedDict()
CACHED_RELEASES = 8


def _summary_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "release": row["code"],
        "campaign": row["campaign.code"],
        "campaign_name": row["campaign.name"],
        "kind": row["kind"],
        "questionnaire": row["questionnaire.questionnaire_id"],
        "questionnaire_version": row["questionnaire.version"],
        "created_at": row["created_at"],
        "status": row["status"],
        "superseded_by": row["superseded_by"] or None,
        "supersedes": row["supersedes"] or None,
        "note": row["note"],
        "urls": release_urls(row["code"], row["kind"]),
    }


_SUMMARY_COLUMNS = (
    Release.code,
    Release.kind,
    Release.created_at,
    Release.status,
    Release.superseded_by,
    Release.supersedes,
    Release.note,
    Release.campaign.code,
    Release.campaign.name,
    Release.questionnaire.questionnaire_id,
    Release.questionnaire.version,
)


async def list_releases(campaign: str | None = None) -> list[ReleaseSummary]:
    """Every release, newest first (optionally of one campaign)."""
    query = (
        Release.select(*_SUMMARY_COLUMNS)
        .order_by(Release.created_at, ascending=False)
        .order_by(Release.id, ascending=False)
    )
    if campaign:
        query = query.where(Release.campaign.code == campaign)
    return [ReleaseSummary(**_summary_fields(row)) for row in await query.run()]


async def get_release(code: str) -> StoredRelease:
    """A stored release (its decoded results are cached in this process; its status is read every time)."""
    row = (
        await Release.select(
            *_SUMMARY_COLUMNS,
            Release.id,
            Release.changelog,
            Release.software_version,
            Release.seed,
            Release.inputs_fingerprint,
            Release.results_hash,
        )
        .where(Release.code == code)
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"发布不存在 / release {code!r} not found")
    cached = _CACHE.get(code)
    if cached is None or cached[0] != row["results_hash"]:
        body = (
            await Release.select(Release.inputs, Release.results).where(Release.id == row["id"]).first().run()
        )
        cached = _CACHE[code] = (
            row["results_hash"],
            msgspec.json.decode(_text(body["inputs"]), type=ReleaseInputs),
            msgspec.json.decode(_text(body["results"]), type=ReleaseResults),
        )
    _, inputs, results = cached
    files = (
        await ReleaseFile.select(
            ReleaseFile.name, ReleaseFile.media_type, ReleaseFile.size, ReleaseFile.sha256
        )
        .where(ReleaseFile.release == row["id"])
        .order_by(ReleaseFile.name)
        .run()
    )
    meta = ReleaseMeta(
        **_summary_fields(row),
        method=msgspec.to_builtins(inputs.method),
        seed=int(row["seed"]),
        software_version=row["software_version"],
        inputs_fingerprint=row["inputs_fingerprint"],
        results_hash=row["results_hash"],
        changelog=msgspec.json.decode(_text(row["changelog"])) if row["changelog"] else [],
        files=[
            ReleaseFileInfo(
                f["name"],
                f["media_type"],
                f["size"],
                f["sha256"],
                f"/api/v1/releases/{code}/files/{f['name']}",
            )
            for f in files
        ],
    )
    return StoredRelease(meta, inputs, results)


async def release_file(code: str, name: str) -> tuple[str, bytes]:
    """(media type, bytes) of one open-data file of a release."""
    row = (
        await ReleaseFile.select(ReleaseFile.media_type, ReleaseFile.content)
        .where((ReleaseFile.release.code == code) & (ReleaseFile.name == name))
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"文件不存在 / release {code!r} has no file {name!r}")
    return row["media_type"], bytes(row["content"])


def _text(value: object) -> str | bytes:
    return value if isinstance(value, str | bytes) else msgspec.json.encode(value)


# -------------------------------------------------------------------------------------------------------- verifying


class VerifyReport(msgspec.Struct, frozen=True):
    """Whether a release recomputed from its recorded inputs gives the identical numbers, and what differs."""

    release: str
    identical: bool
    inputs_identical: bool
    software_version: str
    recorded_software_version: str
    differences: list[str]


async def verify(code: str, catalog: QuestionnaireCatalog) -> VerifyReport:
    """Recompute a release from its recorded inputs and the stored responses/audits; compare every number."""
    stored = await get_release(code)
    campaign = await get_campaign(stored.meta.campaign)
    row = (
        await Release.select(Release.questionnaire, Release.results).where(Release.code == code).first().run()
    )
    inputs = await release_inputs(campaign, catalog, stored.meta.seed, recorded=stored.inputs)
    questionnaire = await catalog.get(row["questionnaire"])
    fingerprint = inputs_fingerprint(inputs)
    try:
        results = await asyncio.to_thread(compute_release, inputs, questionnaire)
    except AnswerValueError as error:
        return VerifyReport(
            code, False, fingerprint == stored.meta.inputs_fingerprint, software_version(),
            stored.meta.software_version, [f"重算失败 / the recomputation failed: {error}"],
        )  # fmt: skip
    recorded = msgspec.json.decode(_text(row["results"]))
    again = msgspec.to_builtins(results)
    differences = list(_differences(recorded, again, "$"))
    if fingerprint != stored.meta.inputs_fingerprint:
        differences.insert(
            0,
            "输入的回答或检查记录已改变 / the stored responses or audits that feed it have changed "
            f"(fingerprint {stored.meta.inputs_fingerprint[:12]} → {fingerprint[:12]})",
        )
    return VerifyReport(
        release=code,
        identical=not differences,
        inputs_identical=fingerprint == stored.meta.inputs_fingerprint,
        software_version=software_version(),
        recorded_software_version=stored.meta.software_version,
        differences=differences[:200],
    )


def _differences(a: Any, b: Any, path: str) -> Iterator[str]:
    """Every path where two JSON trees differ (exact comparison: floats must be bit-identical)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                yield f"{path}.{key}: {a.get(key, 'missing')!r} → {b.get(key, 'missing')!r}"
            else:
                yield from _differences(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: {len(a)} entries → {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from _differences(x, y, f"{path}[{index}]")
    elif a != b or type(a) is not type(b):
        yield f"{path}: {a!r} → {b!r}"


__all__ = [
    "ReleaseMeta",
    "ReleaseSummary",
    "StoredRelease",
    "VerifyReport",
    "get_release",
    "list_releases",
    "publish",
    "release_file",
    "release_urls",
    "verify",
]
