"""Review states of an audit (pure): submitted → approved / returned (with a comment) / rejected."""

from __future__ import annotations

REVIEW_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # action: (states it may start from, resulting state)
    "approve": (("submitted",), "approved"),
    "return": (("submitted",), "returned"),
    "reject": (("submitted",), "rejected"),
    "resubmit": (("returned",), "submitted"),
}


#: why a return or a rejection needs a comment, by action (the message of :class:`CommentRequired`)
COMMENT_REQUIRED: dict[str, str] = {
    "return": "退回须说明需要修改什么 / a return needs a comment telling the inspector what to fix",
    "reject": "驳回须说明理由 / a rejection needs a reason",
}


class ReviewError(ValueError):
    """The action is not allowed in the audit's current state."""


class CommentRequired(ReviewError):
    """A return or a rejection without the comment that tells the inspector why (invalid input, not a state)."""


def next_review_state(current: str, action: str, comment: str) -> str:
    if action not in REVIEW_ACTIONS:
        raise ReviewError(f"未知操作 / unknown action {action!r}")
    allowed, new = REVIEW_ACTIONS[action]
    if current not in allowed:
        raise ReviewError(f"审核状态为 {current}，不能 {action} / cannot {action} an audit that is {current}")
    if action in ("return", "reject") and not comment.strip():
        raise CommentRequired(COMMENT_REQUIRED[action])
    return new
