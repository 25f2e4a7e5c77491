"""What the reviewer's desk and the admin's room share: who may open them, paging, links with query strings, and
labels of the values their templates show (translated here, so the templates use literal catalogue keys only).

Staff pages need a signed-in account with a staff role; without a valid session they answer 401, which sends the
person to the sign-in page and back (``pages.signin``). Their templates extend ``desk/layout.html`` (the staff
bar with the account, the areas and the sign-out form; ``css/desk.css``); they are laid out for a desk screen
(tested at 1280 × 800).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from litestar import Request
from litestar.di import Provide

from survey_platform.accounts.guards import provide_signed_in, require
from survey_platform.accounts.roles import ROLES, STAFF_ROLES
from survey_platform.accounts.service import Principal
from survey_platform.audits.compliance import SEVERITY_ORDER
from survey_platform.audits.listing import REVIEW_STATES
from survey_platform.campaigns.lifecycle import STATUSES
from survey_platform.pages.i18n import translate
from survey_platform.pages.rendering import language_of
from survey_platform.responses.quality import FLAGS
from survey_platform.responses.schemas import CHANNELS

DESK_ROLES: tuple[str, ...] = STAFF_ROLES
ADMIN_ROLES: tuple[str, ...] = ("admin",)
DESK_GUARD = require(*DESK_ROLES)
ADMIN_GUARD = require(*ADMIN_ROLES)
SIGNED_IN = {"principal": Provide(provide_signed_in)}
PAGE_SIZE = 50
VERDICTS: tuple[str, ...] = ("pass", "fail", "na")

#: the values templates show in words, by group: group → key prefix in the catalogue and the possible values
LABEL_GROUPS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "state": ("desk.state.", REVIEW_STATES),
    "status": ("staff.status.", STATUSES),
    "role": ("staff.role.", ROLES),
    "flag": ("desk.flag.", FLAGS),
    "channel": ("staff.channel.", CHANNELS),
    "severity": ("desk.severity.", SEVERITY_ORDER),
    "verdict": ("desk.verdict.", VERDICTS),
    "kind": ("campaign.kind.", ("survey", "inspection")),
}


def labels(language: str) -> dict[str, dict[str, str]]:
    """Every group of :data:`LABEL_GROUPS` translated: ``labels["state"]["returned"]`` → "已退回"."""
    return {
        group: {value: translate(language, prefix + value) for value in values}
        for group, (prefix, values) in LABEL_GROUPS.items()
    }


def when(value: datetime.datetime | None) -> str:
    """A moment as text, in UTC and saying so (``js/staff.js`` shows it in the reader's own time zone)."""
    if value is None:
        return "—"
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def staff_context(request: Request[Any, Any, Any], principal: Principal) -> dict[str, Any]:
    """What every staff template needs: who is signed in, the labels in their language, the time format."""
    return {"principal": principal, "labels": labels(language_of(request)), "when": when}


def link(path: str, query: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> str:
    """``path`` with the query parameters that have a value (None and "" are left out)."""
    pairs = query.items() if isinstance(query, Mapping) else query
    kept = [(key, str(value)) for key, value in pairs if value not in (None, "")]
    return f"{path}?{urllib.parse.urlencode(kept)}" if kept else path


@dataclasses.dataclass(frozen=True, slots=True)
class Pages:
    """Where a paged list stands: page ``number`` of ``count``, and the links to the neighbours."""

    number: int
    count: int
    total: int
    first: int  # 1-based position of the first row shown (0 when none)
    last: int
    previous: str | None
    next: str | None


def paging(path: str, query: Mapping[str, Any], total: int, page: int, size: int = PAGE_SIZE) -> Pages:
    count = max(1, math.ceil(total / size))
    first = (page - 1) * size + 1 if total else 0
    last = min(page * size, total)
    return Pages(
        number=page,
        count=count,
        total=total,
        first=first,
        last=last,
        previous=link(path, {**query, "page": page - 1}) if page > 1 else None,
        next=link(path, {**query, "page": page + 1}) if page < count else None,
    )


__all__ = [
    "ADMIN_GUARD",
    "ADMIN_ROLES",
    "DESK_GUARD",
    "DESK_ROLES",
    "LABEL_GROUPS",
    "PAGE_SIZE",
    "SIGNED_IN",
    "Pages",
    "labels",
    "link",
    "paging",
    "staff_context",
    "when",
]
