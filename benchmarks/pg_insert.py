"""PostgreSQL's CPU per stored response: binary COPY against INSERT … SELECT FROM json_to_recordset … ON CONFLICT.

Both are the statements `storage/writer.py` sends (`PostgresResponseStore`: COPY for a batch of new responses, the
insert-or-skip when a batch holds an already stored UUID). A fresh database gets the real schema (`survey-platform
db migrate`: every index and foreign key of the response table), then batches of 500 realistic rows (the load
generator's answer sets) go in, the two statements taking turns round by round so that a growing table weighs on
both alike. The figure is the CPU time of the PostgreSQL backend serving the connection (Linux /proc), per row, and
the ratio COPY / insert-or-skip; the client's own CPU per row is printed too.

    .venv/bin/python benchmarks/pg_insert.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import random
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_load import PYTHON, QUESTIONNAIRE, valid_answers

from survey_platform.campaigns.lifecycle import SUBMITTING_STATUS
from survey_platform.storage.writer import (
    COLUMNS,
    PostgresResponseStore,
    ResponseRow,
    _pg_copy_record,
    _pg_record,
)

BATCH = 500
_JSON = msgspec.json.Encoder()


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(database_url: str, rounds: int) -> dict[str, dict[str, float]]:
    connection = await asyncpg.connect(database_url)
    try:
        questionnaire = await connection.fetchval(
            "INSERT INTO questionnaire_version (questionnaire_id, content_hash) VALUES ('bench', $1) RETURNING id",
            secrets.token_hex(32),
        )
        campaign = await connection.fetchval(
            "INSERT INTO campaign (code, questionnaire, status) VALUES ('bench', $1, 'open') RETURNING id",
            questionnaire,
        )
        rng = random.Random(7)
        answer_sets = [_JSON.encode(valid_answers(QUESTIONNAIRE, rng)).decode() for _ in range(50)]
        now = datetime.datetime.now(datetime.UTC)

        def batch() -> list[ResponseRow]:
            return [
                ResponseRow(
                    uuid=uuid.uuid4(),
                    campaign_id=campaign,
                    city_code="wuxi",
                    venue_id=None,
                    questionnaire_id=questionnaire,
                    answers_json=rng.choice(answer_sets),
                    body_hash=secrets.token_hex(32),
                    channel="intercept",
                    started_at=now - datetime.timedelta(minutes=12),
                    submitted_at=now,
                    received_at=now,
                    duration_seconds=720.0,
                    eligible=True,
                    quality_flags=(),
                    status="valid",
                    status_reason="",
                )
                for _ in range(BATCH)
            ]

        async def copy(rows: list[ResponseRow]) -> None:
            await connection.copy_records_to_table(
                "response", records=[_pg_copy_record(row) for row in rows], columns=COLUMNS
            )

        async def insert_or_skip(rows: list[ResponseRow]) -> None:
            body = _JSON.encode([_pg_record(row) for row in rows]).decode()
            await connection.fetch(PostgresResponseStore.INSERT, body, [campaign], SUBMITTING_STATUS)

        strategies: dict[str, Callable[[list[ResponseRow]], Awaitable[None]]] = {
            "copy": copy,
            "insert_or_skip": insert_or_skip,
        }
        pid = await connection.fetchval("SELECT pg_backend_pid()")
        totals = {name: {"server": 0.0, "client": 0.0, "rows": 0} for name in strategies}
        for _ in range(rounds):
            for name, write in strategies.items():
                batches = [batch() for _ in range(10)]
                server, client = backend_cpu_seconds(pid), time.process_time()
                for rows in batches:
                    await write(rows)
                totals[name]["server"] += backend_cpu_seconds(pid) - server
                totals[name]["client"] += time.process_time() - client
                totals[name]["rows"] += BATCH * len(batches)
        stored = await connection.fetchval("SELECT count(*) FROM response")
        assert stored == sum(t["rows"] for t in totals.values()), "rows went missing"
        return {
            name: {
                "postgres_us_per_row": 1e6 * t["server"] / t["rows"],
                "client_us_per_row": 1e6 * t["client"] / t["rows"],
                "rows": t["rows"],
            }
            for name, t in totals.items()
        }
    finally:
        await connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    name = f"survey_bench_{secrets.token_hex(4)}"
    url = args.database_url.rsplit("/", 1)[0] + "/" + name

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(args.database_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        subprocess.run(
            [PYTHON, "-m", "survey_platform.cli", "db", "migrate"],
            env={**os.environ, "DATABASE_URL": url},
            check=True,
            capture_output=True,
        )
        results = asyncio.run(measure(url, args.rounds))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}"'))
    for strategy, figures in results.items():
        print(strategy, msgspec.json.encode(figures).decode())
    ratio = results["copy"]["postgres_us_per_row"] / results["insert_or_skip"]["postgres_us_per_row"]
    print(f"PostgreSQL CPU per row, COPY / insert-or-skip: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
