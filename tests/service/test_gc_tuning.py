"""The serving process's garbage-collector tuning: applied for the application's lifetime, undone after, and
reference cycles made while serving are still collected."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from survey_platform import app as app_module
from survey_platform.gc_tuning import SERVING_THRESHOLDS, tuned_collector
from survey_platform.settings import Settings


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_tuned_collector_freezes_then_restores() -> None:
    before = gc.get_threshold()
    assert before != SERVING_THRESHOLDS
    with tuned_collector():
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_while_tuned_are_still_collected() -> None:
    with tuned_collector():
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        alive = weakref.ref(first)
        del first, second
        assert alive() is not None  # only a cycle keeps it alive
        gc.collect()
        assert alive() is None


def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What `serve` would see: an embedded database in ``tmp_path``, nothing else configured."""
    for name in ("DATABASE_URL", "REDIS_URL", "SURVEY_GC_TUNING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUESTIONNAIRES_DIR", str(Path(__file__).parent / "data"))


async def test_the_served_app_tunes_the_collector_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gc.get_threshold()
    _environment(monkeypatch, tmp_path)
    async with AsyncTestClient(app=app_module.create_served_app()) as client:
        assert (await client.get("/health")).status_code == 200
        assert gc.get_threshold() == SERVING_THRESHOLDS
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_tuning_can_be_switched_off_and_plain_apps_leave_the_collector_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gc.get_threshold()
    _environment(monkeypatch, tmp_path)
    monkeypatch.setenv("SURVEY_GC_TUNING", "0")
    async with AsyncTestClient(app=app_module.create_served_app()) as client:
        assert (await client.get("/health")).status_code == 200
        assert gc.get_threshold() == before
    async with AsyncTestClient(app=app_module.create_app(Settings.from_env())) as client:
        assert (await client.get("/health")).status_code == 200
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0


def test_the_environment_switch() -> None:
    assert Settings.from_env({}).gc_tuning is True
    assert Settings.from_env({"SURVEY_GC_TUNING": "0"}).gc_tuning is False
