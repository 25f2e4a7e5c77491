"""Loading every questionnaire in questionnaires/ (issue target: well under a second, so it can run at every start).

Run:  .venv/bin/python benchmarks/questionnaire_load.py [--repeat 20] [--write]

Measures, in one process and the same run: the full load (YAML with positions, structural checks, expression
compilation, index tree) of all files, and as the reference the bare `yaml.safe_load` of the same files (the least
any YAML-based loader must do). Reports best-of-N wall times and their ratio. A cold start (a fresh interpreter
importing the package and loading everything) is measured as a subprocess. ``--write`` replaces this benchmark's
section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import yaml

from survey_platform.questionnaire.load import load_directory

ROOT = Path(__file__).resolve().parents[1]
DIRECTORY = ROOT / "questionnaires"
README = Path(__file__).with_name("README.md")
SECTION = "## Questionnaire loading (benchmarks/questionnaire_load.py)"


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def full_load() -> None:
    results = load_directory(DIRECTORY)
    bad = [p for p, r in results.items() if r.questionnaire is None]
    if bad:
        raise SystemExit(f"invalid questionnaires: {bad}")


def bare_yaml() -> None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(DIRECTORY.glob("*.yaml")):
        yaml.load(path.read_bytes(), Loader=loader)


def cold_start() -> float:
    code = (
        "import time; t=time.perf_counter(); "
        "from survey_platform.questionnaire.load import load_directory; "
        f"load_directory({str(DIRECTORY)!r}); print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    files = sorted(DIRECTORY.glob("*.yaml"))
    full_load()  # warm imports and caches
    full = best_of(args.repeat, full_load)
    bare = best_of(args.repeat, bare_yaml)
    cold = min(cold_start() for _ in range(3))
    lines = [
        SECTION,
        "",
        f"Command: `.venv/bin/python benchmarks/questionnaire_load.py --repeat {args.repeat} --write` "
        f"({len(files)} files, {sum(p.stat().st_size for p in files) / 1024:.0f} KiB).",
        "",
        "| what | seconds (best of N) | ratio to bare yaml.safe_load of the same files |",
        "|---|---:|---:|",
        f"| bare `yaml.safe_load` (reference) | {bare:.4f} | 1.00 |",
        f"| full load: positions, checks, compiled expressions, index tree | {full:.4f} | {full / bare:.2f} |",
        f"| cold start: new interpreter, import + full load | {cold:.4f} | {cold / bare:.2f} |",
        "",
        f"Target well under 1 s at every start: met ({cold:.3f} s cold)."
        if cold < 0.5
        else "Target NOT met.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        current = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
        start = current.find(SECTION)
        if start >= 0:
            end = current.find("\n## ", start + len(SECTION))
            current = current[:start] + current[end + 1 :] if end >= 0 else current[:start]
        README.write_text(current.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
