"""Platform roles and what each may do with a campaign (pure: one definition used by guards and services)."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["admin", "reviewer", "inspector", "interviewer"]
ROLES: tuple[str, ...] = get_args(Role)

# Who submits a campaign's items from the field: interviewers make survey interviews, inspectors make audits.
SUBMITTER_ROLE: dict[str, str] = {"survey": "interviewer", "inspection": "inspector"}
# The roles an account may be assigned to a campaign in, by the campaign's kind.
ASSIGNABLE_ROLES: dict[str, tuple[str, ...]] = {
    "survey": ("interviewer", "reviewer"),
    "inspection": ("inspector", "reviewer"),
}
# Accounts that submit from the field (responses they send are recorded as street-intercept interviews).
FIELD_ROLES: tuple[str, ...] = ("interviewer", "inspector")
STAFF_ROLES: tuple[str, ...] = ("admin", "reviewer")

ROLE_NAMES: dict[str, str] = {
    "admin": "管理员 / admin",
    "reviewer": "审核员 / reviewer",
    "inspector": "检查员 / inspector",
    "interviewer": "访员 / interviewer",
}
