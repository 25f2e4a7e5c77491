"""HTTP routes of the field app: ``/api/v1/field/...`` (signed-in interviewers, inspectors and admins)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from survey_platform.accounts.guards import provide_signed_in, require
from survey_platform.accounts.roles import FIELD_ROLES
from survey_platform.accounts.service import Principal
from survey_platform.field import service
from survey_platform.field.schemas import FieldAssignments, FieldVenue, FollowUp, NewVenue
from survey_platform.openapi.operations import PROBLEMS_OPT

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
ID = Parameter(ge=1, le=2**31 - 1)
FIELD_APP_ROLES = (*FIELD_ROLES, "admin")
INSPECTORS = ("inspector", "admin")


class FieldController(Controller):
    path = "/api/v1/field"
    tags = ("field",)
    dependencies = {"principal": Provide(provide_signed_in)}  # noqa: RUF012

    @get("/assignments", guards=[require(*FIELD_APP_ROLES)])
    async def get_assignments(self, principal: NamedDependency[Principal]) -> FieldAssignments:
        """What the signed-in field account works on: its open campaigns, and closed ones with audits returned to
        it, each with kind, questionnaire version, cities and (inspections) where its venue list is.

        Interviewers see the survey campaigns and inspectors the inspection campaigns they are assigned to;
        admins every open campaign. The field app keeps the answer, the questionnaires and the venue lists on the
        phone so that it works offline.
        """
        return await service.assignments(principal)

    @get(
        "/campaigns/{code:str}/venues",
        guards=[require(*INSPECTORS)],
        opt={PROBLEMS_OPT: {409: "不是检查活动 / not an inspection campaign"}},
    )
    async def get_campaign_venues(
        self, code: Annotated[str, CODE], principal: NamedDependency[Principal]
    ) -> list[FieldVenue]:
        """The venues an inspection campaign covers (its venue list, else the venues of its cities, else all),
        each with its position and latest approved visit, for the inspector's phone to search offline
        (by name, or nearby by GPS). Assigned inspectors and admins."""
        return await service.campaign_venues(code, principal)

    @post("/venues", guards=[require(*INSPECTORS)])
    async def add_venue(
        self, data: JSONBody[NewVenue], principal: NamedDependency[Principal]
    ) -> Response[FieldVenue]:
        """Register a venue an inspector added in the field: 201 created, 200 when ``client_id`` was registered
        before with the same data (a re-send after a lost reply creates nothing), 409 when it names another venue
        or the campaign is not open. A campaign with a venue list gets the venue added to it."""
        created, venue = await service.add_field_venue(data, principal)
        return Response(venue, status_code=201 if created else 200)

    @get("/venues/{venue_id:int}/last-audit", guards=[require(*INSPECTORS)])
    async def get_follow_up(
        self,
        request: Request[Any, Any, Any],
        venue_id: Annotated[int, ID],
        principal: NamedDependency[Principal],
    ) -> FollowUp:
        """The latest approved audit of a venue, from which a follow-up visit (回头看) starts: its answers and
        failed checks. Inspectors assigned to an inspection campaign that covers the venue, and admins; 404 when
        the venue has no approved audit."""
        return await service.follow_up(venue_id, principal, request.app.state.questionnaires)
