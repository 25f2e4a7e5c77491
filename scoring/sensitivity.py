"""Robustness of city ranks to the expert weights and the aggregation choice (uncertainty analysis).

Monte Carlo in the manner of Saisana, Saltelli & Tarantola (2005), "Uncertainty and sensitivity analysis
techniques as tools for the quality assessment of composite indicators", JRSS A 168(2), and COINr's
``get_sensitivity(SA_type = "UA")``: in every draw each perturbed node's weight is multiplied by U(1 − p, 1 + p)
(p = 0.25 by default), the weights are re-normalised within their parent, and the top aggregation is drawn from
the allowed choices (arithmetic/geometric, equal probability); the cities are then re-scored and re-ranked. Each
city gets its nominal rank, median and mean rank and the 5–95% rank band (numpy's default quantile = R's type 7,
as COINr uses).

It works on city-level scores at some level of the tree (e.g. indicator scores per city): the index is
re-aggregated with small matrix products for all draws at once, never recomputed from respondents. Availability
(which city has which score) and the ``min_share`` rule are judged with the nominal weights, so a city's index
exists in every draw exactly when it exists nominally; cities whose nominal index is missing are reported in
``excluded`` and not ranked. Deterministic for a given ``seed`` (numpy Generator, PCG64); R's RNG is not
reproduced, so COINr's bands can only be matched qualitatively.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from scoring.index import IndexNode, parse_index_tree

__all__ = ["SensitivityResult", "weight_sensitivity"]


@dataclass(frozen=True)
class SensitivityResult:
    """Rank statistics per city (in ``cities`` order; rank 1 = best, ties share the smallest rank)."""

    cities: tuple[Any, ...]
    nominal_score: NDArray[np.float64]
    nominal_rank: NDArray[np.int64]
    median_rank: NDArray[np.float64]
    mean_rank: NDArray[np.float64]
    q05: NDArray[np.float64]
    q95: NDArray[np.float64]
    ranks: NDArray[np.int64]  # draws × cities
    scores: NDArray[np.float64]  # draws × cities
    aggregation: NDArray[np.str_]  # the top aggregation used in each draw
    excluded: dict[Any, str]
    seed: int

    def band_width(self) -> NDArray[np.float64]:
        """q95 − q05 per city."""
        return self.q95 - self.q05


def weight_sensitivity(
    tree: Mapping[str, Any] | IndexNode,
    city_scores: Mapping[str, ArrayLike],
    *,
    cities: Sequence[Any] | None = None,
    draws: int = 1000,
    perturbation: float = 0.25,
    aggregations: Sequence[str] = ("arithmetic", "geometric"),
    perturb: Sequence[str] | None = None,
    seed: int = 0,
) -> SensitivityResult:
    """Monte Carlo over weights (×U(1 − perturbation, 1 + perturbation)) and the top aggregation.

    ``city_scores``: node id → scores per city (same length C); the tree is cut at these nodes, which become its
    leaves. ``perturb``: ids of the nodes whose weights are perturbed (default: every non-root node above the
    leaves' parents and the leaves themselves, i.e. all non-root nodes). ``aggregations``: the top-level choices
    drawn with equal probability (the tree's own choice is the nominal one). Geometric aggregation needs scores ≥ 0.
    Reference: Saisana et al. (2005); OECD/JRC (2008) Handbook §7; COINr::get_sensitivity.
    """
    if draws < 1:
        raise ValueError("draws must be >= 1")
    if not 0 <= perturbation < 1:
        raise ValueError(f"perturbation must be in [0, 1), got {perturbation}")
    bad_agg = [a for a in aggregations if a not in ("arithmetic", "geometric")]
    if not aggregations or bad_agg:
        raise ValueError(
            f"aggregations must be a non-empty subset of arithmetic/geometric, got {list(aggregations)}"
        )
    full = parse_index_tree(tree)
    root = full.truncated(set(city_scores))
    leaf_ids = root.leaves()
    absent = [leaf for leaf in leaf_ids if leaf not in city_scores]
    if absent:
        raise ValueError(f"city_scores lacks leaves {absent[:5]} of the (cut) tree / 缺少城市得分")
    values = {k: np.asarray(city_scores[k], dtype=np.float64) for k in leaf_ids}
    C = values[leaf_ids[0]].shape[0]
    if any(v.shape != (C,) for v in values.values()):
        raise ValueError("every city_scores entry must be a 1-D array of the same length (one per city)")
    labels = tuple(cities) if cities is not None else tuple(range(C))
    if len(labels) != C:
        raise ValueError(f"cities has {len(labels)} labels for {C} score rows")
    non_root = [node.id for node in root.walk() if node is not root]
    targets = set(non_root if perturb is None else perturb)
    unknown = targets - set(non_root)
    if unknown:
        raise ValueError(f"perturb names unknown or root nodes {sorted(unknown)[:5]}")

    rng = np.random.default_rng(seed)
    # One multiplier per (draw, node), drawn in pre-order so results depend only on seed and tree.
    mult = rng.uniform(1 - perturbation, 1 + perturbation, size=(draws, len(non_root)))
    col = {node_id: j for j, node_id in enumerate(non_root)}
    agg_draw = np.asarray(aggregations)[rng.integers(0, len(aggregations), size=draws)]

    nominal_top, nominal_ok = _aggregate(root, values, None, col, targets, root.aggregation, nominal=True)
    drawn_top, _ = _aggregate(root, values, mult, col, targets, agg_draw, nominal=False, ok_mask=nominal_ok)

    keep = np.flatnonzero(~np.isnan(nominal_top))
    excluded = {
        labels[
            c
        ]: "index missing: too few indicator scores for the min_share rule / 指标得分不足，无法计算综合指数"
        for c in range(C)
        if np.isnan(nominal_top[c])
    }
    if keep.size == 0:
        raise ValueError("no city has an index score / 没有城市有综合指数")
    nom = nominal_top[keep]
    sims = drawn_top[:, keep]
    nominal_rank = rankdata(-nom, method="min").astype(np.int64)
    ranks = rankdata(-sims, method="min", axis=1).astype(np.int64)
    q05, med, q95 = np.quantile(ranks, [0.05, 0.5, 0.95], axis=0)
    return SensitivityResult(
        cities=tuple(labels[c] for c in keep),
        nominal_score=nom,
        nominal_rank=nominal_rank,
        median_rank=med,
        mean_rank=ranks.mean(axis=0),
        q05=q05,
        q95=q95,
        ranks=ranks,
        scores=sims,
        aggregation=agg_draw,
        excluded=excluded,
        seed=seed,
    )


def _aggregate(
    root: IndexNode,
    values: dict[str, NDArray[np.float64]],
    mult: NDArray[np.float64] | None,
    col: dict[str, int],
    targets: set[str],
    top_aggregation: Any,
    *,
    nominal: bool,
    ok_mask: dict[str, NDArray[np.bool_]] | None = None,
) -> tuple[NDArray[np.float64], dict[str, NDArray[np.bool_]]]:
    """Scores of the root, shape (C,) when nominal else (draws, C); also each node's availability per city."""
    ok_out: dict[str, NDArray[np.bool_]] = {}

    def weight(node: IndexNode) -> NDArray[np.float64] | float:
        if nominal or mult is None or node.id not in targets:
            return node.weight
        return node.weight * mult[:, col[node.id]][:, None]  # (draws, 1)

    def visit(node: IndexNode, is_root: bool) -> NDArray[np.float64]:
        if node.is_leaf:
            v = values[node.id]
            ok_out[node.id] = ~np.isnan(v)
            return v
        kids = [visit(child, False) for child in node.children]
        w_nom = np.array([c.weight for c in node.children], dtype=np.float64)
        w_nom = w_nom / w_nom.sum()
        avail = np.array([ok_out[c.id] for c in node.children])  # (k, C)
        den_nom = (w_nom[:, None] * avail).sum(axis=0)
        ok = (den_nom > 0) & (den_nom >= node.min_share - 1e-12)
        if ok_mask is not None:
            ok = ok & ok_mask[node.id]
        ok_out[node.id] = ok
        ws = [weight(c) for c in node.children]
        total = sum(ws)
        den = 0.0
        geometric = (
            np.asarray(top_aggregation == "geometric")
            if is_root
            else np.asarray(node.aggregation == "geometric")
        )
        use_geo = geometric.any()
        use_ari = (~geometric).any()
        num_a = 0.0
        num_g = 0.0
        for w_k, v_k, a_k in zip(ws, kids, avail, strict=True):
            wk = w_k / total
            present = np.broadcast_to(a_k, np.shape(v_k)) & ~np.isnan(v_k)
            den = den + wk * present
            if use_ari:
                num_a = num_a + wk * np.where(present, v_k, 0.0)
            if use_geo:
                if (np.where(present, v_k, 0.0) < 0).any():
                    raise ValueError(f"node {node.id!r}: geometric aggregation needs scores >= 0")
                with np.errstate(divide="ignore"):
                    num_g = num_g + wk * np.where(present, np.log(np.where(present, v_k, 1.0)), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out_a = num_a / den if use_ari else None
            out_g = np.exp(num_g / den) if use_geo else None
        if use_geo and use_ari:
            g = geometric[:, None] if geometric.ndim == 1 else geometric
            out = np.where(g, out_g, out_a)
        else:
            out = out_g if use_geo else out_a
        out = np.where(ok, out, np.nan)
        return np.asarray(out, dtype=np.float64)

    top = visit(root, True)
    return top, ok_out
