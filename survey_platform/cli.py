"""`survey-platform` command line: each domain area registers its own subcommands.

Every failure ends the command with one line on stderr (``survey-platform: 错误 / error: ...``) and a non-zero exit
code, never a traceback: 1 for a failed operation (bad input, a missing campaign, an unreadable file, an unreachable
database), 2 for configuration and usage errors (argparse's own usage messages are kept), 130 when interrupted.
An unexpected exception (a bug) is one line too, exit 70; ``--traceback`` prints its traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that define `register(subparsers)`; each adds its subcommands with `set_defaults(func=...)`,
# where func(args) returns the process exit code.
COMMAND_MODULES: tuple[str, ...] = (
    "survey_platform.questionnaire.cli",
    "survey_platform.commands",
    "survey_platform.publishing.cli",
    "survey_platform.campaigns.qr_cli",
)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 70  # EX_SOFTWARE (sysexits.h)
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="survey-platform",
        description="Surveys, inspections and satisfaction indices for consumer associations.",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an unexpected error, print the full traceback (for bug reports)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(text.split())


def describe_failure(error: BaseException) -> tuple[str, int] | None:
    """(message, exit code) for an expected failure, None for anything else (a bug)."""
    import sqlite3

    import asyncpg
    import msgspec

    from survey_platform.settings import SettingsError
    from survey_platform.storage.database import MigrationError
    from survey_platform.storage.errors import DomainError

    if isinstance(error, DomainError):
        details = "; ".join(f"{problem.path}: {problem.message}" for problem in error.errors)
        return (f"{error.detail}: {details}" if details else error.detail), EXIT_FAILED
    if isinstance(error, SettingsError):
        return f"配置错误 / configuration error: {error}", EXIT_USAGE
    if isinstance(error, MigrationError):
        return f"数据库迁移失败 / the database migration failed: {error}", EXIT_FAILED
    if isinstance(error, msgspec.ValidationError):
        return f"输入无效 / invalid input: {error}", EXIT_FAILED
    if isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError | sqlite3.Error):
        return f"数据库错误 / database error: {type(error).__name__}: {error}", EXIT_FAILED
    if isinstance(error, OSError):
        if error.filename is not None:
            reason = error.strerror or str(error)
            return f"无法访问 / cannot access {error.filename}: {reason}", EXIT_FAILED
        return f"系统错误 / system error: {type(error).__name__}: {error}", EXIT_FAILED
    if isinstance(error, EOFError):
        return "输入已结束 / the input ended (no terminal to read from?)", EXIT_FAILED
    return None


def _report(message: str) -> None:
    print(f"survey-platform: 错误 / error: {one_line(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    trailing = getattr(args, "trailing_positionals", None)
    if extra and (trailing is None or any(item.startswith("-") for item in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if (
        extra
    ):  # positionals after an option (argparse leaves a nargs="*" list empty next to an earlier positional)
        setattr(args, trailing, [*getattr(args, trailing), *extra])
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        _report("已中断 / interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0  # the reader of our output went away (e.g. `| head`)
    except Exception as error:
        described = describe_failure(error)
        if described is not None:
            _report(described[0])
            return described[1]
        if args.traceback:
            raise
        _report(
            f"内部错误 / internal error (a bug; rerun with --traceback to report it): {type(error).__name__}: {error}"
        )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
