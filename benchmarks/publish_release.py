"""Publishing the demo's national campaign (100 cities × 600 interviews, 200 audits) from the database to a stored
release with its open-data files (issue target: ≤ 5 s on SQLite), with a breakdown, against the scoring pipeline.

Run:  .venv/bin/python benchmarks/publish_release.py [--backend sqlite|postgres] [--repeat 3] [--write]

The demo is loaded once into ``benchmarks/.work/publish-<backend>/`` (``survey-platform demo``, ~2 min; kept for
re-runs, ``--fresh`` reloads it). Each repeat publishes a correction of this year's survey (the full work: read the
interviews and the reviewers' decisions, decode the answers, apply the quality rules, compute every figure, write the
results and open-data files) and of the inspection. Reference in the same run: the scoring pipeline alone on a
synthetic campaign of the same size (``benchmarks/scoring_pipeline.run_pipeline``: items, index, raking, city
estimates with covariance, rank sets, sensitivity — no database, no drivers, no files). Figures are the best of
``--repeat`` (wall clock) and their ratio to that reference.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
README = ROOT / "README.md"
SECTION = "## Publishing a release (benchmarks/publish_release.py)"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/survey_bench_publish"


def _env(data_dir: Path, backend: str) -> dict[str, str]:
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    if backend == "postgres":
        env["DATABASE_URL"] = POSTGRES
    return env


def load_demo(data_dir: Path, backend: str, fresh: bool) -> None:
    marker = data_dir / "demo-truth.json"
    if marker.exists() and not fresh:
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    if backend == "postgres":
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc", "DROP DATABASE IF EXISTS survey_bench_publish",
             "-c", "CREATE DATABASE survey_bench_publish"],
            check=True,
        )  # fmt: skip
    print("loading the demo (100 × 600, once) …", file=sys.stderr)
    cli = [sys.executable, "-m", "survey_platform.cli", "demo"]
    subprocess.run(cli, env=_env(data_dir, backend), check=True, stdout=subprocess.DEVNULL)


async def publish_once(settings: Any, campaign: str) -> dict[str, float]:
    from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
    from survey_platform.publishing.service import publish
    from survey_platform.storage.database import Database

    database = Database(settings)
    await database.open()
    try:
        catalog = QuestionnaireCatalog()
        await catalog.register_directory(settings.questionnaires_dir)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        await publish(campaign, catalog, note="benchmark", seed=1, timings=timings)
        timings["total"] = time.perf_counter() - started
        return timings
    finally:
        await database.close()


def reference_seconds(repeat: int) -> float:
    """The scoring pipeline alone on 100 × 600 × 40 (best of ``repeat``), as in benchmarks/scoring_pipeline.py."""
    from scoring_pipeline import make_campaign, run_pipeline

    data = make_campaign(100, 600, 40)
    run_pipeline(data)  # warm-up
    return min(run_pipeline(data)["total"] for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="reload the demo")
    parser.add_argument("--write", action="store_true", help="write the results into benchmarks/README.md")
    args = parser.parse_args()
    data_dir = ROOT / ".work" / f"publish-{args.backend}"
    load_demo(data_dir, args.backend, args.fresh)
    from survey_platform.settings import Settings

    settings = Settings.from_env(_env(data_dir, args.backend))
    reference = reference_seconds(args.repeat)
    runs = {
        campaign: [asyncio.run(publish_once(settings, campaign)) for _ in range(args.repeat)]
        for campaign in ("city-satisfaction-2025", "qr-inspection-2025")
    }
    lines = report(args, reference, runs)
    print("\n".join(lines))
    if args.write:
        write_section(lines)


def report(args: Any, reference: float, runs: dict[str, list[dict[str, float]]]) -> list[str]:
    import numpy as np

    survey = min(runs["city-satisfaction-2025"], key=lambda r: r["total"])
    inspection = min(runs["qr-inspection-2025"], key=lambda r: r["total"])
    command = (
        f".venv/bin/python benchmarks/publish_release.py --backend {args.backend} --repeat {args.repeat}"
    )
    lines = [
        SECTION,
        "",
        f"Command: `{command}` (Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs; {args.backend}).",
        f"Reference in the same run: the scoring pipeline alone on 100 × 600 × 40 = {reference:.3f} s.",
        "",
        "This year's survey (100 cities × 600 interviews + the demo's screened-out and flagged ones), best of "
        f"{args.repeat}; target total ≤ 5 s on SQLite:",
        "",
        "| stage | seconds | ratio to the scoring pipeline |",
        "|---|---:|---:|",
    ]
    for stage in ("query", "decode", "read", "score", "files", "write", "total"):
        if stage in survey:
            label = {"read": "read (query + decode + inputs)"}.get(stage, stage)
            lines.append(f"| {label} | {survey[stage]:.3f} | {survey[stage] / reference:.2f} |")
    verdict = "meets" if survey["total"] <= 5 else "MISSES"
    lines += [
        "",
        f"Total {survey['total']:.2f} s: {verdict} the ≤ 5 s target. The inspection release (200 audits): "
        f"{inspection['total']:.2f} s.",
        "",
        "Stages: *query* reads the eligible interviews and the reviewers' decisions, *decode* turns their stored "
        "JSON answers into the scoring arrays, *score* is `publishing.compute.compute_release` (besides what the "
        "reference does: the key-driver regressions nationally and per city, each city's "
        "dimensions and indicators against the national figure, province figures, the change since last year's "
        "release, claims and the methodology tree), *files* the open-data files, *write* the release rows.",
    ]
    return lines


def write_section(lines: list[str]) -> None:
    text = README.read_text(encoding="utf-8")
    start = text.find(SECTION)
    if start >= 0:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + text[nxt + 1 :] if nxt >= 0 else text[:start]
    README.write_text(text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
