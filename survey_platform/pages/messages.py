"""The services' bilingual messages (``"中文 / English"``) in one language, for pages.

Every message a service raises is written ``"中文 / English"`` (the API sends both). A page shows the part in the
visitor's language: the text is cut at the separator whose right side is the English sentence, i.e. has no Chinese
outside quoted values and is not much shorter than the left side (messages also hold bilingual fragments such as
``"管理员 / admin"``, whose separators do not qualify). A message that cannot be cut is shown whole.
"""

from __future__ import annotations

import re

SEPARATOR = " / "
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def _has_cjk(text: str) -> bool:
    return bool(_CJK.search(_QUOTED.sub("", text)))


def split_message(message: str) -> tuple[str, str] | None:
    """(Chinese, English) parts of a bilingual message, or None when it has no clean cut (pure)."""
    start = 0
    while (at := message.find(SEPARATOR, start)) != -1:
        left, right = message[:at].strip(), message[at + len(SEPARATOR) :].strip()
        if _has_cjk(left) and right and not _has_cjk(right) and len(right) * 2 >= len(left):
            return left, right
        start = at + 1
    return None


def localise(message: str, language: str) -> str:
    """The part of ``message`` in ``language`` (``zh-CN`` or ``en``); the whole message when it cannot be cut."""
    parts = split_message(message)
    if parts is None:
        return message
    return parts[0] if language == "zh-CN" else parts[1]


__all__ = ["localise", "split_message"]
