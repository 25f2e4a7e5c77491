"""Password policy (pure): at least 10 characters, at most 128, and not a common or guessable password.

"Common" follows NIST SP 800-63B §5.1.1.2 (compare new passwords against values known to be commonly used, expected
or compromised): a list of the most frequent passwords in published leak studies that are 10 or more characters long
(shorter ones already fail the length rule), including the patterns most used in China (5201314, woaini, 1qaz2wsx…);
the common base words below with digits or punctuation around them; one repeated character; runs of consecutive
digits, letters or keyboard keys; and passwords that contain the account's user name. No composition rules (NIST
advises against them).
"""

from __future__ import annotations

import re
from pathlib import Path

MIN_LENGTH = 10
MAX_LENGTH = 128  # Piccolo's BaseUser limit (PBKDF2 cost grows with length)

COMMON: frozenset[str] = frozenset(
    line.strip()
    for line in (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
BASE_WORDS: tuple[str, ...] = (
    "password",
    "passw0rd",
    "p@ssw0rd",
    "qwerty",
    "admin",
    "welcome",
    "iloveyou",
    "woaini",
    "letmein",
    "changeme",
    "default",
    "survey",
    "dragon",
    "monkey",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "superman",
    "master",
    "shadow",
    "abc",
    "test",
)
SEQUENCES: tuple[str, ...] = (
    "01234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb",
)
_PADDING = re.compile(r"^[\d\W_]*(?P<core>.*?)[\d\W_]*$", re.DOTALL)


def _is_run(text: str) -> bool:
    """A stretch of consecutive keys or characters (either direction) from one of :data:`SEQUENCES`."""
    for sequence in SEQUENCES:
        for candidate in (sequence, sequence[::-1]):
            if text in candidate * 3:
                return True
    return False


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is refused (bilingual), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符 / the password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 个字符 / the password may have at most {MAX_LENGTH} characters"
    lowered = password.lower()
    core = _PADDING.match(lowered).group("core")  # type: ignore[union-attr]
    if (
        lowered in COMMON
        or core in BASE_WORDS
        or len(set(lowered)) == 1
        or _is_run(lowered)
        or (core and _is_run(core) and len(core) >= 6)
    ):
        return "这是常见或易猜的密码 / this is a common or easily guessed password"
    if username and len(username) >= 3 and username.lower() in lowered:
        return "密码不能包含用户名 / the password must not contain the user name"
    return None


__all__ = ["MAX_LENGTH", "MIN_LENGTH", "password_problem"]
