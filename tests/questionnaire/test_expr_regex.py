"""The linear-time regex engine: agreement with Python's re on random safe patterns, pathological patterns,
syntax errors with offsets, caps."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_platform.questionnaire.expr import CAPS, ExprRegexError
from survey_platform.questionnaire.expr.regex import compile_program, compile_regex

ATOMS = [
    "a",
    "b",
    "c",
    "x",
    "0",
    ".",
    "\\d",
    "\\w",
    "\\s",
    "\\D",
    "\\W",
    "\\S",
    "\\.",
    "\\-",
    "[ab]",
    "[^a]",
    "[a-c]",
    "[0-9x]",
    "[\\d_]",
    "[^\\s]",
    "\\n",
    "\\u0061",
]
QUANTIFIERS = ["", "", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "{2,3}"]


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    """A random pattern written in the common subset of our syntax and Python's."""
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.integers(0, 5)) == 0:
            branches = draw(st.lists(patterns(depth + 1), min_size=1, max_size=3))
            atom = ("(?:" if draw(st.booleans()) else "(") + "|".join(branches) + ")"
        elif draw(st.integers(0, 9)) == 0:
            pieces.append(draw(st.sampled_from(["^", "$"])))
            continue
        else:
            atom = draw(st.sampled_from(ATOMS))
        pieces.append(atom + draw(st.sampled_from(QUANTIFIERS)))
    return "".join(pieces)


def python_re(pattern: str) -> re.Pattern[str]:
    """The same pattern for Python's re: ASCII classes, and our '$' (end of text only) is re's '\\Z'."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern), re.ASCII)


@settings(max_examples=300, deadline=None)
@given(
    pattern=patterns(), texts=st.lists(st.text(alphabet="abcx0 9._-\n", max_size=12), min_size=1, max_size=5)
)
def test_agrees_with_python_re_on_random_patterns(pattern: str, texts: list[str]) -> None:
    ours = compile_regex(pattern)
    reference = python_re(pattern)
    for text in texts:
        assert ours.search(text) == (reference.search(text) is not None), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("^1[3-9]\\d{9}$", "13912345678", True),
        ("^1[3-9]\\d{9}$", "1391234567", False),
        ("^[\u4e00-\u9fff]{2,4}$", "王小明", True),
        ("^.$", "😀", True),  # one code point
        ("^..$", "😀", False),
        ("^[😀-😂]$", "😁", True),
        ("line$", "line\n", False),  # unlike Python's '$'
        ("^$", "", True),
        ("a|", "zzz", True),  # an empty alternative matches the empty string
        ("()", "", True),
        ("[-a]", "-", True),
        ("[a-]", "-", True),
        ("[\\]]", "]", True),
        ("\\ ", " ", True),
        ("[^\\n]", "\n", False),
        ("[\\D]", "5", False),
        ("x{0}", "", True),
    ],
)
def test_examples(pattern: str, text: str, expected: bool) -> None:
    assert compile_regex(pattern).search(text) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "^(a+)+$",
        "^(a|a)*$",
        "^(a|aa)+$",
        "(a*)*b",
        "^(x+x+)+y$",
        "(.*a){20}",
        "^(\\w+\\s?)*$",
        "(a?){30}a{30}",
    ],
)
def test_pathological_patterns_finish_fast(pattern: str) -> None:
    # Each of these takes exponential time in a backtracking engine on such a text (Python's re: hours).
    text = "a" * 5000 + "!"
    regex = compile_regex(pattern)
    start = time.perf_counter()
    regex.search(text)
    regex.search("x" * 5000)
    assert time.perf_counter() - start < 1.0


def test_time_grows_linearly_with_the_text() -> None:
    regex = compile_regex("^(a|aa)*c$")
    timings = []
    for size in (2000, 8000):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            assert regex.search("a" * size) is False
            best = min(best, time.perf_counter() - start)
        timings.append(best)
    assert timings[1] < 4 * timings[0] * 3  # 4x the text: about 4x the time (generous margin for noise)


@pytest.mark.parametrize(
    ("pattern", "offset", "english"),
    [
        ("(", 0, "missing ')'"),
        ("ab)", 2, "unmatched ')'"),
        ("a**", 2, "multiple repeat"),
        ("a+?", 2, "lazy quantifiers are not supported"),
        ("*a", 0, "nothing to repeat"),
        ("a|*", 2, "nothing to repeat"),
        ("^*", 1, "nothing to repeat"),
        ("[", 0, "missing ']'"),
        ("[]", 1, "empty class"),
        ("[[]", 1, "escape '[' inside a class"),
        ("a{3,2}", 1, "m > n"),
        ("a{101}", 1, "repetition count above 100"),
        ("a{", 1, "malformed repetition"),
        ("a{,2}", 1, "malformed repetition"),
        ("a{1,x}", 1, "malformed repetition"),
        ("}", 0, "unescaped '}'"),
        ("\\q", 0, "unknown escape '\\q'"),
        ("\\1", 0, "unknown escape '\\1'"),
        ("ab\\", 2, "trailing '\\'"),
        ("\\u00g1", 0, "\\u needs 4 hex digits"),
        ("(?=a)", 0, "unsupported group"),
        ("(?i)a", 0, "unsupported group"),
        ("[z-a]", 1, "range start above range end"),
        ("[a-\\d]", 3, "a range cannot end with a class escape"),
        ("(a{20}){60}", 7, "instructions once expanded"),
    ],
)
def test_syntax_errors_have_offsets(pattern: str, offset: int, english: str) -> None:
    with pytest.raises(ExprRegexError) as caught:
        compile_program(pattern)
    assert caught.value.offset == offset
    assert english in caught.value.message_en


def test_pattern_length_and_program_size_are_capped() -> None:
    with pytest.raises(ExprRegexError, match="longer than 500"):
        compile_program("a" * (CAPS.max_regex_length + 1))
    assert len(compile_program("a{100}b{100}")) == 201
    assert len(compile_program("[ab]{100}" * 9)) == 901
    with pytest.raises(ExprRegexError, match="instructions"):
        compile_program("[ab]{100}" * 10)


def test_programs_are_plain_json() -> None:
    assert compile_program("a|b*") == [
        ["split", 1, 3],
        ["char", [[97, 97]]],
        ["jmp", 6],
        ["split", 4, 6],
        ["char", [[98, 98]]],
        ["jmp", 3],
        ["match"],
    ]
    assert compile_program("^[^a]$") == [["bol"], ["char", [[0, 96], [98, 0x10FFFF]]], ["eol"], ["match"]]
