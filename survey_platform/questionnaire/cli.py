"""``survey-platform questionnaire validate|schema|show``. Author errors print as ``PATH:LINE:COLUMN: error: ...``
and never as a traceback; exit codes: 0 valid, 1 problems."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .load import LoadResult, check_identities, load_questionnaire, questionnaire_files
from .problems import Problem


def register(subparsers: Any) -> None:
    """Add the ``questionnaire`` command to the root CLI."""
    parser = subparsers.add_parser(
        "questionnaire",
        help="check, show and describe questionnaire files",
        description="Questionnaire files (YAML): validate, show, JSON Schema.",
    )
    commands = parser.add_subparsers(dest="questionnaire_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))

    validate = commands.add_parser("validate", help="check files or directories; exit 1 on any problem")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="questionnaire files or directories")
    validate.set_defaults(func=_guard(cmd_validate))

    schema = commands.add_parser("schema", help="print the JSON Schema of the format")
    schema.set_defaults(func=_guard(cmd_schema))

    show = commands.add_parser("show", help="print an outline with the effective weights")
    show.add_argument("path", metavar="PATH")
    show.add_argument("--lang", default=None, help="language of the labels (default: the questionnaire's)")
    show.set_defaults(func=_guard(cmd_show))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _guard(func: Any) -> Any:
    """Run a command; an unexpected exception is one line on stderr (exit 2), never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except BrokenPipeError:
            return 0
        except KeyboardInterrupt:
            return 130
        except Exception as exc:
            print(f"survey-platform: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2

    return run


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        print(problem.format())


def cmd_validate(args: argparse.Namespace) -> int:
    results: dict[Path, LoadResult] = {}
    extra: list[Problem] = []
    for raw in args.paths:
        path = Path(raw)
        if path.is_dir():
            try:
                files = questionnaire_files(path)
            except OSError as exc:
                extra.append(Problem(raw, 0, 0, f"cannot read the directory: {exc.strerror or exc}"))
                continue
            if not files:
                extra.append(Problem(raw, 0, 0, "no questionnaire files (*.yaml, *.yml) in this directory"))
            for file in files:
                results[file] = load_questionnaire(file)
        else:
            results[path] = load_questionnaire(raw)
    results = check_identities(results)
    problems = extra + [problem for result in results.values() for problem in result.problems]
    _print_problems(problems)
    valid = sum(1 for result in results.values() if result.ok)
    print(f"{valid} of {len(results)} questionnaire files valid, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .schema import questionnaire_schema

    print(json.dumps(questionnaire_schema(), ensure_ascii=False, indent=2))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .show import outline

    result = load_questionnaire(args.path)
    if result.questionnaire is None:
        _print_problems(result.problems)
        return 1
    sys.stdout.write(outline(result.questionnaire, args.lang))
    return 0
