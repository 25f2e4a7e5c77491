"""Campaign status transitions (pure): draft → open → closed → published."""

from __future__ import annotations

STATUSES: tuple[str, ...] = ("draft", "open", "closed", "published")

TRANSITIONS: dict[str, tuple[str, str]] = {
    # action: (required current status, new status)
    "open": ("draft", "open"),
    "close": ("open", "closed"),
    "publish": ("closed", "published"),
}


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


def accepts_submissions(status: str) -> bool:
    return status == "open"


def is_editable(status: str) -> bool:
    return status == "draft"
