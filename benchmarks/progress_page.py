"""The field-progress page of the admin's room with 100 cities and 60,000 interviews in the database.

Starts `survey-platform serve` (one worker) on a fresh SQLite data directory or a fresh PostgreSQL database,
imports the 100 cities of the demo (publishing.cities_cn), opens a city-survey campaign over them, and stores
60,000 fully valid interviews the way clients do: street interviews in batches from 20 signed-in, assigned
interviewers (``POST /api/v1/batch``) and 1,000 citizens by QR code (single POSTs). Then, against the same server:

- the first time the page is asked for, the quality flags are computed in the background; the script times how
  long until the progress reports them over all 60,000 interviews;
- once they are computed, N keep-alive clients ask, each in turn for the given seconds: ``GET /health`` (the
  baseline), the page ``GET /admin/campaigns/{code}/progress`` (session cookie) and the JSON it polls
  ``GET /api/v1/campaigns/{code}/progress`` (bearer token); latency percentiles and the ratio to ``/health`` in
  the same run are printed.

    .venv/bin/python benchmarks/progress_page.py --backend sqlite
    .venv/bin/python benchmarks/progress_page.py --backend postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import httpx
from service_load import PASSWORD, PYTHON, QUESTIONNAIRE, cli, free_port, run_load, valid_answers

from survey_platform.publishing.cities_cn import CITIES

CODE = "progress-bench"
T0 = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC)


def get(path: str, headers: dict[str, str]) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def _points() -> list[tuple[str, str | None, range]]:
    """(question, matrix item or None, scale points) of every rating of the city questionnaire."""
    from service_load import _questionnaire

    found = []
    for question in _questionnaire(QUESTIONNAIRE).questions:
        if question.scale is None:
            continue
        if question.type == "matrix":
            found += [(question.id, item.id, question.scale.points) for item in question.items]
        elif question.type == "likert":
            found.append((question.id, None, question.scale.points))
    return found


def varied(rng: random.Random, base: dict[str, Any], points: list[tuple[str, str | None, range]]) -> dict:
    """``base`` (a valid answer set) with every rating it answers drawn again: distinct interviews, still valid."""
    answers = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for question, item, scale in points:
        if item is None and isinstance(answers.get(question), int):
            answers[question] = rng.choice(scale)
        elif (
            item is not None
            and isinstance(answers.get(question), dict)
            and isinstance(answers[question].get(item), int)
        ):
            answers[question][item] = rng.choice(scale)
    return answers


def interviews(rng: random.Random, pool: list[dict[str, Any]], count: int, channel: str | None) -> list[dict]:
    """``count`` distinct interviews spread over the 100 cities; about 2% fast enough to be speeding."""
    points = _points()
    items = []
    for _ in range(count):
        start = T0 + datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        minutes = rng.uniform(1, 3) if rng.random() < 0.02 else rng.uniform(8, 20)
        item = {
            "id": str(uuid.uuid4()),
            "city": rng.choice(CITIES)[0],
            "answers": varied(rng, rng.choice(pool), points),
            "started_at": start.isoformat(),
            "submitted_at": (start + datetime.timedelta(minutes=minutes)).isoformat(),
        }
        if channel:
            item["channel"] = channel
        items.append(item)
    return items


def seed(
    env: dict[str, str], client: httpx.Client, total: int, citizens: int, excluded: int
) -> dict[str, str]:
    """Cities, the campaign, interviewers and ``total`` interviews; returns the admin's bearer header."""
    admin = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {admin}"}
    client.cookies.clear()
    version = client.get("/api/v1/questionnaires", params={"questionnaire": "city_satisfaction"}).json()[0][
        "id"
    ]
    campaign = {
        "code": CODE,
        "name": "进度基准 / progress benchmark",
        "questionnaire_version": version,
        "cities": [city[0] for city in CITIES],
    }
    assert client.post("/api/v1/campaigns", json=campaign, headers=headers).status_code == 201
    tokens = []
    for n in range(20):
        body = {"username": f"interviewer{n:02d}", "password": PASSWORD, "role": "interviewer"}
        tokens.append(
            (body["username"], client.post("/api/v1/accounts", json=body, headers=headers).json()["id"])
        )
    ids = [account_id for _, account_id in tokens]
    reply = client.put(f"/api/v1/campaigns/{CODE}/interviewers", json={"interviewers": ids}, headers=headers)
    assert reply.status_code == 200, reply.text
    assert client.post(f"/api/v1/campaigns/{CODE}/open", headers=headers).status_code == 200
    interviewer_headers = []
    for username, _ in tokens:
        token = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).json()[
            "token"
        ]
        interviewer_headers.append({"Authorization": f"Bearer {token}"})
        client.cookies.clear()
    rng = random.Random(60_000)
    pool = [valid_answers(QUESTIONNAIRE, rng) for _ in range(400)]
    street = total - citizens
    started = time.perf_counter()
    chosen: list[str] = []
    for n, first in enumerate(range(0, street, 2_500)):
        items = interviews(rng, pool, min(2_500, street - first), None)
        body = {"responses": [{**item, "campaign": CODE} for item in items]}
        reply = client.post(
            "/api/v1/batch", json=body, headers=interviewer_headers[n % len(interviewer_headers)]
        )
        assert reply.status_code == 200 and reply.json()["created"] == len(items), reply.text[:300]
        chosen.extend(item["id"] for item in items[:: max(1, len(items) // 20)])
    for item in interviews(rng, pool, citizens, "qr"):
        assert client.post(f"/api/v1/campaigns/{CODE}/responses", json=item).status_code == 201
    for response_id in chosen[:excluded]:  # reviewers' decisions: the progress counts the exclusions per city
        decision = {"decision": "exclude", "reason": "基准 / benchmark"}
        assert (
            client.post(f"/api/v1/responses/{response_id}/review", json=decision, headers=headers).status_code
            == 200
        )
    print(
        f"seeded {total} interviews and {min(excluded, len(chosen))} exclusions in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return headers


def drop_index(env: dict[str, str]) -> None:
    """Drop the covering index of the progress counts (migration 2026-11-28T10:00:00), to measure their effect."""
    statements = ["DROP INDEX IF EXISTS response_progress"]
    if env.get("DATABASE_URL"):
        import asyncpg

        async def drop() -> None:
            connection = await asyncpg.connect(env["DATABASE_URL"])
            for statement in statements:
                await connection.execute(statement)
            await connection.execute("ANALYZE response")
            await connection.close()

        asyncio.run(drop())
        return
    import sqlite3

    connection = sqlite3.connect(Path(env["DATA_DIR"]) / "survey.sqlite")
    with connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


def vacuum(env: dict[str, str]) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(env["DATABASE_URL"])
        for table in ("response", "response_review", "audit"):
            await connection.execute(f"VACUUM ANALYZE {table}")
        await connection.close()

    asyncio.run(run())


def session_cookie(client: httpx.Client) -> str:
    reply = client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert reply.status_code == 303, reply.text[:300]
    return reply.cookies["survey_session"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--interviews", type=int, default=60_000)
    parser.add_argument("--citizens", type=int, default=1_000)
    parser.add_argument("--excluded", type=int, default=500, help="interviews a reviewer excludes")
    parser.add_argument(
        "--without-index", action="store_true", help="drop the progress index first (to measure it)"
    )
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="PostgreSQL: VACUUM ANALYZE after loading (what autovacuum does later)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (to inspect it)")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="survey-progress-bench-"))
    (workdir / "data").mkdir()
    env = {
        **os.environ,
        "DATA_DIR": str(workdir / "data"),
        "SURVEY_RATE_LIMIT_PER_MINUTE": "0",
        "SURVEY_ANON_RESPONSES_PER_HOUR": "0",
        "SURVEY_PASSWORD": PASSWORD,
        "SURVEY_PASSWORD_ITERATIONS": "1000",
        "SURVEY_MAX_BATCH_BODY_BYTES": "64000000",
    }
    env.pop("REDIS_URL", None)
    database_name = None
    if args.backend == "postgres":
        import asyncpg

        database_name = f"survey_bench_{secrets.token_hex(4)}"

        async def create() -> None:
            connection = await asyncpg.connect(args.database_url)
            await connection.execute(f'CREATE DATABASE "{database_name}"')
            await connection.close()

        asyncio.run(create())
        env["DATABASE_URL"] = args.database_url.rsplit("/", 1)[0] + "/" + database_name
    else:
        env.pop("DATABASE_URL", None)
    cities = workdir / "cities.csv"
    cities.write_text(
        "code,name_zh,name_en,province,population\n"
        + "".join(f"{c[0]},{c[1]},{c[2]},{c[3]},{c[4] * 10_000}\n" for c in CITIES),
        encoding="utf-8",
    )
    cli(env, "import", "cities", str(cities))
    cli(env, "user", "create", "admin", "--role", "admin")
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "survey_platform.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=env["DATA_DIR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            bearer = seed(env, client, args.interviews, args.citizens, args.excluded)
            if args.without_index:
                drop_index(env)
            if args.vacuum and env.get("DATABASE_URL"):
                vacuum(env)
            cookie = session_cookie(client)
            client.cookies.clear()
            api = f"/api/v1/campaigns/{CODE}/progress"
            started = time.perf_counter()
            first = client.get(
                f"/admin/campaigns/{CODE}/progress", headers={"cookie": f"survey_session={cookie}"}
            )
            first_ms = (time.perf_counter() - started) * 1000
            assert first.status_code == 200 and "正在计算" in first.text, first.status_code
            while True:
                body = client.get(api, headers=bearer).json()
                if body["quality"]["judged"] == args.interviews:
                    break
                time.sleep(0.05)
            flags_s = time.perf_counter() - started
            print(
                f"first page (flags not yet computed): {first_ms:.0f} ms; flags over {args.interviews} interviews "
                f"ready after {flags_s:.1f} s ({body['quality']['flagged']} flagged); "
                f"valid {body['valid']}, cities {len(body['cities'])}",
                flush=True,
            )
        makers = {
            "health": lambda: get("/health", {}),
            "page": lambda: get(f"/admin/campaigns/{CODE}/progress", {"Cookie": f"survey_session={cookie}"}),
            "json": lambda: get(api, bearer),
        }
        results = {}
        for mode, make in makers.items():
            results[mode] = asyncio.run(run_load(port, args.clients, args.seconds, make))
            statuses = results[mode]["statuses"]
            assert set(statuses) == {200}, (mode, statuses)
            print(
                mode,
                json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in results[mode].items()}),
            )
        for mode in ("page", "json"):
            ratio = results[mode]["mean_ms"] / results["health"]["mean_ms"]
            throughput = results[mode]["per_second"] / results["health"]["per_second"]
            print(
                f"{mode}: mean {results[mode]['mean_ms']:.1f} ms, p50 {results[mode]['p50_ms']:.1f} ms, p99 "
                f"{results[mode]['p99_ms']:.1f} ms, max {results[mode]['max_ms']:.1f} ms; mean latency "
                f"{ratio:.1f}× /health's, throughput {throughput:.3f}× /health's"
            )
        page = urllib.parse.urlsplit(f"/admin/campaigns/{CODE}/progress").path
        indexes = "without" if args.without_indexes else "with"
        print(
            f"(page: {page}; {args.clients} client(s), {args.seconds:g} s per mode; {indexes} the progress indexes)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if database_name and args.keep:
            print(f"kept {env['DATABASE_URL']}")
        elif database_name:
            import asyncpg

            async def drop() -> None:
                connection = await asyncpg.connect(args.database_url)
                await connection.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
                await connection.close()

            asyncio.run(drop())
    return 0


if __name__ == "__main__":
    sys.exit(main())
