"""The expression conformance suite: every case of cases.yaml against Python, and (in one test) against expr.js.

Each case: ``expr``, optional ``refs`` (merged over the file's default ``refs``), ``answers``, ``this_type`` (type
of ``.``), ``this`` (its value), ``expect_type`` (required result type), ``max_steps``, ``type`` (the expected
static type), and either ``expect`` (the value) or ``error: {phase: compile|eval, code, contains?, offset?}``.
Expected values are hand-computed (see the comments in cases.yaml), not copied from the evaluator.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from survey_platform.questionnaire.expr import CAPS, ExprError, ExprEvalError, compile_expr, evaluate
from survey_platform.questionnaire.expr.numbers import format_number, round_half_away
from survey_platform.questionnaire.expr.regex import compile_program, compile_regex

HERE = Path(__file__).parent
NODE_TEST = HERE / "expr.test.mjs"
DOC: dict[str, Any] = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))
DEFAULT_REFS: dict[str, str] = DOC["refs"]
CASES: list[dict[str, Any]] = DOC["cases"]


def _name(index: int, case: dict[str, Any]) -> str:
    return f"{index:03d} {case.get('name') or case['expr']}"[:100]


def _compile(case: dict[str, Any]):
    return compile_expr(
        case["expr"],
        refs={**DEFAULT_REFS, **case.get("refs", {})},
        this=case.get("this_type"),
        expect=case.get("expect_type"),
    )


def _same(actual: object, expected: object) -> bool:
    """Equal values of the same kind; an integral expected number must come back as an int."""
    if expected is None or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, int | float):
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        return actual == expected and (not isinstance(expected, int) or isinstance(actual, int))
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(_same(actual[k], v) for k, v in expected.items())
        )
    return type(actual) is type(expected) and actual == expected


def test_suite_is_big_enough() -> None:
    assert len(CASES) >= 150
    assert all(("expect" in case) != ("error" in case) for case in CASES), "each case has expect xor error"
    phases = {case["error"]["phase"] for case in CASES if "error" in case}
    assert phases == {"compile", "eval"}


@pytest.mark.parametrize("case", CASES, ids=[_name(i, c) for i, c in enumerate(CASES)])
def test_case_python(case: dict[str, Any]) -> None:
    error = case.get("error")
    if error and error["phase"] == "compile":
        with pytest.raises(ExprError) as caught:
            _compile(case)
        if "code" in error:
            assert caught.value.code == error["code"], str(caught.value)
        if "contains" in error:
            assert error["contains"] in caught.value.message, caught.value.message
        if "offset" in error:
            assert caught.value.offset == error["offset"], str(caught.value)
        return
    compiled = _compile(case)
    if "type" in case:
        assert compiled.type == case["type"]
    kwargs = {"this": case.get("this"), "max_steps": case.get("max_steps")}
    for form in (compiled, json.loads(json.dumps(compiled.to_json()))):
        if error:
            with pytest.raises(ExprEvalError) as caught:
                evaluate(form, case.get("answers", {}), **kwargs)
            assert caught.value.code == error["code"], str(caught.value)
            if "contains" in error:
                assert error["contains"] in caught.value.message
        else:
            result = evaluate(form, case.get("answers", {}), **kwargs)
            assert _same(result, case["expect"]), f"got {result!r}, expected {case['expect']!r}"


# --- the JavaScript side ----------------------------------------------------------------------------------------

_ATOMS = ["a", "b", "c", ".", "\\d", "\\w", "\\s", "[ab]", "[^a]", "[a-c]", "\\.", "x", "[0-9]", "\\D"]
_TEXT_ALPHABET = "abcx0 9.\n"
LONG_PATTERNS = ["[ab]*a[ab]{20}$", "(?:[ab]*a[ab]{5}){12}$", "^(?:a|b|ab|ba){1,60}$", "(a+)+b{7}$", "b{9}"]
BAD_PATTERNS = [
    "(",
    ")",
    "a**",
    "*a",
    "[",
    "[]",
    "a{3,2}",
    "a{101}",
    "\\q",
    "(?=a)",
    "a*?",
    "[z-a]",
    "a{",
    "a{1,x}",
    "x]",
    "}",
    "[a-\\d]",
    "\\",
    "\\u12",
    "^*",
    "(a|b",
    "[[]",
    "((a{100}){100})",
    "a" * 501,
]


def _random_pattern(rng: random.Random, depth: int = 0) -> str:
    """A random pattern of the supported syntax (the same generator idea as the hypothesis test)."""
    parts = []
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.15 and depth < 2:
            inner = "|".join(_random_pattern(rng, depth + 1) for _ in range(rng.randint(1, 2)))
            atom = f"({inner})"
        else:
            atom = rng.choice(_ATOMS)
        quantifier = rng.choice(["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}"])
        parts.append(atom + quantifier)
    pattern = "".join(parts)
    if depth == 0:
        pattern = ("^" if rng.random() < 0.3 else "") + pattern + ("$" if rng.random() < 0.3 else "")
    return pattern


def _regex_cross_checks() -> dict[str, Any]:
    rng = random.Random(20261123)
    patterns = sorted({_random_pattern(rng) for _ in range(150)})
    programs = [{"pattern": p, "program": compile_program(p)} for p in patterns]
    searches = []
    for pattern in patterns:
        regex = compile_regex(pattern)
        for _ in range(4):
            text = "".join(rng.choice(_TEXT_ALPHABET) for _ in range(rng.randint(0, 8)))
            searches.append({"pattern": pattern, "text": text, "expect": regex.search(text)})
    for pattern in LONG_PATTERNS:  # long texts through big programs: the simulations must agree there too
        regex = compile_regex(pattern)
        for _ in range(2):
            text = "".join(rng.choice("ab") for _ in range(3000))
            searches.append({"pattern": pattern, "text": text, "expect": regex.search(text)})
    errors = []
    for pattern in BAD_PATTERNS:
        with pytest.raises(ExprError) as caught:
            compile_program(pattern)
        errors.append({"pattern": pattern, "offset": caught.value.offset})
    return {"programs": programs, "searches": searches, "errors": errors}


def _node_payload() -> dict[str, Any]:
    cases = []
    for index, case in enumerate(CASES):
        error = case.get("error")
        if error and error["phase"] == "compile":
            continue
        cases.append(
            {
                "name": _name(index, case),
                "compiled": _compile(case).to_json(),
                "answers": case.get("answers", {}),
                "this": case.get("this"),
                "max_steps": case.get("max_steps"),
                **({"error": {"code": error["code"]}} if error else {"expect": case["expect"]}),
            }
        )
    return {
        "caps": CAPS.eval_json(),
        "cases": cases,
        "regex": _regex_cross_checks(),
        "numbers": _number_checks(),
    }


def _number_checks() -> list[dict[str, Any]]:
    """Random doubles of many magnitudes with Python's formatting and rounding, for expr.js to reproduce."""
    rng = random.Random(7)
    values = [0.5, 1.005, 2.675, -2.5, 1e21, 1e-7, 123.456, 5e-324, 1.7976931348623157e308, 0.1 + 0.2]
    values += [rng.uniform(-1, 1) * 10 ** rng.randint(-9, 22) for _ in range(300)]
    values += [
        round(rng.uniform(-1000, 1000), rng.randint(0, 4)) + 0.5 * 10 ** -rng.randint(0, 4)
        for _ in range(200)
    ]
    checks = []
    for value in values:
        digits = rng.randint(0, CAPS.max_round_digits)
        checks.append(
            {
                "value": value,
                "string": format_number(value),
                "digits": digits,
                "rounded": round_half_away(value, digits),
            }
        )
    return checks


def test_javascript_evaluator_passes_the_same_cases(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        message = "Node.js (node, version 20+) is not installed: the JavaScript evaluator cannot be tested"
        if os.environ.get("SURVEY_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    payload = _node_payload()
    cases_file = tmp_path / "expr_cases.json"
    cases_file.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "SURVEY_EXPR_CASES": str(cases_file)}
    completed = subprocess.run(
        [node, "--test", "--test-reporter=tap", str(NODE_TEST)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    output = completed.stdout + completed.stderr
    passed = re.search(r"^# pass (\d+)$", completed.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", completed.stdout, re.MULTILINE)
    expected = len(payload["cases"]) + 5  # + caps, regex programs, regex searches, regex errors, numbers
    failures = "\n".join(
        line for line in completed.stdout.splitlines() if line.startswith("not ok") or "expected" in line
    )
    assert completed.returncode == 0, f"node --test failed:\n{failures}\n{output[-4000:]}"
    assert failed is not None and failed.group(1) == "0", output[-4000:]
    assert passed is not None and int(passed.group(1)) == expected, output[-4000:]
