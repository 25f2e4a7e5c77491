"""Rules with one definition: the 538-interview minimum is imported, never restated; speeding is scoring's."""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec

from scoring.sample_size import DEFAULT_MIN_SAMPLE
from survey_platform.campaigns.schemas import CampaignIn
from survey_platform.cli import build_parser
from survey_platform.settings import Settings
from survey_platform.storage.tables import Campaign

ROOT = Path(__file__).resolve().parents[2]


def _number_literals(value: int) -> list[str]:
    """file:line of every integer literal ``value`` in the code (migrations are history and keep theirs)."""
    found = []
    for folder in ("survey_platform", "scoring"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "piccolo_migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and type(node.value) is int and node.value == value:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_minimum_sample_is_written_nowhere_but_derived_once() -> None:
    assert _number_literals(DEFAULT_MIN_SAMPLE) == []
    minimal = msgspec.convert({"code": "c", "name": "n", "questionnaire_version": 1}, CampaignIn)
    assert minimal.min_sample_per_city == DEFAULT_MIN_SAMPLE
    assert Campaign.min_sample_per_city.default == DEFAULT_MIN_SAMPLE
    args = build_parser().parse_args(["campaign", "create", "c", "--name", "n", "--questionnaire", "q"])
    assert args.min_sample == DEFAULT_MIN_SAMPLE


def test_ingestion_has_no_speeding_setting() -> None:
    """Speeding is judged against the campaign's median (scoring.quality), not a fixed ingestion threshold."""
    assert "min_duration_seconds" not in Settings.__dataclass_fields__
    assert not hasattr(Settings.from_env({"SURVEY_MIN_DURATION_SECONDS": "60"}), "min_duration_seconds")
