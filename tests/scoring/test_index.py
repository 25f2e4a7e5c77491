"""Item scores and the composite index: COINr 1.1.14 ASEM oracle (normalisation, arithmetic and geometric
aggregation, effective weights, ranks) and hand-worked trees with missing data."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from oracle_paths import COINR

from scoring.index import (
    compute_index,
    effective_weights,
    normalise_minmax,
    normalise_zscore,
    parse_index_tree,
    score_items,
)
from scoring.ranking import point_ranks


def _rows(name: str) -> list[dict[str, str]]:
    with (COINR / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _matrix(name: str, columns: list[str]) -> tuple[list[str], np.ndarray]:
    rows = _rows(name)
    values = np.array([[np.nan if r[c] in ("NA", "") else float(r[c]) for c in columns] for r in rows])
    return [r["uCode"] for r in rows], values


@pytest.fixture(scope="module")
def asem() -> dict:
    meta = _rows("ASEM_iMeta.csv")
    indicators = [m for m in meta if m["Level"] == "1"]
    codes = [m["iCode"] for m in indicators]

    def node(code: str) -> dict:
        kids = [m for m in meta if m["Parent"] == code and m["Type"] in ("Indicator", "Aggregate")]
        weight = next(float(m["Weight"]) for m in meta if m["iCode"] == code)
        out: dict = {"id": code, "weight": weight}
        if kids:
            out["children"] = [node(k["iCode"]) for k in kids]
        return out

    units, treated = _matrix("stage_Treated.csv", codes)
    return {
        "meta": meta,
        "codes": codes,
        "direction": np.array([float(m["Direction"]) for m in indicators]),
        "tree": node("Index"),
        "units": units,
        "treated": treated,
        "aggregates": [m["iCode"] for m in meta if m["Type"] == "Aggregate"],
    }


def _set_aggregation(tree: dict, how: str) -> dict:
    out = dict(tree, aggregation=how)
    if "children" in tree:
        out["children"] = [_set_aggregation(c, how) for c in tree["children"]]
    return out


def _results_file(name: str) -> dict[str, dict[str, float]]:
    return {r["uCode"]: {k: float(v) for k, v in r.items() if k != "uCode"} for r in _rows(name)}


# ---------------------------------------------------------------- COINr oracle
def test_minmax_normalisation_matches_coinr(asem: dict) -> None:
    # The normalisation starts from COINr's "Treated" stage (Raw → Denominated → Imputed → Screened → Treated).
    units, expected = _matrix("stage_Normalised.csv", asem["codes"])
    assert units == asem["units"]
    got = normalise_minmax(asem["treated"], direction=asem["direction"])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    _, expected_1_100 = _matrix("normalised_minmax_1_100.csv", asem["codes"])
    got = normalise_minmax(asem["treated"], low=1, high=100, direction=asem["direction"])
    np.testing.assert_allclose(got, expected_1_100, rtol=1e-9, atol=1e-9)


def test_arithmetic_aggregation_matches_coinr_stage_aggregated(asem: dict) -> None:
    normalised = normalise_minmax(asem["treated"], direction=asem["direction"])
    result = compute_index(asem["tree"], {c: normalised[:, j] for j, c in enumerate(asem["codes"])})
    _, expected = _matrix("stage_Aggregated.csv", asem["aggregates"])
    got = result.matrix(asem["aggregates"])
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    ref = _results_file("results_amean_minmax.csv")
    ranks = point_ranks(result.scores["Index"])
    for unit, rank in zip(asem["units"], ranks, strict=True):
        assert rank == ref[unit]["Rank"]
        assert round(result.scores["Index"][asem["units"].index(unit)], 2) == pytest.approx(
            ref[unit]["Index"]
        )


def test_zscore_aggregation_matches_coinr(asem: dict) -> None:
    z = normalise_zscore(asem["treated"], mean=10, sd=2, direction=asem["direction"])
    result = compute_index(asem["tree"], {c: z[:, j] for j, c in enumerate(asem["codes"])})
    ref = _results_file("results_amean_zscore.csv")
    ranks = point_ranks(result.scores["Index"])
    for i, unit in enumerate(asem["units"]):
        for col in ("Index", "Conn", "Sust", "Physical", "SusEcFin"):
            assert round(result.scores[col][i], 2) == pytest.approx(ref[unit][col], abs=1e-9)
        assert ranks[i] == ref[unit]["Rank"]


def test_geometric_aggregation_matches_coinr(asem: dict) -> None:
    n1 = normalise_minmax(asem["treated"], low=1, high=100, direction=asem["direction"])
    tree = _set_aggregation(asem["tree"], "geometric")
    result = compute_index(tree, {c: n1[:, j] for j, c in enumerate(asem["codes"])})
    ref = _results_file("results_gmean_minmax1_100.csv")
    ranks = point_ranks(result.scores["Index"])
    for i, unit in enumerate(asem["units"]):
        for col in ("Index", "Conn", "Sust", "Physical", "Political", "Social"):
            assert round(result.scores[col][i], 2) == pytest.approx(ref[unit][col], abs=1e-9)
        assert ranks[i] == ref[unit]["Rank"]


def test_effective_weights_match_coinr(asem: dict) -> None:
    eff = effective_weights(asem["tree"])
    for row in _rows("effective_weights.csv"):
        assert eff[row["iCode"]] == pytest.approx(float(row["EffWeight"]), rel=1e-12)
    assert sum(eff[c] for c in asem["codes"]) == pytest.approx(1.0)


# ---------------------------------------------------------------- item scores
def test_item_scores_with_goalposts_reverse_and_dont_know() -> None:
    out = score_items(
        {"q1": [1, 2, 3, 4, 5], "q2": [1, 5, None, 2, np.nan]},
        {"q1": {"min": 1, "max": 5}, "q2": {"min": 1, "max": 5, "reverse": True}},
    )
    np.testing.assert_allclose(out["q1"], [0, 25, 50, 75, 100])
    np.testing.assert_allclose(out["q2"], [100, 0, np.nan, 75, np.nan])
    ten = score_items({"q": [1, 10, 4]}, {"q": {"min": 1, "max": 10}})["q"]
    np.testing.assert_allclose(ten, [0, 100, 100 / 3])  # ACSI's (x − 1)/9 × 100


def test_item_score_errors_name_the_item() -> None:
    with pytest.raises(ValueError, match=r"item .q1.: answer 6 at row 1"):
        score_items({"q1": [1, 6]}, {"q1": {"min": 1, "max": 5}})
    with pytest.raises(ValueError, match="'q9' has no scoring spec"):
        score_items({"q9": [1]}, {})
    with pytest.raises(ValueError, match="needs 'min' and 'max'"):
        score_items({"q1": [1]}, {"q1": {"min": 1}})


# ---------------------------------------------------------------- hand-worked trees
TREE = {
    "id": "overall",
    "children": [
        {
            "id": "supply",
            "weight": 0.4,
            "min_share": 0.5,
            "children": [
                {"id": "s1", "weight": 3.0},
                {"id": "s2", "weight": 1.0},
            ],
        },
        {
            "id": "env",
            "weight": 0.6,
            "children": [
                {"id": "e1", "weight": 1.0},
                {"id": "e2", "weight": 1.0},
                {"id": "e3", "weight": 2.0},
            ],
        },
    ],
}


def test_available_case_renormalisation_and_min_share() -> None:
    nan = np.nan
    scores = {
        "s1": np.array([80.0, nan, 80.0, nan]),
        "s2": np.array([40.0, 40.0, 40.0, nan]),
        "e1": np.array([50.0, 50.0, nan, nan]),
        "e2": np.array([70.0, 70.0, nan, nan]),
        "e3": np.array([60.0, nan, nan, 90.0]),
    }
    r = compute_index(TREE, scores)
    # Row 0: supply = (3·80 + 40)/4 = 70; env = (50 + 70 + 2·60)/4 = 60; overall = 0.4·70 + 0.6·60 = 64.
    # Row 1: supply has s2 only = 1/4 of its weight < min_share 0.5 → missing; env = (50+70)/2 = 60; overall = 60.
    # Row 2: supply 70, env missing (no child) → overall = 70.   Row 3: supply missing, env = 90 → overall 90.
    np.testing.assert_allclose(r.scores["supply"], [70, nan, 70, nan])
    np.testing.assert_allclose(r.scores["env"], [60, 60, nan, 90])
    np.testing.assert_allclose(r.scores["overall"], [64, 60, 70, 90])
    # Effective weights per row reproduce the top score and sum to 1.
    leaves = np.column_stack([np.nan_to_num(scores[k]) for k in r.leaf_ids])
    np.testing.assert_allclose((r.row_effective_weights() * leaves).sum(axis=1), r.scores["overall"])
    np.testing.assert_allclose(r.row_effective_weights().sum(axis=1), 1.0)
    assert r.row_effective_weights()[0, r.leaf_ids.index("s1")] == pytest.approx(0.4 * 0.75)
    assert r.missing_count("supply") == 2


def test_all_items_missing_gives_missing_node_and_count() -> None:
    nan = np.full(2, np.nan)
    r = compute_index(TREE, {"s1": nan, "s2": nan, "e1": nan, "e2": nan, "e3": nan})
    assert r.missing_count() == 2
    assert np.all(r.row_effective_weights() == 0)


def test_geometric_top_level() -> None:
    tree = dict(TREE, aggregation="geometric")
    r = compute_index(tree, {"s1": [80.0], "s2": [40.0], "e1": [50.0], "e2": [70.0], "e3": [60.0]})
    assert r.scores["overall"][0] == pytest.approx(70**0.4 * 60**0.6)
    with pytest.raises(ValueError, match="geometric aggregation needs scores >= 0"):
        compute_index(tree, {"s1": [-10.0], "s2": [-10.0], "e1": [50.0], "e2": [70.0], "e3": [60.0]})


def test_nominal_effective_weights_of_the_hand_tree() -> None:
    eff = effective_weights(TREE)
    assert eff["s1"] == pytest.approx(0.4 * 0.75)
    assert eff["e3"] == pytest.approx(0.6 * 0.5)
    assert eff["overall"] == 1.0


@pytest.mark.parametrize(
    "tree, message",
    [
        ({"id": "a", "children": [{"id": "b", "weight": -1}]}, "weight must be finite and >= 0"),
        ({"id": "a", "children": [{"id": "b"}, {"id": "b"}]}, "duplicate id 'b'"),
        ({"id": "a", "children": [{"id": "b", "min_share": 2}]}, "min_share must be in"),
        ({"id": "a", "children": [{"id": "b", "weight": 0}]}, "weights are all zero"),
        ({"children": []}, "no 'id'"),
        ({"id": "a", "aggregation": "median", "children": [{"id": "b"}]}, "arithmetic or geometric"),
    ],
)
def test_tree_validation(tree: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_index_tree(tree)


def test_missing_leaf_scores_are_named() -> None:
    with pytest.raises(ValueError, match="scores missing for leaves"):
        compute_index(TREE, {"s1": [1.0]})
