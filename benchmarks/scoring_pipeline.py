"""Speed of the scoring pipeline on synthetic national campaigns (issue targets: 100 cities × 600 respondents ×
40 items in ≤ 1 s; 1,000,000 respondents in ≤ 15 s and ≤ 2 GB peak memory).

Pipeline: item scores → index tree (3 dimensions, 17 indicators, 40 items) → per-city raking (age band × sex and
district margins of every city, one vectorised IPF) → design-based city estimates with SEs and the 100 × 100
covariance for the index, every dimension and every indicator → rank confidence sets (simultaneous and marginal,
scoring.ranking) → 1,000-draw weight/aggregation sensitivity on indicator-level city scores.

Run:  .venv/bin/python benchmarks/scoring_pipeline.py [--large] [--write]  (rank sets use scoring.ranking, part B)
Times are the best of ``--repeat`` runs (wall clock) and are also given as a ratio to a reference workload measured
in the same run (a fixed numpy workload: sorting 5 million float64 and a 1500 × 1500 matrix product), so figures
from different machines or loads can be compared. ``--large`` also runs the 1,000,000-respondent case in a child
process and reports its peak resident memory (ru_maxrss). ``--write`` replaces the "scoring pipeline (part A)"
section of benchmarks/README.md with the results.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from scoring.cities import city_results
from scoring.index import compute_index, score_items
from scoring.ranking import rank_confidence_sets
from scoring.sensitivity import weight_sensitivity
from scoring.survey import SurveyDesign

README = Path(__file__).with_name("README.md")
SECTION = "## Scoring pipeline (part A: benchmarks/scoring_pipeline.py)"


def make_tree(n_items: int = 40) -> dict[str, Any]:
    """3 dimensions with 6/6/5 indicators; items spread round-robin over the 17 indicators."""
    dims = [("supply", 6, 0.4), ("environment", 6, 0.35), ("rights", 5, 0.25)]
    indicators = [f"{d}_{j}" for d, k, _ in dims for j in range(k)]
    items: dict[str, list[str]] = {ind: [] for ind in indicators}
    for q in range(n_items):
        items[indicators[q % len(indicators)]].append(f"q{q:02d}")
    return {
        "id": "overall",
        "aggregation": "arithmetic",
        "children": [
            {
                "id": d,
                "weight": w,
                "min_share": 0.5,
                "children": [
                    {
                        "id": f"{d}_{j}",
                        "weight": 1.0 + 0.1 * j,
                        "children": [{"id": q} for q in items[f"{d}_{j}"]],
                    }
                    for j in range(k)
                ],
            }
            for d, k, w in dims
        ],
    }


def make_campaign(n_cities: int, per_city: int, n_items: int, seed: int = 2024) -> dict[str, Any]:
    """Synthetic answers (Likert 1–5, 3% "don't know"), demographics, and per-city population margins."""
    rng = np.random.default_rng(seed)
    n = n_cities * per_city
    city = np.repeat(np.arange(n_cities), per_city)
    quality = rng.normal(0, 0.35, n_cities)
    agesex = rng.integers(0, 8, n)
    district = rng.integers(0, 5, n)
    latent = quality[city] + 0.1 * (agesex % 4) + rng.normal(0, 0.6, n)
    answers = {}
    for q in range(n_items):
        x = np.clip(np.rint(3.6 + latent + rng.normal(0, 0.8, n)), 1, 5).astype(np.float32)
        x[rng.random(n) < 0.03] = np.nan
        answers[f"q{q:02d}"] = x
    city_pop = rng.integers(500_000, 10_000_000, n_cities).astype(float)
    agesex_share = rng.dirichlet(np.full(8, 5.0), n_cities)
    district_share = rng.dirichlet(np.full(5, 5.0), n_cities)
    pop_agesex = {(c, a): city_pop[c] * agesex_share[c, a] for c in range(n_cities) for a in range(8)}
    pop_district = {(c, d): city_pop[c] * district_share[c, d] for c in range(n_cities) for d in range(5)}
    return {
        "n": n,
        "city": city,
        "agesex": agesex,
        "district": district,
        "answers": answers,
        "specs": {q: {"min": 1, "max": 5} for q in answers},
        "base_weight": (city_pop / per_city)[city],
        "margins": {"agesex": ((city, agesex), pop_agesex), "district": ((city, district), pop_district)},
        "tree": make_tree(n_items),
    }


def run_pipeline(data: dict[str, Any], *, draws: int = 1000) -> dict[str, float]:
    """The whole pipeline once; returns the seconds of each stage."""
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    items = score_items(data["answers"], data["specs"])
    index = compute_index(data["tree"], items)
    t["items_and_index"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    design = SurveyDesign(data["base_weight"], strata=data["city"]).rake(data["margins"])
    t["raking"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    tree_nodes = [node.id for node in index.tree.walk() if not node.is_leaf]
    results = city_results(design, data["city"], index, nodes=tree_nodes)
    t["city_estimates_se_cov"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    top = results.nodes["overall"]
    rank_confidence_sets(top.estimate, cov=top.covariance, simultaneous=True, draws=1000, seed=1)
    rank_confidence_sets(top.estimate, cov=top.covariance, simultaneous=False, draws=1000, seed=1)
    t["rank_sets"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    indicators = [n.id for d in index.tree.children for n in d.children]
    weight_sensitivity(
        data["tree"],
        {k: results.nodes[k].estimate for k in indicators},
        cities=top.cities,
        draws=draws,
        seed=1,
    )
    t["sensitivity_1000"] = time.perf_counter() - t0
    t["total"] = sum(t.values())
    return t


def reference_seconds(repeat: int = 3) -> float:
    """A fixed numpy workload timed in the same run (best of ``repeat``)."""
    rng = np.random.default_rng(0)
    x = rng.random(5_000_000)
    a = rng.random((1500, 1500))
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.sort(x)
        a @ a
        best = min(best, time.perf_counter() - t0)
    return best


def best_of(data: dict[str, Any], repeat: int) -> dict[str, float]:
    runs = [run_pipeline(data) for _ in range(repeat)]
    return min(runs, key=lambda r: r["total"])


def large_child() -> None:
    """Run the 1,000,000-respondent case and print its timings and peak memory as JSON."""
    data = make_campaign(100, 10_000, 40)
    t = run_pipeline(data)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"timings": t, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also run 1,000,000 respondents (child process)")
    parser.add_argument("--write", action="store_true", help="write the results into benchmarks/README.md")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--large-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large_child:
        large_child()
        return
    ref = reference_seconds()
    data = make_campaign(100, 600, 40)
    run_pipeline(data)  # warm-up (imports, caches)
    national = best_of(data, args.repeat)
    large = None
    if args.large:
        out = subprocess.run(
            [sys.executable, __file__, "--large-child"], check=True, capture_output=True, text=True
        ).stdout
        large = json.loads(out.strip().splitlines()[-1])
    lines = report(ref, national, large, args)
    print("\n".join(lines))
    if args.write:
        write_section(lines)


def report(ref: float, national: dict[str, float], large: dict[str, Any] | None, args: Any) -> list[str]:
    cmd = ".venv/bin/python benchmarks/scoring_pipeline.py" + (" --large" if args.large else "")
    cmd += f" --repeat {args.repeat}" + (" --write" if args.write else "")
    lines = [
        SECTION,
        "",
        f"Command: `{cmd}` (Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, {__import__('os').cpu_count()} cores shared with other jobs).",
        f"Reference workload (sort 5e6 float64 + 1500² matmul), same run: {ref:.3f} s. "
        "Ratios = stage time / reference time.",
        "",
        "National campaign, 100 cities × 600 respondents × 40 items (best of repeats; target total ≤ 1 s):",
        "",
        "| stage | seconds | ratio to reference |",
        "|---|---:|---:|",
    ]
    lines += [f"| {k} | {v:.3f} | {v / ref:.2f} |" for k, v in national.items()]
    verdict = "meets" if national["total"] <= 1.0 else "MISSES"
    lines += ["", f"Total {national['total']:.3f} s: {verdict} the ≤ 1 s target."]
    if large is not None:
        lt = large["timings"]
        lines += [
            "",
            "1,000,000 respondents (100 cities × 10,000, 40 items; one run in a fresh process; targets ≤ 15 s, ≤ 2 GB):",
            "",
            "| stage | seconds | ratio to reference |",
            "|---|---:|---:|",
        ]
        lines += [f"| {k} | {v:.3f} | {v / ref:.2f} |" for k, v in lt.items()]
        ok = lt["total"] <= 15 and large["peak_mb"] <= 2048
        lines += [
            "",
            f"Total {lt['total']:.2f} s, peak resident memory {large['peak_mb']:.0f} MB "
            f"(includes the synthetic data): {'meets' if ok else 'MISSES'} the targets.",
        ]
    return lines


def write_section(lines: list[str]) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start >= 0:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + text[nxt + 1 :] if nxt >= 0 else text[:start]
    text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
