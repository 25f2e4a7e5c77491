"""The reviewer's desk (reviewers and admins): audits to review, one audit with its evidence and history, and the
queue of interviews the quality rules flagged, with each interviewer's flag rate.

Reviewers see the campaigns they are assigned to, admins all; the pages call the services the API calls
(``audits.listing``, ``audits.service``, ``responses.flagged``, ``responses.reviews``), and show their errors
beside the field they name, in the reviewer's language.
"""

from __future__ import annotations

import collections
import urllib.parse
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter, QueryParameter
from litestar.response import Redirect, Template

from survey_platform.accounts.service import Principal
from survey_platform.audits import service as audits
from survey_platform.audits.compliance import audit_compliance
from survey_platform.audits.listing import (
    REVIEW_STATES,
    AuditFilter,
    DeskAudit,
    counts_by_campaign,
    filter_choices,
    list_for_review,
    other_visits,
    visible_campaigns,
)
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.service import get_campaign, list_campaigns
from survey_platform.pages.answers import answer_rows
from survey_platform.pages.forms import FORM, FormErrors, errors_from, read_form, text, texts
from survey_platform.pages.i18n import translate
from survey_platform.pages.rendering import language_of, render
from survey_platform.pages.staff import DESK_GUARD, PAGE_SIZE, SIGNED_IN, link, paging, staff_context
from survey_platform.places.service import get_venue, list_cities, without_audits
from survey_platform.responses.flagged import (
    QualityCache,
    flagged_queue,
    interview_answers,
    reviewable_survey,
)
from survey_platform.responses.quality import FLAGS
from survey_platform.responses.reviews import decide, latest_decisions
from survey_platform.storage.errors import DomainError

CODE = Parameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,79}$")
ACTIONS = ("approve", "return", "reject")
DECISIONS = ("keep", "exclude")
LIST_FILTERS = ("campaign", "city", "category", "inspector", "state")
Text80 = Annotated[str | None, Parameter(max_length=80)]


def _catalog(request: Request[Any, Any, Any]) -> QuestionnaireCatalog:
    return request.app.state.questionnaires


async def reviewed_campaigns(principal: Principal) -> list[Campaign]:
    """The campaigns ``principal`` reviews (admins: every campaign that is not a draft)."""
    visible = await visible_campaigns(principal)
    campaigns = await list_campaigns(include_drafts=False)
    return campaigns if visible is None else [c for c in campaigns if c.id in set(visible)]


@get("/desk", name="desk", guards=[DESK_GUARD], dependencies=SIGNED_IN, include_in_schema=False)
async def desk_home(request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Template:
    """The campaigns to review: audits per review state, and the flagged interviews still to decide."""
    campaigns = await reviewed_campaigns(principal)
    counts = await counts_by_campaign([c.id for c in campaigns if c.kind == "inspection"])
    cache: QualityCache = request.app.state.quality
    flagged: dict[int, tuple[int, int] | None] = {}
    for campaign in campaigns:
        if campaign.kind == "survey":
            flags = await cache.latest(campaign)
            if flags is None:
                flagged[campaign.id] = None
            else:
                decided = set(await latest_decisions(campaign.id)) & set(flags.flagged)
                flagged[campaign.id] = (flags.flagged_count, flags.flagged_count - len(decided))
    return render(
        request,
        "desk/index.html",
        **staff_context(request, principal),
        campaigns=campaigns,
        audit_counts=counts,
        flagged=flagged,
    )


def _compliance(
    questionnaires: dict[int, Any], rows: Sequence[DeskAudit]
) -> dict[uuid.UUID, tuple[float | None, int]]:
    """Each listed audit's compliance score and number of failed checks."""
    by_version: dict[int, list[DeskAudit]] = collections.defaultdict(list)
    for row in rows:
        by_version[row.questionnaire].append(row)
    found: dict[uuid.UUID, tuple[float | None, int]] = {}
    for version, members in by_version.items():
        verdicts = audit_compliance(questionnaires[version], [m.answers for m in members])
        for member, verdict in zip(members, verdicts, strict=True):
            found[member.id] = (verdict.score, len(verdict.violated))
    return found


@get("/desk/audits", name="desk_audits", guards=[DESK_GUARD], dependencies=SIGNED_IN, include_in_schema=False)
async def audit_list(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    campaign: Text80 = None,
    city: Text80 = None,
    category: Text80 = None,
    inspector: Text80 = None,
    review_state: Annotated[
        str | None, QueryParameter(name="state", pattern="^(submitted|returned|approved|rejected)?$")
    ] = None,
    page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
    approved: Annotated[int | None, Parameter(ge=0, le=100_000)] = None,
    refused: Annotated[int | None, Parameter(ge=0, le=100_000)] = None,
) -> Template:
    """Audits by campaign, city, venue category, inspector and review state, newest first, a page at a time."""
    where = AuditFilter(
        campaign=campaign or None,
        city=city or None,
        category=category or None,
        inspector=inspector or None,
        state=review_state or None,
    )
    result = await list_for_review(principal, where, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    catalog = _catalog(request)
    questionnaires = {v: await catalog.get(v) for v in {row.questionnaire for row in result.rows}}
    query = where.as_query()
    return render(
        request,
        "desk/audits.html",
        **staff_context(request, principal),
        result=result,
        where=where,
        choices=await filter_choices(principal),
        compliance=_compliance(questionnaires, result.rows),
        pages=paging("/desk/audits", query, result.total, page),
        state_links={state: link("/desk/audits", {**query, "state": state}) for state in REVIEW_STATES},
        all_states_link=link("/desk/audits", {k: v for k, v in query.items() if k != "state"}),
        back=urllib.parse.urlencode({**query, "page": page}),
        approved=approved,
        refused=refused,
    )


@post(
    "/desk/audits/approve",
    name="desk_bulk_approve",
    guards=[DESK_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def bulk_approve(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Response[Any]:
    """Approve the audits ticked in the list (each on its own; those no longer awaiting review are counted as
    refused), then back to the same list."""
    form = await read_form(request)
    ids = []
    for value in texts(form, "audit")[:PAGE_SIZE]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    outcome = await audits.review_many(ids, "approve", "", principal)
    back = {
        key: value
        for key, value in urllib.parse.parse_qsl(text(form, "back"))
        if key in (*LIST_FILTERS, "page")
    }
    return Redirect(
        link("/desk/audits", {**back, "approved": len(outcome.done), "refused": len(outcome.refused)}),
        status_code=303,
    )


async def _audit_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    audit_id: uuid.UUID,
    *,
    errors: FormErrors | None = None,
    action: str = "",
    comment: str = "",
    done: str = "",
    status_code: int = 200,
) -> Template:
    language = language_of(request)
    detail = await audits.get_audit(audit_id, principal)
    campaign = await get_campaign(detail.campaign)
    questionnaire = await _catalog(request).get(campaign.questionnaire_version)
    (verdict,) = audit_compliance(questionnaire, [detail.answers])
    venue = without_audits(await get_venue(detail.venue))
    return render(
        request,
        "desk/audit.html",
        status_code=status_code,
        **staff_context(request, principal),
        audit=detail,
        campaign=campaign,
        venue=venue,
        verdict=verdict,
        rows=answer_rows(questionnaire, detail.answers, language, verdict.answers),
        visits=await other_visits(principal, detail.venue, audit_id),
        errors=errors or FormErrors(),
        action=action,
        comment=comment,
        done=done if done in ACTIONS else "",
    )


@get(
    "/desk/audits/{audit_id:uuid}",
    name="desk_audit",
    guards=[DESK_GUARD],
    dependencies=SIGNED_IN,
    include_in_schema=False,
)
async def audit_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    audit_id: FromPath[uuid.UUID],
    done: Annotated[str, Parameter(max_length=10)] = "",
) -> Template:
    """One audit: answers with each check's severity and legal basis, photos, position, the venue's other visits,
    the review history, and the review form."""
    return await _audit_page(request, principal, audit_id, done=done)


@post(
    "/desk/audits/{audit_id:uuid}/review",
    name="desk_audit_review",
    guards=[DESK_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def review_audit(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal], audit_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Approve, return (a comment is required) or reject (a reason is required) the audit."""
    form = await read_form(request)
    action, comment = text(form, "action", 20), text(form, "comment")
    if action not in ACTIONS:
        errors = FormErrors()
        errors.add("action", translate(language_of(request), "desk.audit.choose"))
        return await _audit_page(
            request, principal, audit_id, errors=errors, comment=comment, status_code=422
        )
    try:
        await audits.review_audit(audit_id, action, comment, principal)
    except DomainError as error:
        if error.status == 404:
            raise
        errors = errors_from(error, language_of(request), ("comment", "action"))
        return await _audit_page(
            request,
            principal,
            audit_id,
            errors=errors,
            action=action,
            comment=comment,
            status_code=error.status,
        )
    return Redirect(link(f"/desk/audits/{audit_id}", {"done": action}), status_code=303)


async def _queue_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    code: str,
    query: dict[str, Any],
    *,
    failed: tuple[str, FormErrors, str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The flagged queue; ``failed``: (response id, errors, decision, reason) of a decision to show again."""
    language = language_of(request)
    page = int(query.get("page") or 1)
    if query.get("state") not in ("pending", "decided", "all"):
        query["state"] = "pending"
    if query.get("flag") not in FLAGS:
        query["flag"] = None
    queue = await flagged_queue(
        code,
        principal,
        request.app.state.quality,
        state=query["state"],
        flag=query["flag"],
        interviewer=int(query["interviewer"]) if query.get("interviewer") else None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    campaign = await get_campaign(code)
    questionnaire = await _catalog(request).get(campaign.questionnaire_version)
    answers = await interview_answers([item.id for item in queue.items])
    cities = {city.code: city for city in await list_cities()}
    kept_query = {k: v for k, v in query.items() if k != "page" and v not in (None, "")}
    return render(
        request,
        "desk/flagged.html",
        status_code=status_code,
        **staff_context(request, principal),
        campaign=campaign,
        queue=queue,
        cities=cities,
        names={row.username: row.display_name or row.username for row in queue.interviewers if row.username},
        answers={
            str(item.id): answer_rows(questionnaire, answers.get(str(item.id), {}), language)
            for item in queue.items
        },
        query=kept_query,
        state=query["state"],
        pages=paging(f"/desk/campaigns/{code}/flagged", kept_query, queue.total, page),
        state_links={
            state: link(f"/desk/campaigns/{code}/flagged", {**kept_query, "state": state})
            for state in ("pending", "decided", "all")
        },
        back=urllib.parse.urlencode({**kept_query, "page": page}),
        failed=failed,
        done=query.get("done") if query.get("done") in DECISIONS else "",
    )


@get(
    "/desk/campaigns/{code:str}/flagged",
    name="desk_flagged",
    guards=[DESK_GUARD],
    dependencies=SIGNED_IN,
    include_in_schema=False,
)
async def flagged_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    code: Annotated[str, CODE],
    decided: Annotated[str, QueryParameter(name="state", pattern="^(pending|decided|all)?$")] = "pending",
    flag: Annotated[str | None, Parameter(pattern=f"^({'|'.join(FLAGS)})?$")] = None,
    interviewer: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None,
    page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
    done: Annotated[str, Parameter(max_length=10)] = "",
) -> Template:
    """The campaign's flagged interviews to keep or exclude, and each interviewer's flag rate."""
    query = {"state": decided, "flag": flag, "interviewer": interviewer, "page": page, "done": done}
    return await _queue_page(request, principal, code, query)


@post(
    "/desk/campaigns/{code:str}/flagged/{response_id:uuid}",
    name="desk_flagged_decide",
    guards=[DESK_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def decide_flagged(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    code: Annotated[str, CODE],
    response_id: FromPath[uuid.UUID],
) -> Response[Any]:
    """Keep or exclude one flagged interview (an exclusion needs a reason), then back to the queue."""
    await reviewable_survey(code, principal)
    form = await read_form(request)
    decision, reason = text(form, "decision", 20), text(form, "reason")
    back = {
        key: value
        for key, value in urllib.parse.parse_qsl(text(form, "back"))
        if key in ("state", "flag", "interviewer", "page") and (key in ("state", "flag") or value.isdigit())
    }
    if decision not in DECISIONS:
        errors = FormErrors()
        errors.add("decision", translate(language_of(request), "desk.flagged.choose"))
        failed = (str(response_id), errors, decision, reason)
        return await _queue_page(request, principal, code, back, failed=failed, status_code=422)
    try:
        await decide(response_id, decision, reason, principal, request.app.state.quality.flagged_ids)
    except DomainError as error:
        if error.status == 404:
            raise
        errors = errors_from(error, language_of(request), ("decision", "reason"))
        failed = (str(response_id), errors, decision, reason)
        return await _queue_page(request, principal, code, back, failed=failed, status_code=error.status)
    target = link(f"/desk/campaigns/{code}/flagged", {**back, "done": decision})
    return Redirect(f"{target}#queue", status_code=303)


ROUTES = (desk_home, audit_list, bulk_approve, audit_page, review_audit, flagged_page, decide_flagged)

__all__ = ["ROUTES", "reviewed_campaigns"]
