"""A problem found in a questionnaire file, reported as ``PATH:LINE:COLUMN: error: MESSAGE``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One author error at a 1-based line and column of a file (line 0 means "the file as a whole")."""

    path: str
    line: int
    column: int
    message: str

    def format(self) -> str:
        """The compiler-style line: ``PATH:LINE:COLUMN: error: MESSAGE`` (``PATH: error: MESSAGE`` without a line)."""
        if self.line <= 0:
            return f"{self.path}: error: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: error: {self.message}"


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Problems in source order, without exact duplicates."""
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.column, p.message))
