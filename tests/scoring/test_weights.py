"""Respondent weights: raking (R survey oracle), post-stratification, design weights, trimming, Kish n_eff."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from oracle_paths import ORACLES

from scoring.weights import (
    CalibrationError,
    design_weights,
    kish_deff,
    kish_effective_n,
    poststratify_weights,
    rake_weights,
    trim_weights,
    validate_weights,
)


@pytest.fixture(scope="module")
def api() -> dict[str, np.ndarray]:
    with (ORACLES / "apistrat.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {
        "stype": np.array([r["stype"] for r in rows]),
        "sch.wide": np.array([r["sch.wide"] for r in rows]),
        "pw": np.array([float(r["pw"]) for r in rows]),
    }


def test_raking_matches_r_survey_cell_weights(api: dict) -> None:
    data = json.loads((ORACLES / "apistrat_reference.json").read_text(encoding="utf-8"))
    cells = next(e for e in data["estimates"] if e["what"].startswith("raking to stype"))["cells"]
    result = rake_weights(
        api["pw"],
        {
            "stype": (api["stype"], {"E": 4421, "H": 755, "M": 1018}),
            "sch.wide": (api["sch.wide"], {"No": 1072, "Yes": 5122}),
        },
    )
    assert result.max_relative_misfit < 1e-10
    for cell, expected in cells.items():
        st, sw = cell.split("-")
        np.testing.assert_allclose(
            result.weights[(api["stype"] == st) & (api["sch.wide"] == sw)], expected, rtol=1e-7
        )
    # Both margins are reproduced exactly.
    assert result.weights[api["stype"] == "H"].sum() == pytest.approx(755, rel=1e-10)
    assert result.weights[api["sch.wide"] == "No"].sum() == pytest.approx(1072, rel=1e-10)


def test_raking_every_city_at_once_equals_raking_each_city() -> None:
    rng = np.random.default_rng(11)
    n = 600
    city = rng.integers(0, 3, n)
    age = rng.integers(0, 3, n)
    sex = rng.integers(0, 2, n)
    w0 = rng.uniform(0.5, 2, n)
    age_pop = {(c, a): float(100 + 10 * c + 30 * a) for c in range(3) for a in range(3)}
    sex_pop = {
        (c, s): sum(age_pop[(c, a)] for a in range(3)) * (0.45 if s == 0 else 0.55)
        for c in range(3)
        for s in (0, 1)
    }
    joint = rake_weights(w0, {"age": ((city, age), age_pop), "sex": ((city, sex), sex_pop)}).weights
    for c in range(3):
        m = city == c
        alone = rake_weights(
            w0[m],
            {
                "age": (age[m], {a: age_pop[(c, a)] for a in range(3)}),
                "sex": (sex[m], {s: sex_pop[(c, s)] for s in (0, 1)}),
            },
        ).weights
        np.testing.assert_allclose(joint[m], alone, rtol=1e-9)


def test_margin_with_an_empty_level_is_a_clear_error() -> None:
    codes = np.array(["a", "a", "b"])
    with pytest.raises(CalibrationError, match=r"level 'c' has population 50 but no respondents"):
        rake_weights(np.ones(3), {"region": (codes, {"a": 10, "b": 20, "c": 50})})
    # A level with population 0 and no respondents is simply dropped (as survey::calibrate does).
    ok = rake_weights(np.ones(3), {"region": (codes, {"a": 10, "b": 20, "c": 0})})
    assert ok.weights.sum() == pytest.approx(30)


def test_unknown_level_and_inconsistent_margins_are_errors() -> None:
    codes = np.array(["a", "b", "x"])
    with pytest.raises(CalibrationError, match="level 'x' has no population count"):
        poststratify_weights(np.ones(3), codes, {"a": 1, "b": 2})
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    with pytest.raises(CalibrationError, match="did not converge"):
        rake_weights(np.ones(50), {"a": (a, {0: 10, 1: 10}), "b": (b, {0: 30, 1: 30})}, max_iter=50)


def test_level_whose_respondents_all_have_zero_weight_is_an_error() -> None:
    with pytest.raises(CalibrationError, match="weights are zero"):
        poststratify_weights([0.0, 0.0, 1.0], ["a", "a", "b"], {"a": 5, "b": 5})


def test_poststratify_hand_worked() -> None:
    # cell a: weights 1, 3 (sum 4) → ×10/4; cell b: weight 2 → ×6/2.
    w = poststratify_weights([1.0, 3.0, 2.0], ["a", "a", "b"], {"a": 10, "b": 6})
    np.testing.assert_allclose(w, [2.5, 7.5, 6.0])


def test_design_weights_are_population_over_sample() -> None:
    w = design_weights(["x", "x", "y", "y", "y"], {"x": 100, "y": 30})
    np.testing.assert_allclose(w, [50, 50, 10, 10, 10])


def test_trimming_caps_weights_and_keeps_the_total() -> None:
    w = np.array([1.0, 1.0, 1.0, 1.0, 10.0])
    out = trim_weights(w, upper=4.0)
    # 10 → 4; the excess 6 is spread over the four 1s in proportion (1.5 each) → 2.5, all below 4.
    np.testing.assert_allclose(out.weights, [2.5, 2.5, 2.5, 2.5, 4.0])
    assert out.n_trimmed == 1
    assert out.weights.sum() == pytest.approx(w.sum())


def test_trimming_iterates_when_redistribution_overshoots() -> None:
    w = np.array([1.0, 3.0, 3.0, 13.0])
    out = trim_weights(w, upper=5.0)
    assert out.weights.max() <= 5.0 + 1e-12
    assert out.weights.sum() == pytest.approx(20.0)
    assert out.n_trimmed >= 3 and out.iterations >= 2
    with pytest.raises(ValueError, match="cannot keep the weight total"):
        trim_weights(w, upper=4.0)


def test_kish_effective_sample_size_and_deff() -> None:
    w = [1.0, 1.0, 2.0, 4.0]
    assert kish_effective_n(w) == pytest.approx(64 / 22)  # (Σw)² / Σw² = 8² / 22
    assert kish_deff(w) == pytest.approx(4 / (64 / 22))
    assert kish_effective_n(np.ones(7)) == pytest.approx(7)
    with pytest.raises(ValueError, match="all weights are zero"):
        kish_effective_n([0.0, 0.0])


def test_validate_weights_names_the_problem() -> None:
    with pytest.raises(ValueError, match="base_w has negative value"):
        validate_weights([1.0, -2.0], "base_w")
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        validate_weights([1.0, np.inf])
    assert validate_weights([0.0, 1.0]).tolist() == [0.0, 1.0]
