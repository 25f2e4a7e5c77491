"""Who works on a campaign: interviewers (surveys) and inspectors (inspections) submit to it, reviewers review it.

An account is assigned in its own role; which roles fit depends on the campaign's kind
(``accounts.roles.ASSIGNABLE_ROLES``): inspectors cannot be assigned to a survey campaign, nor interviewers to an
inspection. Admins need no assignment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from survey_platform.accounts.roles import ASSIGNABLE_ROLES, ROLE_NAMES, SUBMITTER_ROLE
from survey_platform.accounts.service import Account, Principal, accounts_by_id
from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.service import get_campaign
from survey_platform.storage import audit_log
from survey_platform.storage.database import write_transaction
from survey_platform.storage.errors import FieldProblem, Forbidden, InvalidInput
from survey_platform.storage.tables import CampaignAssignment

ROLE_FIELDS: dict[str, str] = {
    "interviewer": "interviewers",
    "inspector": "inspectors",
    "reviewer": "reviewers",
}


def assignment_problems(
    campaign: Campaign, role: str, accounts: Mapping[int, Account], wanted: list[int]
) -> list[FieldProblem]:
    """Why ``wanted`` cannot be assigned to ``campaign`` in ``role`` (pure; ``accounts``: the ones that exist)."""
    if role not in ROLE_FIELDS:
        return [
            FieldProblem(
                "$.role",
                "enum",
                f"应为 {'、'.join(ROLE_FIELDS)} 之一 / expected one of {', '.join(ROLE_FIELDS)}, not {role!r}",
            )
        ]
    field = ROLE_FIELDS[role]
    allowed = ASSIGNABLE_ROLES.get(campaign.kind, ())
    if role not in allowed:
        kind = "调查 / survey" if campaign.kind == "survey" else "检查 / inspection"
        return [
            FieldProblem(
                f"$.{field}",
                "role",
                f"{ROLE_NAMES[role]} 不能分配到{kind}活动 {campaign.code!r}; only "
                f"{', '.join(ROLE_NAMES[r] for r in allowed)}",
            )
        ]
    problems: list[FieldProblem] = []
    for index, account_id in enumerate(wanted):
        path = f"$.{field}[{index}]"
        account = accounts.get(account_id)
        if account is None:
            problems.append(
                FieldProblem(
                    path, "unknown", f"账户 {account_id} 不存在 / account {account_id} does not exist"
                )
            )
        elif account.role != role:
            problems.append(
                FieldProblem(
                    path,
                    "role",
                    f"账户 {account_id}（{account.username}）是{ROLE_NAMES[account.role]}，不是{ROLE_NAMES[role]} / "
                    f"account {account_id} ({account.username}) has the role {account.role}, not {role}",
                )
            )
        elif not account.active:
            problems.append(
                FieldProblem(
                    path, "inactive", f"账户 {account_id} 已停用 / account {account_id} is deactivated"
                )
            )
    return problems


async def assign(
    campaign_code: str, role: str, account_ids: Iterable[int], actor: Principal | None = None
) -> list[int]:
    """Replace the campaign's accounts in ``role`` with ``account_ids`` (each must exist and have that role)."""
    campaign = await get_campaign(campaign_code)
    wanted = sorted(set(account_ids))
    problems = assignment_problems(campaign, role, await accounts_by_id(wanted), wanted)
    if problems:
        raise InvalidInput("分配无效 / invalid assignment", tuple(problems))
    field = ROLE_FIELDS[role]
    async with write_transaction(CampaignAssignment._meta.db):
        # the role's accounts go, and so does any left-over row of the wanted accounts (one row per account)
        await (
            CampaignAssignment.delete()
            .where(
                (CampaignAssignment.campaign == campaign.id)
                & ((CampaignAssignment.role == role) | CampaignAssignment.account.is_in(wanted or [0]))
            )
            .run()
        )
        if wanted:
            await CampaignAssignment.insert(
                *(CampaignAssignment(campaign=campaign.id, account=uid, role=role) for uid in wanted)
            ).run()
    await audit_log.record(
        actor_id=actor.user_id if actor else None,
        actor=actor.username if actor else "system",
        action=f"campaign.assign_{field}",
        entity="campaign",
        entity_id=campaign_code,
        detail={field: wanted},
    )
    return wanted


async def assigned(campaign_code: str, role: str) -> list[int]:
    """The ids of the accounts assigned to the campaign in ``role``."""
    campaign = await get_campaign(campaign_code)
    rows = (
        await CampaignAssignment.select(CampaignAssignment.account)
        .where((CampaignAssignment.campaign == campaign.id) & (CampaignAssignment.role == role))
        .run()
    )
    return sorted(row["account"] for row in rows)


async def is_assigned(campaign_id: int, principal: Principal) -> bool:
    """Whether ``principal`` is assigned to the campaign in the role the account has now."""
    return await (
        CampaignAssignment.exists()
        .where(
            (CampaignAssignment.campaign == campaign_id)
            & (CampaignAssignment.account == principal.user_id)
            & (CampaignAssignment.role == principal.role)
        )
        .run()
    )


async def assigned_campaign_ids(principal: Principal) -> set[int]:
    """The campaigns ``principal`` is assigned to, in the role the account has now (an assignment made under
    another role, before a role change, gives nothing)."""
    rows = (
        await CampaignAssignment.select(CampaignAssignment.campaign)
        .where(
            (CampaignAssignment.account == principal.user_id) & (CampaignAssignment.role == principal.role)
        )
        .run()
    )
    return {row["campaign"] for row in rows}


async def reviewed_campaign_ids(principal: Principal) -> list[int] | None:
    """The campaigns whose audits and interviews ``principal`` reviews: None for an admin (all of them), the
    assigned ones for a reviewer, none for anyone else. The one definition behind every review listing."""
    if principal.role == "admin":
        return None
    if principal.role != "reviewer":
        return []
    return sorted(await assigned_campaign_ids(principal))


async def require_submitter(campaign_id: int, campaign_code: str, kind: str, principal: Principal) -> None:
    """Refuse (403) a field submission by an account that may not submit to this campaign.

    Admins may submit to any campaign; interviewers to survey campaigns and inspectors to inspection campaigns they
    are assigned to; nobody else.
    """
    if principal.role == "admin":
        return
    if principal.role != SUBMITTER_ROLE.get(kind):
        raise Forbidden(
            f"{ROLE_NAMES.get(principal.role, principal.role)} 不能向本活动提交 / the role {principal.role} cannot submit "
            f"to the {kind} campaign {campaign_code!r}"
        )
    if not await is_assigned(campaign_id, principal):
        raise Forbidden(f"未被分配到本活动 / you are not assigned to campaign {campaign_code!r}")


async def may_review(campaign_id: int, principal: Principal) -> bool:
    """Admins review everything; reviewers the campaigns they are assigned to."""
    if principal.role == "admin":
        return True
    return principal.role == "reviewer" and await is_assigned(campaign_id, principal)


__all__ = [
    "ROLE_FIELDS",
    "assign",
    "assigned",
    "assigned_campaign_ids",
    "assignment_problems",
    "is_assigned",
    "may_review",
    "require_submitter",
    "reviewed_campaign_ids",
]
