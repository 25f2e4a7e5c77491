"""Speed of the pure release core: compute_release on the synthetic national campaign (100 cities × 600 interviews)
and on its 200-venue inspection, plus the open-data files of both.

Run:  .venv/bin/python benchmarks/release_compute.py [--repeat 3]
Prints the best wall time and the CPU time of each step (CPU time is the steadier figure on a machine shared with
other jobs), and the ratio to the reference workload of benchmarks/scoring_pipeline.py measured in the same run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from survey_platform.publishing.compute import compute_release
from survey_platform.publishing.model import MethodSettings
from survey_platform.publishing.opendata import OpenDataMeta, open_data_files
from survey_platform.publishing.synthetic import (
    inspection_release_inputs,
    national_campaign,
    survey_release_inputs,
)
from survey_platform.questionnaire.load import load_questionnaire

QUESTIONNAIRES = Path(__file__).resolve().parents[1] / "questionnaires"


def main() -> None:
    from scoring_pipeline import reference_seconds  # type: ignore[import-not-found]

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    survey = load_questionnaire(QUESTIONNAIRES / "city_satisfaction.yaml").questionnaire
    inspection = load_questionnaire(QUESTIONNAIRES / "qr_code_inspection.yaml").questionnaire
    assert survey is not None and inspection is not None
    t0 = time.perf_counter()
    campaign = national_campaign(2025, 100, 600, survey=survey, inspection=inspection, previous=False)
    generated = time.perf_counter() - t0
    method = MethodSettings(seed=2025)
    survey_inputs = survey_release_inputs(campaign, campaign.current, survey, method)
    inspection_inputs = inspection_release_inputs(campaign, inspection, method)
    meta = OpenDataMeta(release_id="bench", created="2025-07-01T00:00:00Z", software_version="bench")
    steps = {
        "compute_release (survey, 60,000 interviews)": lambda: compute_release(survey_inputs, survey),
        "compute_release (inspection, 200 audits)": lambda: compute_release(inspection_inputs, inspection),
    }
    results = {name: step() for name, step in steps.items()}  # warm-up
    steps["open_data_files (both releases)"] = lambda: [open_data_files(meta, r) for r in results.values()]
    ref = reference_seconds()
    print(f"synthetic campaign generated in {generated:.1f} s; reference workload {ref:.3f} s")
    print("| step | best wall s | CPU s | wall / reference |\n|---|---:|---:|---:|")
    total_wall = total_cpu = 0.0
    for name, step in steps.items():
        best_wall, best_cpu = float("inf"), float("inf")
        for _ in range(args.repeat):
            w, c = time.perf_counter(), time.process_time()
            step()
            best_wall = min(best_wall, time.perf_counter() - w)
            best_cpu = min(best_cpu, time.process_time() - c)
        total_wall += best_wall
        total_cpu += best_cpu
        print(f"| {name} | {best_wall:.3f} | {best_cpu:.3f} | {best_wall / ref:.1f} |")
    print(f"| total | {total_wall:.3f} | {total_cpu:.3f} | {total_wall / ref:.1f} |")


if __name__ == "__main__":
    main()
