"""Review states of an audit (pure): submitted → approved / returned (with a comment) / rejected."""

from __future__ import annotations

REVIEW_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # action: (states it may start from, resulting state)
    "approve": (("submitted",), "approved"),
    "return": (("submitted",), "returned"),
    "reject": (("submitted",), "rejected"),
    "resubmit": (("returned",), "submitted"),
}


class ReviewError(ValueError):
    """The action is not allowed in the audit's current state (or lacks its comment)."""


def next_review_state(current: str, action: str, comment: str) -> str:
    if action not in REVIEW_ACTIONS:
        raise ReviewError(f"未知操作 / unknown action {action!r}")
    allowed, new = REVIEW_ACTIONS[action]
    if current not in allowed:
        raise ReviewError(f"审核状态为 {current}，不能 {action} / cannot {action} an audit that is {current}")
    if action in ("return", "reject") and not comment.strip():
        raise ReviewError(f"{action} 需要说明 / {action} needs a comment for the inspector")
    return new
