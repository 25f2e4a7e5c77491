"""Settings shared by the publishing tests (small campaigns: a lower minimum sample, fewer bootstrap draws)."""

from __future__ import annotations

from survey_platform.publishing.model import MethodSettings

SMALL_METHOD = MethodSettings(seed=5, min_sample_per_city=100, rank_draws=500, sensitivity_draws=200)
