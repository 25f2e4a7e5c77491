"""HTTP routes for campaigns: anyone reads non-draft campaigns; admins create, edit and move them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from survey_platform.accounts.guards import provide_principal, require
from survey_platform.accounts.service import Principal
from survey_platform.campaigns import service
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import (
    Campaign,
    CampaignChange,
    CampaignIn,
    QuestionnaireVersionDetail,
    QuestionnaireVersionSummary,
)

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
STAFF = ("admin", "reviewer")


class CampaignController(Controller):
    path = "/api/v1/campaigns"
    tags = ("campaigns",)
    dependencies = {"principal": Provide(provide_principal)}  # noqa: RUF012

    @get("/")
    async def list_campaigns(self, principal: NamedDependency[Principal | None]) -> list[Campaign]:
        """Open, closed and published campaigns; staff also see drafts."""
        return await service.list_campaigns(include_drafts=principal is not None and principal.role in STAFF)

    @get("/{code:str}")
    async def get_campaign(
        self, code: Annotated[str, CODE], principal: NamedDependency[Principal | None]
    ) -> Campaign:
        return await service.get_campaign(
            code, include_drafts=principal is not None and principal.role in STAFF
        )

    @post("/", guards=[require("admin")])
    async def create_campaign(
        self, data: JSONBody[CampaignIn], principal: NamedDependency[Principal | None]
    ) -> Campaign:
        return await service.create_campaign(data, principal)

    @patch("/{code:str}", guards=[require("admin")])
    async def update_campaign(
        self,
        code: Annotated[str, CODE],
        data: JSONBody[CampaignChange],
        principal: NamedDependency[Principal | None],
    ) -> Campaign:
        return await service.update_campaign(code, data, principal)

    @post("/{code:str}/open", guards=[require("admin")], status_code=200)
    async def open_campaign(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str, CODE],
        principal: NamedDependency[Principal | None],
    ) -> Campaign:
        return await _transition(request, code, "open", principal)

    @post("/{code:str}/close", guards=[require("admin")], status_code=200)
    async def close_campaign(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str, CODE],
        principal: NamedDependency[Principal | None],
    ) -> Campaign:
        return await _transition(request, code, "close", principal)

    @post("/{code:str}/publish", guards=[require("admin")], status_code=200)
    async def publish_campaign(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str, CODE],
        principal: NamedDependency[Principal | None],
    ) -> Campaign:
        return await _transition(request, code, "publish", principal)


async def _transition(
    request: Request[Any, Any, Any], code: str, action: str, principal: Principal | None
) -> Campaign:
    """Move a campaign to its next status and drop the ingestor's cached view of it, so submissions see it now."""
    campaign = await service.transition(code, action, principal)
    request.app.state.ingestor.forget(code)
    return campaign


class QuestionnaireController(Controller):
    path = "/api/v1/questionnaires"
    tags = ("questionnaires",)

    @get("/")
    async def list_versions(
        self,
        request: Request[Any, Any, Any],
        questionnaire: Annotated[str | None, Parameter(max_length=100)] = None,
    ) -> list[QuestionnaireVersionSummary]:
        """Registered questionnaire versions (every distinct file content is one version)."""
        catalog: QuestionnaireCatalog = request.app.state.questionnaires
        return await catalog.list_versions(questionnaire)

    @get("/{version_id:int}")
    async def get_version(
        self, request: Request[Any, Any, Any], version_id: Annotated[int, Parameter(ge=1, le=2**31 - 1)]
    ) -> QuestionnaireVersionDetail:
        """One version: its YAML source and the client form with compiled expressions."""
        catalog: QuestionnaireCatalog = request.app.state.questionnaires
        return await catalog.detail(version_id)
