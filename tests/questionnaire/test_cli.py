"""`survey-platform questionnaire ...` as a user runs it: exit codes, compiler-style lines, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from survey_platform.cli import main

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).parent / "broken"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "survey_platform.cli", "questionnaire", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate_real_questionnaires_exits_0() -> None:
    done = run("validate", "questionnaires/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    assert "3 of 3 questionnaire files valid" in done.stderr


def test_validate_broken_files_exits_1_with_one_line_per_problem() -> None:
    done = run("validate", "unknown_key.yaml", "bad_weight.yaml", "missing.yaml", cwd=BROKEN)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "unknown_key.yaml:25:9: error: unknown key 'relevent' in question, did you mean 'relevant'?",
        "bad_weight.yaml:33:15: error: weight of dimension 'd_main' must be greater than 0, not 0",
        "bad_weight.yaml:36:48: error: weight of item 'q_value' must be greater than 0, not -1",
        "missing.yaml: error: no such file",
    ]
    assert "Traceback" not in done.stderr


def test_validate_a_directory_of_broken_files() -> None:
    done = run("validate", str(BROKEN))
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 14  # every problem of every file (see test_load.EXPECTED*)
    assert "Traceback" not in done.stdout + done.stderr


def test_schema_prints_json_schema() -> None:
    done = run("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "question_likert" in schema["$defs"]


def test_show_prints_the_outline_with_effective_weights() -> None:
    done = run("show", "questionnaires/qr_code_inspection.yaml", "--lang", "en")
    assert done.returncode == 0
    assert "QR-code payment inspection checklist" in done.stdout
    # critical check: weight 3 of 9 in forced_binding (9 of 13), payment_freedom 13 of 32 → 3/32 = 0.0938
    assert "chk_forced_follow  Does scanning force you" in done.stdout
    assert "weight 3 → 0.333, effective 0.0938" in done.stdout
    assert "16 items; effective weights sum to 1.0000" in done.stdout


# In-process runs for the awkward inputs (faster than a subprocess each).


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "nope.yaml", "nope.yaml: error: no such file"),
        (lambda d: d, "error: no questionnaire files (*.yaml, *.yml) in this directory"),
        (
            lambda d: _write(d / "bin.yaml", b"\x89PNG\r\n\x1a\n\x00\xff"),
            "bin.yaml:1:1: error: the file is not valid UTF-8",
        ),
        (lambda d: _write(d / "nul.yaml", b"id: a\x00b\n"), "nul.yaml:1:6: error: YAML syntax error: "),
        (
            lambda d: _write(d / "list.yaml", b"- 1\n"),
            "list.yaml:1:1: error: questionnaire must be a mapping, not a list",
        ),
        (lambda d: _write(d / "dir.yaml", None), "dir.yaml: error: no questionnaire files"),
    ],
)
def test_bad_inputs_never_raise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, expected: str
) -> None:
    path = make(tmp_path)
    assert main(["questionnaire", "validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert expected in out
    assert "Traceback" not in out + err


def test_show_of_a_broken_file_prints_its_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["questionnaire", "show", str(BROKEN / "cycle.yaml")]) == 1
    out, _ = capsys.readouterr()
    assert out.strip().endswith("error: cycle in relevant/calculation: q_sex → q_sat → q_sex")


def test_questionnaire_without_subcommand_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["questionnaire"]) == 2
    assert "validate" in capsys.readouterr().err


def _write(path: Path, data: bytes | None) -> Path:
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)
    return path
