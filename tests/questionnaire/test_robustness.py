"""Author and respondent input never crashes the loader or the answer check (seeded mutations, hypothesis)."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from survey_platform.questionnaire.answers import validate_answers
from survey_platform.questionnaire.load import load_questionnaire, load_text

HERE = Path(__file__).parent
QUESTIONNAIRES = HERE.parents[1] / "questionnaires"
TOKENS = [
    "0",
    "-1",
    "true",
    "null",
    "[]",
    "{}",
    '"x"',
    "${q_sex}",
    ".nan",
    "!!binary aGk=",
    "&a x",
    "*a",
    "? x",
    "- y",
    "1e9",
    "é",
    '"${q_sat} +"',
    "q_sat",
    "{id: x}",
    "[a, b]",
    "\t",
    "'",
]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.random()
        if op < 0.3:
            del lines[i]
        elif op < 0.6 and ":" in lines[i]:
            lines[i] = lines[i].partition(":")[0] + ": " + rng.choice(TOKENS)
        elif op < 0.8:
            lines.insert(i, lines[rng.randrange(len(lines))])
        else:
            j = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:j] + rng.choice(TOKENS) + lines[i][j:]
        if not lines:
            lines = [""]
    return "\n".join(lines)


def test_mutated_files_give_problems_not_exceptions() -> None:
    rng = random.Random(20251123)
    texts = [p.read_text(encoding="utf-8") for p in sorted((HERE / "broken").glob("*.yaml"))]
    for _ in range(300):
        result = load_text(_mutate(rng.choice(texts), rng), "m.yaml")
        assert result.questionnaire is not None or result.problems
        assert all(p.line >= 1 and p.column >= 1 for p in result.problems)


INSPECTION = load_questionnaire(QUESTIONNAIRES / "qr_code_inspection.yaml").questionnaire
KEYS = st.sampled_from([q.id for q in INSPECTION.questions] + ["zz", "q_location"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=8))
def test_any_json_answer_set_gives_field_errors_not_exceptions(answers: dict) -> None:
    check = validate_answers(INSPECTION, answers)
    assert all(error.path.startswith("answers") for error in check.errors)
    assert set(check.values) <= {q.id for q in INSPECTION.questions}
