"""Release pages under load: latency and throughput of the public pages against GET /health in the same run.

Loads the demo (``survey-platform demo``) into a fresh data directory (or reuses one given with --data-dir),
starts ``survey-platform serve`` (one uvicorn worker, SQLite), opens every page once (the first view renders and
stores it), then runs N keep-alive clients for a bounded time against GET /health and against a rotation of release
pages (overview, rankings in several sorts and filters, cities, provinces, inspections, methodology, open data),
alternating the two modes. Every page request asks for gzip, as browsers do. Prints the figures as JSON and as
the Markdown table of benchmarks/README.md.

    .venv/bin/python benchmarks/release_pages.py                       # the full demo: 100 cities × 600
    .venv/bin/python benchmarks/release_pages.py --data-dir /tmp/demo   # reuse a loaded demo (made on first use)
    .venv/bin/python benchmarks/release_pages.py --cities 12 --per-city 80 --min-sample 60 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_load import cpu_seconds, free_port, run_load

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SURVEY = "city-satisfaction-2025-r1"
INSPECTION = "qr-inspection-2025-r1"


def _get(raw_path: str) -> bytes:
    return (
        f"GET {raw_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n".encode()
    )


def page_paths(data_dir: Path) -> list[str]:
    """The release pages the clients rotate over (cities and provinces read from the stored release)."""
    connection = sqlite3.connect(data_dir / "survey.sqlite")
    try:
        (results,) = connection.execute("SELECT results FROM release WHERE code = ?", (SURVEY,)).fetchone()
    finally:
        connection.close()
    release = json.loads(results)
    cities = [c["city"] for c in release["rankings"]["cities"]]
    provinces = sorted({p["province"] for p in release["provinces"]})
    base = f"/releases/{SURVEY}"
    paths = [
        base,
        f"{base}/rankings",
        f"{base}/rankings?sort=score&order=asc",
        f"{base}/rankings?sort=change",
        f"{base}/rankings?province={urllib.parse.quote(provinces[0])}",
        f"{base}/methodology",
        f"{base}/data",
        f"/releases/{INSPECTION}/inspections",
    ]
    paths += [f"{base}/cities/{code}" for code in cities[:: max(1, len(cities) // 8)][:8]]
    paths += [f"{base}/provinces/{urllib.parse.quote(name)}" for name in provinces[:4]]
    return paths


def fetch(port: int, path: str, encoding: str) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=120) as reply:
        return reply.status, reply.read(), {k.lower(): v for k, v in reply.headers.items()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="reuse (or make once) a demo data directory"
    )
    parser.add_argument("--cities", type=int, default=100)
    parser.add_argument("--per-city", type=int, default=600)
    parser.add_argument("--min-sample", type=int, default=None)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="per mode and round")
    parser.add_argument("--rounds", type=int, default=2, help="health and pages alternate this many times")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="release-pages-")) if args.data_dir is None else args.data_dir
    data_dir = work / "data" if args.data_dir is None else args.data_dir
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "QUESTIONNAIRES_DIR": str(ROOT / "questionnaires"),
        "SURVEY_RATE_LIMIT_PER_MINUTE": "0",
        "SURVEY_PASSWORD_ITERATIONS": "1000",  # the demo's accounts only; not what is measured
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if not (data_dir / "survey.sqlite").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        command = ["demo", "--cities", str(args.cities), "--per-city", str(args.per_city)]
        if args.min_sample:
            command += ["--min-sample", str(args.min_sample)]
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, "-m", "survey_platform.cli", *command], env=env, check=True, capture_output=True
        )
        print(f"demo loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "survey_platform.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(port, "/health", "identity")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        paths = page_paths(data_dir)
        first_view: dict[str, float] = {}
        for path in paths:  # the first view renders and stores each page (charts drawn once)
            started = time.perf_counter()
            status, _, _ = fetch(port, path, "gzip")
            first_view[path] = (time.perf_counter() - started) * 1000
            assert status == 200, (path, status)
        _, zipped, headers = fetch(port, f"/releases/{SURVEY}/rankings", "gzip")
        _, plain, _ = fetch(port, f"/releases/{SURVEY}/rankings", "identity")
        assert headers.get("content-encoding") == "gzip", headers
        assert gzip.decompress(zipped) == plain

        rotation = [_get(p) for p in paths]
        counter = {"i": 0}

        def next_page() -> bytes:
            counter["i"] += 1
            return rotation[counter["i"] % len(rotation)]

        health = _get("/health")
        runs: dict[str, list[dict[str, Any]]] = {"health": [], "pages": []}
        cpu: dict[str, float] = {"health": 0.0, "pages": 0.0}
        for _ in range(args.rounds):
            for mode, make in (("health", lambda: health), ("pages", next_page)):
                before = cpu_seconds(server.pid)["server"]
                result = asyncio.run(run_load(port, args.clients, args.seconds, make))
                cpu[mode] += cpu_seconds(server.pid)["server"] - before
                assert set(result["statuses"]) == {200}, result["statuses"]
                runs[mode].append(result)
    finally:
        server.terminate()
        server.wait(timeout=30)

    def combined(mode: str) -> dict[str, Any]:
        rs = runs[mode]
        requests = sum(r["requests"] for r in rs)
        return {
            "requests": requests,
            "per_second": requests / sum(r["seconds"] for r in rs),
            "p50_ms": max(r["p50_ms"] for r in rs),
            "p99_ms": max(r["p99_ms"] for r in rs),
            "max_ms": max(r["max_ms"] for r in rs),
            "server_cpu_us_per_request": 1e6 * cpu[mode] / max(1, requests),
        }

    summary = {
        "clients": args.clients,
        "seconds_per_mode": args.seconds * args.rounds,
        "pages_rotated": len(paths),
        "health": combined("health"),
        "pages": combined("pages"),
        "rankings_bytes_gzip": len(zipped),
        "rankings_bytes_plain": len(plain),
        "first_view_ms_max": max(first_view.values()),
        "first_view_ms_rankings": first_view[f"/releases/{SURVEY}/rankings"],
    }
    summary["throughput_ratio"] = summary["pages"]["per_second"] / summary["health"]["per_second"]
    print(json.dumps(summary, indent=1))
    h, p = summary["health"], summary["pages"]
    print(
        "\n| mode | requests/s | p50 ms | p99 ms | server CPU µs/request |\n|---|---:|---:|---:|---:|\n"
        f"| GET /health | {h['per_second']:,.0f} | {h['p50_ms']:.2f} | {h['p99_ms']:.2f} | "
        f"{h['server_cpu_us_per_request']:.0f} |\n"
        f"| release pages ({len(paths)} rotated) | {p['per_second']:,.0f} | {p['p50_ms']:.2f} | "
        f"{p['p99_ms']:.2f} | {p['server_cpu_us_per_request']:.0f} |\n\n"
        f"Throughput ratio pages / health: {summary['throughput_ratio']:.2f}; rankings page "
        f"{summary['rankings_bytes_gzip']:,} bytes gzip ({summary['rankings_bytes_plain']:,} plain); first view "
        f"(render + store) {summary['first_view_ms_rankings']:.0f} ms for the rankings, "
        f"{summary['first_view_ms_max']:.0f} ms at most."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
