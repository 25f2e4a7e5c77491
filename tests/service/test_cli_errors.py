"""The real command line (a subprocess) fails with one line on stderr and a non-zero exit code, never a traceback;
argparse's own usage errors and --help are kept."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from conftest import REQUIRE_SERVICES, Services

from survey_platform.storage.database import MIGRATION_LOCK_KEY

DATA = Path(__file__).resolve().parent / "data"


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SURVEY_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        {"DATA_DIR": str(data_dir), "QUESTIONNAIRES_DIR": str(DATA), "SURVEY_PASSWORD_ITERATIONS": "1000"}
    )
    env.update(extra)
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "survey_platform.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(result: subprocess.CompletedProcess[str], exit_code: int, *expected: str) -> str:
    """The single line on stderr of a failed command (checked: exit code, no traceback, the expected words)."""
    assert result.returncode == exit_code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("survey-platform: 错误 / error: "), lines[0]
    for words in expected:
        assert words in lines[0], lines[0]
    return lines[0]


def test_failures_without_a_database(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    one_line(
        run(env, "export", "any", "-o", "/missing/dir/x.csv"), 1, "cannot access /missing/dir", "no such"
    )
    one_line(
        run(env, "import", "cities", str(tmp_path / "none.csv")), 1, f"cannot access {tmp_path / 'none.csv'}"
    )
    bad_setting = environment(tmp_path / "data", SURVEY_MAX_BODY_BYTES="lots")
    one_line(run(bad_setting, "db", "migrate"), 2, "configuration error", "SURVEY_MAX_BODY_BYTES='lots'")
    not_postgres = environment(tmp_path / "data", DATABASE_URL="mysql://db/x")
    one_line(run(not_postgres, "db", "migrate"), 2, "DATABASE_URL", "only postgresql://")
    unreachable = environment(tmp_path / "data", DATABASE_URL="postgresql://app:s3cret@127.0.0.1:1/survey")
    line = one_line(
        run(unreachable, "export", "any", "-o", str(tmp_path / "x.csv")),
        1,
        "cannot open the database postgresql://127.0.0.1:1/survey",
        "ConnectionRefusedError",
    )
    assert "s3cret" not in line
    assert not (tmp_path / "x.csv").exists()


def test_a_broken_database_file_and_a_failing_migration(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "survey.sqlite").write_bytes(b"not a database" * 100)
    one_line(
        run(environment(garbage), "db", "migrate"), 1, "cannot open the database", "file is not a database"
    )
    clash = tmp_path / "clash"
    clash.mkdir()
    with sqlite3.connect(clash / "survey.sqlite") as connection:
        connection.execute("CREATE TABLE city (x INTEGER)")  # in the way of the first migration
    one_line(run(environment(clash), "db", "migrate"), 1, "the database migration failed", "city")


def test_usage_errors_and_help_stay_argparse_s(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    usage = run(env, "export")
    assert usage.returncode == 2 and usage.stderr.startswith("usage: survey-platform export")
    assert "the following arguments are required" in usage.stderr and "Traceback" not in usage.stderr
    helped = run(env, "--help")
    assert helped.returncode == 0 and "--traceback" in helped.stdout


def test_domain_and_input_failures(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    one_line(run(env, "export", "nope", "-o", str(tmp_path / "x.csv")), 1, "campaign 'nope' not found")
    one_line(run(env, "campaign", "create", "c1", "--name", "n", "--questionnaire", "nope"), 1, "'nope'")
    invalid = run(env, "campaign", "create", "Bad Code", "--name", "n", "--questionnaire", "mini_city")
    one_line(invalid, 1, "invalid input", "$.code")
    one_line(run(env, "campaign", "open", "nope"), 1, "campaign 'nope' not found")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # the failed export left no file


def test_an_interrupted_command_says_so(services: Services, tmp_path: Path) -> None:
    """SIGINT while `db migrate` waits for the migration lock (held here): one line, exit 130."""
    if services.database_url is None:
        if REQUIRE_SERVICES:
            pytest.fail(services.reason)
        pytest.skip(services.reason)
    url = services.database_url

    async def scenario() -> subprocess.CompletedProcess[str]:
        holder = await asyncpg.connect(url)
        try:
            await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            process = subprocess.Popen(
                [sys.executable, "-m", "survey_platform.cli", "db", "migrate"],
                env=environment(tmp_path / "data", DATABASE_URL=url),
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 60
            waiting = 0
            while not waiting and time.monotonic() < deadline and process.poll() is None:
                await asyncio.sleep(0.1)
                waiting = await holder.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
            assert waiting, "the command never waited for the migration lock"
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.to_thread(process.communicate, timeout=60)
            return subprocess.CompletedProcess(process.args, process.returncode, "", stderr)
        finally:
            await holder.close()

    one_line(asyncio.run(scenario()), 130, "已中断 / interrupted")
