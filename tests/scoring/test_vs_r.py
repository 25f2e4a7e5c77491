"""Our raked design's city means and SEs equal R survey's (calibrate(calfun = "raking") + svyby) to 1e-8.

Runs benchmarks/scoring_vs_r.py's comparison on a small campaign (5 cities × ~80) when Rscript with the survey
package is installed; otherwise skipped (R is not a required service; the benchmark script installs it).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from scoring.survey import SurveyDesign

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "scoring_vs_r.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scoring_vs_r", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("scoring_vs_r", module)
    spec.loader.exec_module(module)
    return module


vs_r = _load()
pytestmark = pytest.mark.skipif(not vs_r.r_survey_available(), reason="R survey package not installed")


def test_small_campaign_matches_r_survey() -> None:
    campaign = vs_r.make_campaign(5, 80, seed=7)
    res = vs_r.compare(campaign, repeat=1)
    assert res["r"].mean.shape == (5,)
    assert res["diff_mean"] <= vs_r.TOLERANCE, res["diff_mean"]
    assert res["diff_se"] <= vs_r.TOLERANCE, res["diff_se"]
    assert res["diff_weights"] <= 1e-8, res["diff_weights"]
    # The calibration matters: the SEs are not those of the raked weights taken as fixed design weights.
    fixed = SurveyDesign(res["ours"].weights, strata=campaign.city).mean(campaign.index, by=campaign.city)
    assert np.max(np.abs(fixed.se - res["r"].se) / res["r"].se) > 1e-3
