"""The minimum sample per city: Cochran's sample size for a proportion times the design effect, one definition."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scoring.quality import SPEEDING_FRACTION, flag_speeding, quality_report
from scoring.sample_size import DEFAULT_MIN_SAMPLE, min_sample_size


def test_textbook_sample_sizes() -> None:
    """Cochran (1977) eq. 4.2 for p = 0.5: ±5 % at 95 % needs 385 interviews, ±3 % needs 1068, ±10 % 97."""
    assert min_sample_size(design_effect=1.0) == 385  # 384.16 rounded up
    assert min_sample_size(margin=0.03, design_effect=1.0) == 1068  # 1067.1
    assert min_sample_size(margin=0.10, design_effect=1.0) == 97  # 96.04
    assert min_sample_size(z=2.0, margin=0.1, design_effect=1.0) == 100  # exactly 100: not rounded up to 101


def test_the_national_minimum_is_derived_from_its_formula() -> None:
    """1.96² × 0.25 / 0.05² × 1.4 = 537.82 → 538 (the national evaluation's rule)."""
    assert DEFAULT_MIN_SAMPLE == min_sample_size() == 538
    assert min_sample_size(design_effect=2.0) == 769  # 768.32


@pytest.mark.parametrize(
    "arguments",
    [{"margin": 0.0}, {"z": -1.0}, {"design_effect": float("nan")}, {"variance": 0.3}],
)
def test_impossible_arguments_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(arguments))):
        min_sample_size(**arguments)


def test_reading_the_default_does_not_load_the_statistics_stack() -> None:
    """The command line reads the default for its help text; that must not import numpy, scipy or statsmodels."""
    code = (
        "import sys, scoring.sample_size as s; "
        "print(s.DEFAULT_MIN_SAMPLE, sorted(m for m in ('numpy', 'scipy', 'statsmodels') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["538", "[]"]


def test_speeding_has_one_named_fraction() -> None:
    assert SPEEDING_FRACTION == 0.3
    durations = [600, 500, 400, 119, 121]  # median 400: the cut is SPEEDING_FRACTION × 400 = 120
    flags, median = flag_speeding(durations)
    assert median == 400.0 and flags.tolist() == [False, False, False, True, False]
    report = quality_report([[1.0, 2.0]] * 5, durations, min_items=2)
    assert report.speeding.tolist() == flags.tolist()
