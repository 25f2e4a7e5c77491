"""HTTP routes of releases: publish (admin) and the public JSON API that journalists and programs read."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from survey_platform.accounts.guards import provide_signed_in, require
from survey_platform.accounts.service import Principal
from survey_platform.publishing import service
from survey_platform.publishing.model import CityDetail, InspectionResults, ProvinceResult, Rankings
from survey_platform.storage.errors import NotFound

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
RELEASE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")
CITY = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,19}$")
FILE = Parameter(pattern=r"^[a-z0-9_]{1,60}\.(csv|json|xlsx)$")


class PublishRequest(msgspec.Struct, forbid_unknown_fields=True):
    """An optional note (e.g. what a correction corrects) and, for reproducing a run, the random seed."""

    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)] | None = None


class Published(msgspec.Struct):
    release: str
    urls: dict[str, str]


class RankingsDocument(Rankings, kw_only=True):
    """A survey release's rankings: the national figure and every city (unranked cities: rank null, a reason)."""

    release: str
    campaign: str
    questionnaire: str


class InspectionsDocument(InspectionResults, kw_only=True):
    """An inspection release's results: problem rates overall, by city and category, and named businesses."""

    release: str
    campaign: str
    questionnaire: str


@post(
    "/api/v1/campaigns/{code:str}/releases",
    guards=[require("admin")],
    dependencies={"principal": Provide(provide_signed_in)},
    status_code=201,
    tags=["releases"],
)
async def publish_release(
    request: Request[Any, Any, Any],
    code: Annotated[str, CODE],
    principal: NamedDependency[Principal],
    data: JSONBody[PublishRequest | None] = None,
) -> Published:
    """Publish a release of a closed campaign (or a correction of a published one).

    Computes the results from the campaign's stored inputs and freezes them with their open-data files; the
    campaign becomes published and an earlier release of it superseded. 409 while the campaign is open, or when
    another publish of it finished first; 422 when the inputs cannot be computed (the message names the city,
    variable or category).
    """
    body = data or PublishRequest()
    stored = await service.publish(
        code, request.app.state.questionnaires, note=body.note, actor=principal, seed=body.seed
    )
    return Published(stored.meta.release, stored.meta.urls)


class ReleaseController(Controller):
    path = "/api/v1/releases"
    tags = ("releases",)

    @get("/")
    async def list_releases(
        self, campaign: Annotated[str | None, Parameter(max_length=80)] = None
    ) -> list[service.ReleaseSummary]:
        """Every release, newest first (superseded ones too, marked so)."""
        return await service.list_releases(campaign)

    @get("/{release:str}")
    async def get_release(self, release: Annotated[str, RELEASE]) -> service.ReleaseMeta:
        """A release's metadata: method settings, fingerprints (inputs, results, software version, seed), files."""
        return (await service.get_release(release)).meta

    @get("/{release:str}/rankings")
    async def rankings(self, release: Annotated[str, RELEASE]) -> RankingsDocument:
        """The rankings of a survey release: national figure and every city with interval, rank and rank set."""
        stored = await service.get_release(release)
        if stored.results.rankings is None:
            raise NotFound(f"发布 {release} 没有排名 / release {release!r} has no rankings (not a survey)")
        return RankingsDocument(
            **msgspec.structs.asdict(stored.results.rankings),
            release=release,
            campaign=stored.meta.campaign,
            questionnaire=f"{stored.meta.questionnaire}@{stored.meta.questionnaire_version}",
        )

    @get("/{release:str}/cities/{city:str}")
    async def city(self, release: Annotated[str, RELEASE], city: Annotated[str, CITY]) -> CityDetail:
        """One city of a survey release: every dimension and indicator against the national figure, drivers,
        robustness of its rank, sample composition and exclusions."""
        detail = (await service.get_release(release)).results.city(city)
        if detail is not None:
            return detail
        raise NotFound(f"发布 {release} 中没有城市 {city} / release {release!r} has no city {city!r}")

    @get("/{release:str}/provinces/{province:str}")
    async def province(
        self, release: Annotated[str, RELEASE], province: Annotated[str, Parameter(max_length=100)]
    ) -> ProvinceResult:
        """One province of a survey release: its population-weighted figure and its standing among provinces."""
        result = (await service.get_release(release)).results.province(province)
        if result is not None:
            return result
        raise NotFound(
            f"发布 {release} 中没有省份 {province} / release {release!r} has no province {province!r}"
        )

    @get("/{release:str}/inspections")
    async def inspections(self, release: Annotated[str, RELEASE]) -> InspectionsDocument:
        """The results of an inspection release: problem rates with intervals and the named problem businesses."""
        stored = await service.get_release(release)
        if stored.results.inspections is None:
            raise NotFound(f"发布 {release} 不是检查结果 / release {release!r} has no inspection results")
        return InspectionsDocument(
            **msgspec.structs.asdict(stored.results.inspections),
            release=release,
            campaign=stored.meta.campaign,
            questionnaire=f"{stored.meta.questionnaire}@{stored.meta.questionnaire_version}",
        )

    @get("/{release:str}/files")
    async def files(self, release: Annotated[str, RELEASE]) -> list[service.ReleaseFileInfo]:
        """The open-data files of a release (CSV, XLSX, JSON and the Frictionless datapackage.json)."""
        return (await service.get_release(release)).meta.files

    @get("/{release:str}/files/{name:str}", media_type="application/octet-stream")
    async def file(self, release: Annotated[str, RELEASE], name: Annotated[str, FILE]) -> Response[bytes]:
        """One open-data file of a release."""
        media_type, content = await service.release_file(release, name)
        return Response(
            content,
            media_type=media_type,
            headers={
                "content-disposition": f'attachment; filename="{release}-{name}"',
                "cache-control": "public, max-age=3600",
            },
        )


ROUTES = (publish_release, ReleaseController)
