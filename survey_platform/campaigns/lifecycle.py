"""Campaign status transitions and what each status allows (pure): draft → open → closed → published.

- open: field staff and citizens submit; reviewers review; inspectors correct returned audits.
- closed: nothing new comes in, but reviewers still decide and inspectors still correct audits returned to them.
- published: frozen — nothing of the campaign changes any more (a correction is a new release).
"""

from __future__ import annotations

STATUSES: tuple[str, ...] = ("draft", "open", "closed", "published")

TRANSITIONS: dict[str, tuple[str, str]] = {
    # action: (required current status, new status)
    "open": ("draft", "open"),
    "close": ("open", "closed"),
}
# closed → published happens only by publishing a release (survey_platform.publishing.service.publish)


class TransitionError(ValueError):
    """The action is not allowed from the campaign's current status."""


def next_status(current: str, action: str) -> str:
    """The status after ``action``; raises :class:`TransitionError` naming the allowed starting status."""
    if action not in TRANSITIONS:
        raise TransitionError(
            f"未知操作 / unknown action {action!r}; expected one of {', '.join(TRANSITIONS)}"
        )
    required, new = TRANSITIONS[action]
    if current != required:
        raise TransitionError(
            f"活动状态为 {current}，不能执行 {action} / cannot {action} a campaign that is {current} "
            f"(only a {required} campaign can be {new})"
        )
    return new


SUBMITTING_STATUS = "open"  # the one status in which responses and audits come in


def accepts_submissions(status: str) -> bool:
    return status == SUBMITTING_STATUS


def accepts_reviews(status: str) -> bool:
    """Reviews, corrections of returned audits and reviewers' decisions on flagged interviews."""
    return status in ("open", "closed")


def accepts_publish(status: str) -> bool:
    """A closed campaign is published; a published one may get a correction (a new release)."""
    return status in ("closed", "published")


def frozen_message(code: str, status: str) -> str:
    """Why a change to a campaign in ``status`` is refused (409)."""
    if status == "published":
        return (
            f"活动已发布，内容不能再更改 / campaign {code!r} is published: nothing of it can change any more"
        )
    return f"活动状态为 {status}，不能更改 / campaign {code!r} is {status}: this change is not possible now"


def is_editable(status: str) -> bool:
    return status == "draft"
