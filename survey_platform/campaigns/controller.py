"""HTTP routes for campaigns: anyone reads non-draft campaigns; admins create, edit and move them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, Parameter

from survey_platform.accounts.guards import provide_principal, require
from survey_platform.accounts.roles import STAFF_ROLES
from survey_platform.accounts.service import Principal
from survey_platform.campaigns import assignments, service
from survey_platform.campaigns.progress import Progress, campaign_progress
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import (
    Campaign,
    CampaignChange,
    CampaignIn,
    InspectorAssignment,
    InterviewerAssignment,
    QuestionnaireVersionDetail,
    QuestionnaireVersionSummary,
    ReviewerAssignment,
)

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")


class CampaignController(Controller):
    path = "/api/v1/campaigns"
    tags = ("campaigns",)
    dependencies = {"principal": Provide(provide_principal)}  # noqa: RUF012

    @get("/")
    async def list_campaigns(self, principal: NamedDependency[Principal | None]) -> list[Campaign]:
        """Open, closed and published campaigns; staff also see drafts."""
        return await service.list_campaigns(
            include_drafts=principal is not None and principal.role in STAFF_ROLES
        )

    @get("/{code:str}")
    async def get_campaign(
        self, code: Annotated[str, CODE], principal: NamedDependency[Principal | None]
    ) -> Campaign:
        return await service.get_campaign(
            code, include_drafts=principal is not None and principal.role in STAFF_ROLES
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
        return await transition_now(request, code, "open", principal)

    @post("/{code:str}/close", guards=[require("admin")], status_code=200)
    async def close_campaign(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str, CODE],
        principal: NamedDependency[Principal | None],
    ) -> Campaign:
        return await transition_now(request, code, "close", principal)

    @get("/{code:str}/progress", guards=[require("admin")])
    async def progress(self, request: Request[Any, Any, Any], code: Annotated[str, CODE]) -> Progress:
        """Field progress (admin): valid interviews per city against the minimum sample, by channel and by
        interviewer; flagged (as of the last computation of the quality rules, ``quality.computed_at``) and
        excluded interviews; audits per review state and per inspector; the last submission."""
        return await campaign_progress(code, request.app.state.quality)

    @put("/{code:str}/interviewers", guards=[require("admin")])
    async def assign_interviewers(
        self,
        code: Annotated[str, CODE],
        data: JSONBody[InterviewerAssignment],
        principal: NamedDependency[Principal | None],
    ) -> InterviewerAssignment:
        """Replace a survey campaign's interviewers (accounts with the interviewer role)."""
        assert principal is not None
        return InterviewerAssignment(
            await assignments.assign(code, "interviewer", data.interviewers, principal)
        )

    @get("/{code:str}/interviewers", guards=[require(*STAFF_ROLES)])
    async def list_interviewers(self, code: Annotated[str, CODE]) -> InterviewerAssignment:
        """The interviewers assigned to a survey campaign."""
        return InterviewerAssignment(await assignments.assigned(code, "interviewer"))

    @put("/{code:str}/inspectors", guards=[require("admin")])
    async def assign_inspectors(
        self,
        code: Annotated[str, CODE],
        data: JSONBody[InspectorAssignment],
        principal: NamedDependency[Principal | None],
    ) -> InspectorAssignment:
        """Replace an inspection campaign's inspectors (accounts with the inspector role)."""
        assert principal is not None
        return InspectorAssignment(await assignments.assign(code, "inspector", data.inspectors, principal))

    @get("/{code:str}/inspectors", guards=[require(*STAFF_ROLES)])
    async def list_inspectors(self, code: Annotated[str, CODE]) -> InspectorAssignment:
        """The inspectors assigned to an inspection campaign."""
        return InspectorAssignment(await assignments.assigned(code, "inspector"))

    @put("/{code:str}/reviewers", guards=[require("admin")])
    async def assign_reviewers(
        self,
        code: Annotated[str, CODE],
        data: JSONBody[ReviewerAssignment],
        principal: NamedDependency[Principal | None],
    ) -> ReviewerAssignment:
        """Replace a campaign's reviewers (they review its audits and flagged interviews)."""
        assert principal is not None
        return ReviewerAssignment(await assignments.assign(code, "reviewer", data.reviewers, principal))

    @get("/{code:str}/reviewers", guards=[require(*STAFF_ROLES)])
    async def list_reviewers(self, code: Annotated[str, CODE]) -> ReviewerAssignment:
        """The reviewers assigned to a campaign."""
        return ReviewerAssignment(await assignments.assigned(code, "reviewer"))


async def transition_now(
    request: Request[Any, Any, Any], code: str, action: str, principal: Principal | None
) -> Campaign:
    """Move a campaign to its next status and drop the cached views of it, so submissions and pages see it now
    (the API and the admin's room both move campaigns through here)."""
    campaign = await service.transition(code, action, principal)
    request.app.state.ingestor.forget(code)
    request.app.state.recent.forget("campaign", code)
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
