"""The citizen survey page under load, against GET /health in the same run, and its transferred size.

Starts `survey-platform serve` (one worker, SQLite or PostgreSQL) with an open campaign of the city questionnaire,
then runs N keep-alive clients on 127.0.0.1 for a bounded time, first on GET /health and then on
GET /s/bench/wuxi?via=qr (asking for gzip, as browsers do). The server's own time per request comes from its access
log (from the request's arrival to the last byte of the response), so the load generator sharing the two cores does
not inflate it; the clients' latencies are reported too. The transferred size is what a first visit downloads: the
page and every static file it references (stylesheets, ES modules and their imports, the icon), gzip-compressed.

    .venv/bin/python benchmarks/survey_page.py --clients 8 --seconds 10
    .venv/bin/python benchmarks/survey_page.py --backend postgres --clients 8 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_load import PASSWORD, PYTHON, cli, free_port

PAGE = "/s/bench/wuxi?via=qr"
ACCESS = re.compile(r"survey_platform\.access: GET (\S+) (\d{3}) ([\d.]+)ms")
IMPORT = re.compile(r"""(?:import|from)\s*['"](\.{1,2}/[^'"]+)['"]""")


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked); returns the status."""
    status_line = await reader.readline()
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return int(status_line.split()[1])


async def _client(
    port: int, request: bytes, deadline: float, latencies: list[float], statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _load(port: int, path: str, clients: int, seconds: float) -> dict[str, Any]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nAccept-Encoding: gzip\r\n"
        "Accept-Language: zh-CN\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(port, request, deadline, latencies, statuses) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "client": _percentiles(latencies, 1000),
        "statuses": statuses,
    }


def _percentiles(values: list[float], scale: float = 1.0) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * scale  # noqa: E731
    return {
        "p50_ms": round(pick(0.50), 2),
        "p99_ms": round(pick(0.99), 2),
        "max_ms": round(ordered[-1] * scale, 2),
    }


def _get(url: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.read(), {k.lower(): v for k, v in reply.headers.items()}


def transferred(base: str) -> dict[str, Any]:
    """Bytes of a first visit: the page and every static file it needs (imports followed), as sent (gzip)."""
    body, headers = _get(base + PAGE)
    page = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
    files: dict[str, int] = {"page": len(body)}
    pending = re.findall(rb'(?:href|src)="(/static/[^"]+)"', page)
    seen: set[str] = set()
    while pending:
        url = pending.pop().decode()
        if url in seen:
            continue
        seen.add(url)
        raw, got = _get(base + url)
        files[url.rsplit("/", 1)[-1]] = len(raw)
        text = gzip.decompress(raw) if got.get("content-encoding") == "gzip" else raw
        if url.endswith(".js"):
            folder = url.rsplit("/", 1)[0]
            for relative in IMPORT.findall(text.decode()):
                pending.append(os.path.normpath(f"{folder}/{relative}").encode())
    return {"total_bytes": sum(files.values()), "files": files}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="survey-page-bench-"))
    (workdir / "data").mkdir()
    env = {
        **os.environ,
        "DATA_DIR": str(workdir / "data"),
        "SURVEY_RATE_LIMIT_PER_MINUTE": "0",
        "SURVEY_PASSWORD": PASSWORD,
        "SURVEY_PASSWORD_ITERATIONS": "1000",
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
    cities.write_text("code,name_zh,name_en\nwuxi,无锡,Wuxi\n", encoding="utf-8")
    cli(env, "import", "cities", str(cities))
    cli(
        env,
        "campaign",
        "create",
        "bench",
        "--name",
        "城市测评",
        "--questionnaire",
        "city_satisfaction",
        "--cities",
        "wuxi",
    )
    cli(env, "campaign", "open", "bench")

    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "survey_platform.cli", "serve", "--port", str(port), "--log-level", "info"],
        env=env,
        cwd=env["DATA_DIR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: list[tuple[str, int, float]] = []

    def read_log() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            match = ACCESS.search(line)
            if match:
                log.append((match.group(1), int(match.group(2)), float(match.group(3))))

    threading.Thread(target=read_log, daemon=True).start()
    try:
        for _ in range(300):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        size = transferred(base)
        asyncio.run(_load(port, PAGE, 2, 1.0))  # warm-up: the questionnaire parsed, the client JSON encoded
        results: dict[str, Any] = {}
        for name, path in (("health", "/health"), ("survey", PAGE)):
            time.sleep(0.5)
            log.clear()
            results[name] = asyncio.run(_load(port, path, args.clients, args.seconds))
            time.sleep(0.5)  # the last access lines
            logged = [
                ms / 1000
                for logged_path, status, ms in log
                if logged_path == path.split("?")[0] and status == 200
            ]
            results[name]["server"] = _percentiles(logged, 1000)
            print(name, json.dumps(results[name]), flush=True)
        health, survey = results["health"], results["survey"]
        summary = {
            "clients": args.clients,
            "backend": args.backend,
            "survey_server_p99_ms": survey["server"]["p99_ms"],
            "health_server_p99_ms": health["server"]["p99_ms"],
            "server_p99_ratio": round(survey["server"]["p99_ms"] / max(health["server"]["p99_ms"], 1e-9), 2),
            "throughput_ratio": round(survey["per_second"] / health["per_second"], 3),
            "first_load_bytes": size["total_bytes"],
            "first_load_files": size["files"],
        }
        print("summary", json.dumps(summary, ensure_ascii=False))
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
