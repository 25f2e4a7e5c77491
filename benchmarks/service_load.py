"""Load generator for the service: single-response POSTs, batch POSTs and GET /health on 127.0.0.1.

Starts `survey-platform serve` (one uvicorn worker) on a free local port with a fresh data directory (SQLite)
or a fresh PostgreSQL database, creates an open campaign over the city questionnaire, then runs N keep-alive
clients for a bounded time and prints throughput and latency percentiles. Every POST carries a fully valid
answer set, so every request is validated and committed before its reply.

Single POSTs are anonymous citizens: the server trusts 127.0.0.1 as a reverse proxy and every request carries its
own random ``X-Forwarded-For`` address, so the per-address hourly limit of anonymous responses is applied (as in
production) without refusing the load. Batches are sent by a signed-in interviewer assigned to the campaign (a
bearer token), as the field app does.

    .venv/bin/python benchmarks/service_load.py --backend sqlite --clients 32 --seconds 10
    .venv/bin/python benchmarks/service_load.py --backend postgres --clients 32 --seconds 10

Besides throughput and latency it reports the server's CPU time per request (all its processes, from /proc), the
figure that moves least with other jobs on a shared machine, and it counts the rows the database gained rather than
trusting the replies. To compare with an older commit, check it out elsewhere and point PYTHONPATH at it:

    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before .venv/bin/python benchmarks/service_load.py --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
QUESTIONNAIRE = ROOT / "questionnaires" / "city_satisfaction.yaml"
PASSWORD = "bench-lantern-7291"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@functools.lru_cache(maxsize=8)
def _questionnaire(path: Path) -> Any:
    from survey_platform.questionnaire import load_questionnaire

    questionnaire = load_questionnaire(path).questionnaire
    assert questionnaire is not None, f"{path} does not load"
    return questionnaire


def valid_answers(path: Path, rng: random.Random) -> dict[str, Any]:
    """A random answer set the questionnaire accepts (checked with validate_answers)."""
    from survey_platform.questionnaire import validate_answers

    questionnaire = _questionnaire(path)
    answers: dict[str, Any] = {}
    for question in questionnaire.questions:
        kind = question.type
        if kind == "yes_no":
            answers[question.id] = True
        elif kind == "integer":
            answers[question.id] = int(question.min if question.min is not None else 1)
        elif kind == "decimal":
            answers[question.id] = float(question.min if question.min is not None else 1.0)
        elif kind == "likert" and question.scale:
            answers[question.id] = rng.randint(question.scale.min, question.scale.max)
        elif kind == "matrix" and question.scale:
            answers[question.id] = {
                item.id: rng.randint(question.scale.min, question.scale.max) for item in question.items
            }
        elif kind == "single_choice" and question.choices:
            answers[question.id] = rng.choice(question.choices.codes())
        elif kind == "multiple_choice" and question.choices:
            answers[question.id] = [question.choices.codes()[0]]
        elif kind == "text" and question.required:
            answers[question.id] = "好"
    for _ in range(5):
        check = validate_answers(questionnaire, answers)
        if not check.errors:
            return answers
        for error in check.errors:
            answers.pop(error.path.removeprefix("answers.").split(".")[0], None)
    raise SystemExit(f"could not build a valid answer set: {validate_answers(questionnaire, answers).errors}")


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time (user + system, Linux /proc) so far of: the server (process ``pid`` and its running children),
    PostgreSQL (every process named ``postgres``, so other databases' work counts too) and the whole machine
    (busy time of all cores).

    Throughput on a shared machine swings with other jobs; the server's CPU time per request does much less."""
    tick = os.sysconf("SC_CLK_TCK")
    times = {"server": 0.0, "postgres": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.find("(") + 1 : text.rfind(")")], text.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            times["server"] += used
        elif name == "postgres":
            times["postgres"] += used
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    times["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / tick  # all but idle and iowait
    return times


def stored_responses(env: dict[str, str]) -> int:
    """Rows in the server's response table."""
    if env.get("DATABASE_URL"):
        import asyncpg

        async def count() -> int:
            connection = await asyncpg.connect(env["DATABASE_URL"])
            try:
                return await connection.fetchval("SELECT count(*) FROM response")
            finally:
                await connection.close()

        return asyncio.run(count())
    import sqlite3

    connection = sqlite3.connect(Path(env["DATA_DIR"]) / "survey.sqlite")
    try:
        return connection.execute("SELECT count(*) FROM response").fetchone()[0]
    finally:
        connection.close()


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [PYTHON, "-m", "survey_platform.cli", *args],
        env=env,
        cwd=env["DATA_DIR"],
        check=True,
        capture_output=True,
    )


async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(status_line.split()[1])


def post(path: str, body: bytes, headers: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def sign_in(port: int, username: str) -> str:
    """A bearer token for ``username`` (the password is the benchmark's)."""
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/login",
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return str(json.load(reply)["token"])


async def client(
    port: int, deadline: float, make: Any, latencies: list[float], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            raw = make()
            started = time.perf_counter()
            status = await _request(reader, writer, raw)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def run_load(port: int, clients: int, seconds: float, make: Any) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(client(port, deadline, make, latencies, statuses) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "statuses": statuses,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--modes", default="health,single,batch")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (more than one uses Redis at --redis-url)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="survey-bench-"))
    (workdir / "data").mkdir()
    env = {
        **os.environ,
        "DATA_DIR": str(workdir / "data"),
        "SURVEY_RATE_LIMIT_PER_MINUTE": "0",
        "SURVEY_TRUSTED_PROXIES": "127.0.0.1",
        "SURVEY_PASSWORD": PASSWORD,
        "SURVEY_PASSWORD_ITERATIONS": "1000",
    }
    env.pop("REDIS_URL", None)
    if args.workers > 1:
        env["REDIS_URL"] = args.redis_url
        env["SURVEY_REDIS_NAMESPACE"] = f"bench-{secrets.token_hex(4)}"
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
        "code,name_zh,name_en,province,population\nwuxi,无锡,Wuxi,江苏,7490000\n", encoding="utf-8"
    )
    cli(env, "import", "cities", str(cities))
    cli(
        env,
        "campaign",
        "create",
        "bench",
        "--name",
        "bench",
        "--questionnaire",
        "city_satisfaction",
        "--cities",
        "wuxi",
    )
    cli(env, "campaign", "open", "bench")
    if "batch" in args.modes:  # batches come from a signed-in interviewer assigned to the campaign
        cli(env, "user", "create", "bench-interviewer", "--role", "interviewer")
        cli(env, "campaign", "assign", "bench", "--role", "interviewer", "bench-interviewer")

    port = free_port()
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "survey_platform.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            # only when asked, so the script also drives older checkouts (PYTHONPATH) for before/after runs
            *(["--workers", str(args.workers)] if args.workers != 1 else []),
        ],
        env=env,
        # not the checkout: `python -m` puts the working directory first on sys.path, which would shadow a
        # PYTHONPATH pointing at another checkout (before/after runs)
        cwd=env["DATA_DIR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        rng = random.Random(7)
        pool = [valid_answers(QUESTIONNAIRE, rng) for _ in range(50)]
        now = "2026-05-01T09:00:00+00:00"
        later = "2026-05-01T09:12:00+00:00"

        # Bodies are assembled from pre-encoded answer sets, so the load generator (on the same two cores)
        # spends little CPU per request; every request still carries a new UUID.
        encoded = [json.dumps(answers, ensure_ascii=False).encode() for answers in pool]
        times = f', "started_at": "{now}", "submitted_at": "{later}"'.encode()

        def item(extra: bytes = b"") -> bytes:
            return (
                b'{"id": "'
                + str(uuid.uuid4()).encode()
                + b'", "city": "wuxi", "answers": '
                + rng.choice(encoded)
                + times
                + extra
                + b"}"
            )

        def batch_body() -> bytes:
            items = b", ".join(item(b', "campaign": "bench"') for _ in range(args.batch_size))
            return b'{"responses": [' + items + b"]}"

        token = sign_in(port, "bench-interviewer") if "batch" in args.modes else ""

        def citizen() -> str:
            return f"X-Forwarded-For: 10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}\r\n"

        makers = {
            "health": lambda: b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            "single": lambda: post("/api/v1/campaigns/bench/responses", item(), citizen()),
            "batch": lambda: post("/api/v1/batch", batch_body(), f"Authorization: Bearer {token}\r\n"),
        }
        results = {}
        for mode in args.modes.split(","):
            clients = args.clients if mode != "batch" else min(args.clients, 4)
            stored_before = stored_responses(env)
            cpu_before = cpu_seconds(server.pid)
            results[mode] = asyncio.run(run_load(port, clients, args.seconds, makers[mode]))
            cpu_after = cpu_seconds(server.pid)
            server_cpu = cpu_after["server"] - cpu_before["server"]
            for part in ("server", "postgres", "machine"):  # cores busy on average during the mode
                results[mode][f"{part}_cpu_share"] = (cpu_after[part] - cpu_before[part]) / results[mode][
                    "seconds"
                ]
            results[mode]["server_cpu_us_per_request"] = 1e6 * server_cpu / max(1, results[mode]["requests"])
            if mode != "health":
                # Count what the database holds, not what the replies claim (a batch answers 200 even when
                # every item fails).
                stored = stored_responses(env) - stored_before
                sent = results[mode]["requests"] * (args.batch_size if mode == "batch" else 1)
                results[mode]["stored"] = stored
                results[mode]["responses_per_second"] = stored / results[mode]["seconds"]
                results[mode]["server_cpu_us_per_response"] = 1e6 * server_cpu / max(1, stored)
                if stored != sent:
                    print(f"WARNING: {mode}: {sent} responses sent, {stored} stored", file=sys.stderr)
            print(mode, json.dumps(results[mode]), flush=True)
        if "health" in results and "single" in results:
            ratio = results["single"]["per_second"] / results["health"]["per_second"]
            print(f"single/health throughput ratio: {ratio:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if database_name:
            import asyncpg

            async def drop() -> None:
                connection = await asyncpg.connect(args.database_url)
                await connection.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
                await connection.close()

            asyncio.run(drop())
    return 0


if __name__ == "__main__":
    sys.exit(main())
