"""Item scores and hierarchical composite indices (items → indicators → dimensions → overall).

The index tree arrives as plain nested dicts (the contract with the questionnaire package)::

    {"id": "overall", "aggregation": "arithmetic",
     "children": [{"id": "supply", "weight": 0.4, "min_share": 0.5,
                   "children": [{"id": "supply_richness", "weight": 0.2,
                                 "children": [{"id": "q_variety", "weight": 1.0}, ...]}, ...]}, ...]}

Weights are relative to siblings (normalised within each parent). A node's score is the weighted arithmetic mean
of its available children, the weights re-normalised over the available ones (available-case, as COINr's
aggregation does); it is missing when the available children carry less than ``min_share`` of the weight (with
``min_share = 0``, one answered child is enough). ``"aggregation": "geometric"`` gives the weighted geometric mean
∏ v_k^{w_k / Σw} (OECD/JRC 2008 *Handbook on Constructing Composite Indicators* §6; the questionnaire contract uses
it at the top only, the function accepts it at any node as COINr does).

Also here: COINr-style normalisation (min-max to [a, b], z-scores) used for checking against COINr's ASEM example.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "IndexNode",
    "IndexResult",
    "ItemSpec",
    "compute_index",
    "effective_weights",
    "normalise_minmax",
    "normalise_zscore",
    "parse_index_tree",
    "score_items",
]

Aggregation = Literal["arithmetic", "geometric"]


@dataclass(frozen=True)
class ItemSpec:
    """Goalposts of an item: answers ``low``..``high`` map to 0..100 (reversed: high..low)."""

    low: float
    high: float
    reverse: bool = False


@dataclass(frozen=True)
class IndexNode:
    """A node of the index tree; leaves are item (or indicator) ids."""

    id: str
    weight: float = 1.0
    min_share: float = 0.0
    aggregation: Aggregation = "arithmetic"
    children: tuple[IndexNode, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self) -> Iterator[IndexNode]:
        """Pre-order traversal (this node first)."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> list[str]:
        return [node.id for node in self.walk() if node.is_leaf]

    def internal(self) -> list[IndexNode]:
        return [node for node in self.walk() if not node.is_leaf]

    def truncated(self, leaf_ids: set[str]) -> IndexNode:
        """The tree cut so that nodes in ``leaf_ids`` become leaves (e.g. to aggregate indicator-level scores)."""
        if self.id in leaf_ids or self.is_leaf:
            return IndexNode(self.id, self.weight, self.min_share, self.aggregation, ())
        return IndexNode(
            self.id,
            self.weight,
            self.min_share,
            self.aggregation,
            tuple(c.truncated(leaf_ids) for c in self.children),
        )


@dataclass(frozen=True)
class IndexResult:
    """Scores of every node (``scores[node_id]``, shape (n,), NaN = not enough data for that node)."""

    tree: IndexNode
    scores: dict[str, NDArray[np.float64]]
    leaf_ids: tuple[str, ...]

    def matrix(self, node_ids: list[str] | None = None) -> NDArray[np.float64]:
        """Scores of ``node_ids`` (default: every node, pre-order) as columns."""
        ids = node_ids or [node.id for node in self.tree.walk()]
        return np.column_stack([self.scores[i] for i in ids])

    def missing_count(self, node_id: str | None = None) -> int:
        """Rows without a score for ``node_id`` (default: the top)."""
        return int(np.isnan(self.scores[node_id or self.tree.id]).sum())

    def row_effective_weights(self) -> NDArray[np.float64]:
        """Effective weight of every leaf in each row's top score, (n, #leaves) in ``leaf_ids`` order.

        The product over the path of w_k · 1[child available] / Σ_available w (the weights after available-case
        re-normalisation; exponent weights for geometric nodes). Rows sum to 1 where the top score exists, 0
        otherwise; for arithmetic trees Σ_leaf weight · score reproduces the top score.
        """
        n = self.scores[self.tree.id].shape[0]
        out = np.zeros((n, len(self.leaf_ids)))
        pos = {leaf: j for j, leaf in enumerate(self.leaf_ids)}

        def visit(node: IndexNode, factor: NDArray[np.float64]) -> None:
            if node.is_leaf:
                out[:, pos[node.id]] = factor
                return
            w = np.array([c.weight for c in node.children], dtype=np.float64)
            w = w / w.sum()
            avail = [~np.isnan(self.scores[c.id]) for c in node.children]
            den = sum(wk * a for wk, a in zip(w, avail, strict=True))
            with np.errstate(divide="ignore", invalid="ignore"):
                base = np.where(~np.isnan(self.scores[node.id]), factor / den, 0.0)
            for child, wk, a in zip(node.children, w, avail, strict=True):
                visit(child, np.where(a, base * wk, 0.0))

        visit(self.tree, np.ones(n))
        return out


def parse_index_tree(tree: Mapping[str, Any]) -> IndexNode:
    """Validate the plain-dict index tree and return IndexNode objects.

    Errors (ValueError naming the node): missing or duplicate id, negative or non-finite weight, all-zero sibling
    weights, ``min_share`` outside [0, 1], unknown aggregation.
    """
    seen: set[str] = set()

    def build(node: Mapping[str, Any], path: str, is_root: bool) -> IndexNode:
        if not isinstance(node, Mapping) or "id" not in node:
            raise ValueError(f"index tree node at {path} has no 'id' / 指标树节点缺少 id")
        node_id = str(node["id"])
        where = f"{path}/{node_id}" if path else node_id
        if node_id in seen:
            raise ValueError(f"index tree: duplicate id {node_id!r} at {where} / 指标 id 重复")
        seen.add(node_id)
        weight = float(node.get("weight", 1.0))
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(
                f"index tree node {where}: weight must be finite and >= 0, got {node.get('weight')!r}"
            )
        min_share = float(node.get("min_share", 0.0))
        if not 0 <= min_share <= 1:
            raise ValueError(f"index tree node {where}: min_share must be in [0, 1], got {min_share}")
        aggregation = node.get("aggregation", "arithmetic")
        if aggregation not in ("arithmetic", "geometric"):
            raise ValueError(f"index tree node {where}: aggregation must be arithmetic or geometric")
        children = tuple(build(c, where, False) for c in node.get("children", ()) or ())
        if children and sum(c.weight for c in children) <= 0:
            raise ValueError(
                f"index tree node {where}: the children's weights are all zero / 子指标权重全为零"
            )
        return IndexNode(node_id, 1.0 if is_root else weight, min_share, aggregation, children)

    if isinstance(tree, IndexNode):
        return tree
    return build(tree, "", True)


def score_items(
    answers: Mapping[str, ArrayLike], specs: Mapping[str, Mapping[str, Any] | ItemSpec]
) -> dict[str, NDArray[np.float64]]:
    """Answers → 0–100 with fixed goalposts: s = 100 (x − min)/(max − min), reversed s = 100 (max − x)/(max − min).

    Fixed goalposts (the scale's end points, not the sample's) keep scores comparable across cities and years
    (OECD/JRC 2008 Handbook §5, "distance to a reference"; ACSI's (x − 1)/9 × 100). "Don't know"/"not applicable"
    arrive as NaN or None and stay missing. Answers outside [min, max] raise ValueError naming the item and row.
    """
    out: dict[str, NDArray[np.float64]] = {}
    for item_id, raw in answers.items():
        if item_id not in specs:
            raise ValueError(
                f"item {item_id!r} has no scoring spec (min/max) / 题目 {item_id!r} 缺少计分规则"
            )
        spec = _item_spec(item_id, specs[item_id])
        x = _float_vector(raw, f"answers[{item_id!r}]")
        ok = ~np.isnan(x)
        bad = ok & ((x < spec.low) | (x > spec.high))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"item {item_id!r}: answer {float(x[i]):g} at row {i} is outside [{spec.low:g}, {spec.high:g}] / 题目 "
                f"{item_id!r} 第 {i} 行的回答超出量表范围"
            )
        s = (x - spec.low) / (spec.high - spec.low) * 100.0
        out[item_id] = 100.0 - s if spec.reverse else s
    return out


def compute_index(tree: Mapping[str, Any] | IndexNode, leaf_scores: Mapping[str, ArrayLike]) -> IndexResult:
    """Aggregate leaf scores up the tree, available-case, with each node's ``min_share`` rule.

    Node score (arithmetic) = Σ_{k available} w_k v_k / Σ_{k available} w_k, missing if Σ_avail w_k / Σ w_k <
    min_share (or no child available); geometric = exp(Σ w_k ln v_k / Σ w_k) over available children, which needs
    v ≥ 0 (a zero child gives 0). Reference: OECD/JRC (2008) Handbook §6.1–6.2; COINr::Aggregate (available-case
    re-normalisation of weights). ``IndexResult.row_effective_weights()`` gives each row's effective leaf weights.
    """
    root = parse_index_tree(tree)
    leaf_ids = tuple(root.leaves())
    missing = [i for i in leaf_ids if i not in leaf_scores]
    if missing:
        raise ValueError(f"scores missing for leaves {missing[:5]} (of {len(missing)}) / 缺少题目得分")
    n = _float_vector(leaf_scores[leaf_ids[0]], f"scores[{leaf_ids[0]!r}]").shape[0]
    scores: dict[str, NDArray[np.float64]] = {}

    def visit(node: IndexNode) -> NDArray[np.float64]:
        if node.is_leaf:
            v = _float_vector(leaf_scores[node.id], f"scores[{node.id!r}]")
            if v.shape[0] != n:
                raise ValueError(f"scores[{node.id!r}] has {v.shape[0]} rows, expected {n}")
            scores[node.id] = v
            return v
        w = np.array([c.weight for c in node.children], dtype=np.float64)
        w = w / w.sum()
        V = np.column_stack([visit(child) for child in node.children])
        avail = ~np.isnan(V)
        den = avail @ w
        ok = (den > 0) & (den >= node.min_share - 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            if node.aggregation == "geometric":
                if (V[avail] < 0).any():
                    raise ValueError(
                        f"node {node.id!r}: geometric aggregation needs scores >= 0 / 几何平均需非负得分"
                    )
                used = avail & (w > 0)
                logs = np.where(used, np.log(np.where(used, V, 1.0)), 0.0)
                val = np.exp(logs @ w / den)
            else:
                val = np.where(avail, V, 0.0) @ w / den
        val = np.where(ok, val, np.nan)
        scores[node.id] = val
        return val

    visit(root)
    return IndexResult(tree=root, scores=scores, leaf_ids=leaf_ids)


def effective_weights(tree: Mapping[str, Any] | IndexNode) -> dict[str, float]:
    """Nominal effective weight of every node in the top score: the product of the sibling-normalised weights on
    the path from the root (COINr::get_eff_weights; OECD/JRC 2008 §6). The root has 1; the leaves sum to 1."""
    root = parse_index_tree(tree)
    out: dict[str, float] = {root.id: 1.0}

    def visit(node: IndexNode, acc: float) -> None:
        total = sum(c.weight for c in node.children)
        for child in node.children:
            out[child.id] = acc * child.weight / total
            visit(child, out[child.id])

    visit(root, 1.0)
    return out


def normalise_minmax(
    x: ArrayLike, *, low: float = 0.0, high: float = 100.0, direction: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Column-wise min-max normalisation to [low, high] after multiplying by ``direction`` (±1 per column):
    y = low + (high − low)(d·x − min)/(max − min), NaN ignored (COINr::n_minmax; OECD/JRC 2008 §5). A constant
    column raises ValueError (its normalised value is undefined)."""
    X = _oriented(x, direction)
    lo, hi = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    if (hi - lo <= 0).any():
        j = int(np.argmax(hi - lo <= 0))
        raise ValueError(f"column {j} is constant: min-max normalisation is undefined / 第 {j} 列为常数")
    return low + (high - low) * (X - lo) / (hi - lo)


def normalise_zscore(
    x: ArrayLike, *, mean: float = 0.0, sd: float = 1.0, direction: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Column-wise z-scores rescaled to (mean, sd): y = mean + sd (d·x − x̄)/s, s with n − 1 (COINr::n_zscore with
    m_sd = c(mean, sd); OECD/JRC 2008 §5). A constant column raises ValueError."""
    X = _oriented(x, direction)
    s = np.nanstd(X, axis=0, ddof=1)
    if (s <= 0).any() or np.isnan(s).any():
        raise ValueError(f"column {int(np.argmax(~(s > 0)))} has no spread: z-scores are undefined")
    return mean + sd * (X - np.nanmean(X, axis=0)) / s


def _oriented(x: ArrayLike, direction: ArrayLike | None) -> NDArray[np.float64]:
    X = np.asarray(x, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if direction is not None:
        d = np.asarray(direction, dtype=np.float64)
        if d.shape != (X.shape[1],) or not np.all(np.isin(d, (-1.0, 1.0))):
            raise ValueError(f"direction must be ±1 for each of the {X.shape[1]} columns")
        X = X * d
    return X


def _item_spec(item_id: str, spec: Mapping[str, Any] | ItemSpec) -> ItemSpec:
    if isinstance(spec, ItemSpec):
        out = spec
    else:
        try:
            out = ItemSpec(float(spec["min"]), float(spec["max"]), bool(spec.get("reverse", False)))
        except KeyError as exc:
            raise ValueError(
                f"item {item_id!r}: spec needs 'min' and 'max' / 题目 {item_id!r} 计分规则缺少 min/max"
            ) from exc
    if not out.high > out.low:
        raise ValueError(f"item {item_id!r}: max must exceed min, got [{out.low}, {out.high}]")
    return out


def _float_vector(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.array([np.nan if v is None else v for v in arr.reshape(-1)], dtype=np.float64)
    v = np.asarray(arr, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {v.shape}")
    if np.isinf(v).any():
        raise ValueError(f"{name} contains infinite values at row {int(np.argmax(np.isinf(v)))}")
    return v
