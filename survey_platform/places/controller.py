"""HTTP routes for cities and venues (anyone may read; admins change)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from survey_platform.accounts.guards import provide_principal, provide_signed_in, require
from survey_platform.accounts.service import Principal
from survey_platform.openapi.operations import PROBLEMS_OPT
from survey_platform.places import service
from survey_platform.places.schemas import City, CityIn, Venue, VenueIn

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,19}$")
ID = Parameter(ge=1, le=2**31 - 1)
NO_CONFLICT = {PROBLEMS_OPT: {409: None}}  # nothing unique to collide with, no status to meet


class CityController(Controller):
    path = "/api/v1/cities"
    tags = ("places",)
    dependencies = {"principal": Provide(provide_signed_in)}  # noqa: RUF012

    @get("/")
    async def list_cities(self) -> list[City]:
        return await service.list_cities()

    @get("/{code:str}")
    async def get_city(self, code: Annotated[str, CODE]) -> City:
        return await service.get_city(code)

    @post("/", guards=[require("admin")])
    async def create_city(
        self, request: Request[Any, Any, Any], data: JSONBody[CityIn], principal: NamedDependency[Principal]
    ) -> City:
        """Add a city (admin). Margins must fit the registered survey questionnaires' weighting variables."""
        return await service.create_city(data, request.app.state.questionnaires, principal)

    @put("/{code:str}", guards=[require("admin")], opt=NO_CONFLICT)
    async def update_city(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str, CODE],
        data: JSONBody[CityIn],
        principal: NamedDependency[Principal],
    ) -> City:
        """Replace a city's data (admin); the code cannot change. Margins are checked as on creation."""
        return await service.update_city(code, data, request.app.state.questionnaires, principal)


class VenueController(Controller):
    path = "/api/v1/venues"
    tags = ("places",)
    dependencies = {"principal": Provide(provide_signed_in)}  # noqa: RUF012

    @get("/", dependencies={"viewer": Provide(provide_principal)})
    async def list_venues(
        self,
        viewer: NamedDependency[Principal | None],
        city: Annotated[str | None, Parameter(max_length=20)] = None,
        category: Annotated[str | None, Parameter(max_length=60)] = None,
        limit: Annotated[int, Parameter(ge=1, le=5000)] = 1000,
        offset: Annotated[int, Parameter(ge=0, le=10**9)] = 0,
    ) -> list[Venue]:
        """Venues (anyone; audit ids in the visit history only for admins, reviewers and inspectors)."""
        venues = await service.list_venues(city, category, limit, offset)
        return venues if service.sees_audits(viewer) else [service.without_audits(v) for v in venues]

    @get("/{venue_id:int}", dependencies={"viewer": Provide(provide_principal)})
    async def get_venue(
        self, venue_id: Annotated[int, ID], viewer: NamedDependency[Principal | None]
    ) -> Venue:
        """One venue with its visit history (audit ids only for admins, reviewers and inspectors)."""
        venue = await service.get_venue(venue_id)
        return venue if service.sees_audits(viewer) else service.without_audits(venue)

    @post("/", guards=[require("admin")], opt=NO_CONFLICT)
    async def create_venue(self, data: JSONBody[VenueIn], principal: NamedDependency[Principal]) -> Venue:
        return await service.create_venue(data, principal)

    @put("/{venue_id:int}", guards=[require("admin")], opt=NO_CONFLICT)
    async def update_venue(
        self, venue_id: Annotated[int, ID], data: JSONBody[VenueIn], principal: NamedDependency[Principal]
    ) -> Venue:
        return await service.update_venue(venue_id, data, principal)
