"""Load questionnaire files: YAML text → positions-aware reading → typed model, or the list of problems.

Author errors never raise: :func:`load_questionnaire` returns a :class:`LoadResult` with either the questionnaire or
every problem found, sorted by position. ``content_hash`` is the SHA-256 of the file's bytes as stored (so any
edit, even a comment, needs a new version once published).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .build import Builder
from .model import Questionnaire
from .problems import Problem, sort_problems
from .read import Obj, Reader
from .yamlsrc import YamlSyntaxError, compose

MAX_FILE_BYTES = 2_000_000
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The questionnaire (None when there are problems) and the problems, sorted by position."""

    questionnaire: Questionnaire | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.questionnaire is not None and not self.problems


def load_text(text: str, path: str = "<string>", content_hash: str | None = None) -> LoadResult:
    """Load a questionnaire from YAML text (``path`` is only used in problems)."""
    if content_hash is None:
        content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        node = compose(text)
    except YamlSyntaxError as exc:
        return LoadResult(None, [Problem(path, exc.line, exc.column, exc.message)])
    if node is None:
        return LoadResult(None, [Problem(path, 1, 1, "the file is empty: a questionnaire is a mapping")])
    reader = Reader(path, text)
    root = reader.object(node, "questionnaire")
    questionnaire = None
    if isinstance(root, Obj):
        questionnaire = Builder(reader, root, content_hash).build()
    problems = sort_problems(reader.problems)
    return LoadResult(None if problems else questionnaire, problems)


def load_questionnaire(path: str | os.PathLike[str]) -> LoadResult:
    """Load one file; unreadable files, oversized files and non-UTF-8 text are problems too."""
    shown = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return LoadResult(None, [Problem(shown, 0, 0, "no such file")])
    except IsADirectoryError:
        return LoadResult(None, [Problem(shown, 0, 0, "is a directory (give a file)")])
    except OSError as exc:
        return LoadResult(None, [Problem(shown, 0, 0, f"cannot read: {exc.strerror or exc}")])
    if len(data) > MAX_FILE_BYTES:
        return LoadResult(
            None, [Problem(shown, 0, 0, f"file too large ({len(data)} bytes; the limit is {MAX_FILE_BYTES})")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return LoadResult(None, [Problem(shown, line, column, "the file is not valid UTF-8")])
    if text.startswith("\ufeff"):
        text = text[1:]
    return load_text(text, shown, hashlib.sha256(data).hexdigest())


def questionnaire_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The ``*.yaml`` / ``*.yml`` files directly in a directory, sorted by name."""
    return sorted(p for p in Path(directory).iterdir() if p.suffix in SUFFIXES and p.is_file())


def load_directory(directory: str | os.PathLike[str]) -> dict[Path, LoadResult]:
    """Load every questionnaire file of a directory; two files with the same id and version are a problem."""
    results = {path: load_questionnaire(path) for path in questionnaire_files(directory)}
    return check_identities(results)


def check_identities(results: dict[Path, LoadResult]) -> dict[Path, LoadResult]:
    """Add a problem to every later file that repeats an (id, version) already loaded."""
    seen: dict[tuple[str, str], Path] = {}
    out: dict[Path, LoadResult] = {}
    for path, result in results.items():
        q = result.questionnaire
        if q is not None:
            key = (q.id, q.version)
            if key in seen:
                problem = Problem(
                    os.fspath(path),
                    1,
                    1,
                    f"questionnaire '{q.id}' version '{q.version}' is also "
                    f"defined in {seen[key]}: change the version",
                )
                result = LoadResult(None, [problem])
            else:
                seen[key] = path
        out[path] = result
    return out


def load_all(paths: Iterable[str | os.PathLike[str]]) -> dict[Path, LoadResult]:
    """Load files and directories (directories: their questionnaire files)."""
    results: dict[Path, LoadResult] = {}
    for path in paths:
        if Path(path).is_dir():
            results.update({p: load_questionnaire(p) for p in questionnaire_files(path)})
        else:
            results[Path(path)] = load_questionnaire(path)
    return check_identities(results)
