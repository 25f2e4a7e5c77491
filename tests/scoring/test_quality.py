"""Data-quality flags on hand-made interviews: speeding, straight-lining, missingness, exclusion rate."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.quality import flag_missing, flag_speeding, flag_straightlining, quality_report

N = np.nan


def test_speeding_relative_to_median() -> None:
    """Median of (600, 500, 400, 140, 100) = 400; cut 0.3 × 400 = 120: only 100 s is flagged (140 is not)."""
    flags, median = flag_speeding([600, 500, 400, 140, 100])
    assert median == 400.0
    assert flags.tolist() == [False, False, False, False, True]
    flags, _ = flag_speeding([600, 500, 400, 140, 100], fraction=0.5)  # cut 200
    assert flags.tolist() == [False, False, False, True, True]


def test_speeding_missing_durations_are_documented() -> None:
    flags, median = flag_speeding([N, 300, 100, 50])  # median of the valid ones: 100 → cut 30: nobody
    assert median == 100.0 and not flags.any()
    flags, median = flag_speeding([N, N])
    assert median is None and flags.tolist() == [False, False]
    with pytest.raises(ValueError, match=r"negative at rows \[1\]"):
        flag_speeding([10, -1])
    with pytest.raises(ValueError, match="fraction"):
        flag_speeding([10, 20], fraction=1.5)


def test_straightlining_by_grid() -> None:
    answers = np.array(
        [
            [5, 5, 5, 5, 5, 5, 3, 4],  # grid 1 (cols 0–5) identical → flagged
            [5, 5, 5, 5, 5, 4, 3, 3],  # differs in grid 1
            [4, 4, 4, N, 4, 4, 1, 2],  # 5 answered identical items: fewer than min_items=6 → kept
            [4, 4, 4, N, 4, 4, 4, 4],  # grid 2 (cols 1–7) has 6 answered identical → flagged
        ]
    )
    flags = flag_straightlining(answers, grids=[[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6, 7]])
    assert flags.tolist() == [True, False, False, True]
    # with min_items=5, rows 2 and 3 straight-line grid 1 (5 identical answered items each)
    flags5 = flag_straightlining(answers, grids=[[0, 1, 2, 3, 4, 5]], min_items=5)
    assert flags5.tolist() == [True, False, True, True]


def test_straightlining_default_one_grid_and_low_sd() -> None:
    answers = np.array([[3, 3, 3, 3, 3, 3], [3, 3, 3, 3, 3, 4], [1, 5, 1, 5, 1, 5]], dtype=float)
    assert flag_straightlining(answers).tolist() == [True, False, False]
    # SD of (3,3,3,3,3,4) = sqrt(5/36) = 0.373 < 0.5 → flagged with min_sd; (1,5,...) has SD 2
    assert flag_straightlining(answers, min_sd=0.5).tolist() == [True, True, False]
    with pytest.raises(ValueError, match=r"grid 1 has column indices outside 0..5: \[9\]"):
        flag_straightlining(answers, grids=[[0, 9]])
    with pytest.raises(ValueError, match="min_items"):
        flag_straightlining(answers, min_items=1)


def test_missing_share_with_skip_logic() -> None:
    answers = np.array([[1, N, N, 4], [1, 2, 3, 4], [N, N, N, N]], dtype=float)
    flags, share = flag_missing(answers)
    assert share.tolist() == [0.5, 0.0, 1.0] and flags.tolist() == [True, False, True]
    # row 0 was asked only items 0 and 3 (skip logic): nothing missing
    asked = np.array([[1, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]], dtype=bool)
    flags, share = flag_missing(answers, applicable=asked)
    assert share.tolist() == [0.0, 0.0, 1.0] and flags.tolist() == [False, False, True]
    with pytest.raises(ValueError, match="applicable must have the shape"):
        flag_missing(answers, applicable=asked[:, :2])


def test_quality_report_exclusion_rate_and_reasons() -> None:
    """10 interviews: #0 speeding, #1 straight-lining, #2 too many missing, #3 speeding and straight-lining:
    4 excluded of 10 = 40%."""
    rng = np.random.default_rng(0)
    answers = rng.integers(1, 6, size=(10, 8)).astype(float)
    answers[:, 0], answers[:, 1] = 1, 2  # make sure nobody else straight-lines
    answers[1] = 4
    answers[3] = 5
    answers[2, :4] = N
    durations = np.array([60, 500, 480, 90, 520, 450, 610, 400, 530, 470], dtype=float)
    report = quality_report(answers, durations)
    assert report.median_duration == pytest.approx(475.0)
    assert np.flatnonzero(report.speeding).tolist() == [0, 3]
    assert np.flatnonzero(report.straightlining).tolist() == [1, 3]
    assert np.flatnonzero(report.too_many_missing).tolist() == [2]
    assert report.n == 10 and report.n_excluded == 4 and report.exclusion_rate == pytest.approx(0.4)
    assert report.counts == {"speeding": 2, "straightlining": 2, "too_many_missing": 1}
    assert len(report.reasons[3]) == 2 and report.reasons[3][0].startswith("答题过快 / speeding")
    assert report.reasons[5] == []


def test_quality_report_bad_input() -> None:
    with pytest.raises(ValueError, match="durations has 2 values but answers has 3 rows"):
        quality_report(np.ones((3, 4)), [1, 2])
    with pytest.raises(ValueError, match="non-empty n × k matrix"):
        quality_report(np.ones((0, 4)), [])
    with pytest.raises(ValueError, match="infinite"):
        flag_missing(np.array([[1.0, np.inf]]))


def test_duplicated_answer_sets_are_flagged_in_every_copy() -> None:
    from scoring.quality import flag_duplicates

    base = [5.0, 7, 8, 9, 6, 5, 7, np.nan]
    x = np.array(
        [
            base,
            [5.0, 7, 8, 9, 6, 5, 7, 4],  # differs on the last item
            base,  # a copy of row 0
            [5.0, 7, 8, 9, 6, 5, 7, 4],  # a copy of row 1
            [1.0, 2, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
            [1.0, 2, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],  # identical but too short to judge
        ]
    )
    assert flag_duplicates(x).tolist() == [True, True, True, True, False, False]
    assert flag_duplicates(x, min_answered=1).tolist() == [True] * 6
    assert not flag_duplicates(x[[0, 1, 4]]).any()


def _exact_upper_tail(f: int, n: int, p: float) -> float:
    """P(X >= f) for X ~ Binomial(n, p), summed term by term in exact rational arithmetic (an independent peer
    of scipy's regularised incomplete beta)."""
    from fractions import Fraction
    from math import comb

    q = Fraction(p)
    return float(sum(comb(n, k) * q**k * (1 - q) ** (n - k) for k in range(f, n + 1)))


def test_flag_rate_outliers_match_the_exact_binomial_tail_and_holm() -> None:
    from statsmodels.stats.multitest import multipletests

    from scoring.quality import flag_rate_outliers

    flagged = [1, 0, 2, 9, 1]
    interviews = [40, 35, 50, 20, 30]
    result = flag_rate_outliers(flagged, interviews)
    total_f, total_n = sum(flagged), sum(interviews)
    expected = []
    for f, n in zip(flagged, interviews, strict=True):
        rest = (total_f - f) / (total_n - n)
        expected.append(_exact_upper_tail(f, n, rest))
        assert result.rest_rate[len(expected) - 1] == pytest.approx(rest, rel=1e-15)
    np.testing.assert_allclose(result.p_value, expected, rtol=1e-8, atol=1e-300)
    # Holm by hand: sort ascending, multiply by (m - rank), running maximum, capped at 1
    order = np.argsort(expected)
    adjusted = np.empty(len(expected))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(expected) - rank) * expected[index]))
        adjusted[index] = running
    np.testing.assert_allclose(result.p_holm, adjusted, rtol=1e-12)
    np.testing.assert_allclose(result.p_holm, multipletests(expected, method="holm")[1], rtol=1e-12)
    # the interviewer with 9 of 20 flagged against 4 of 155 stands out; nobody else does
    assert result.outlier.tolist() == [False, False, False, True, False]
    assert result.p_holm[3] < 1e-8


def test_flag_rate_outliers_hand_value_and_edge_cases() -> None:
    from scoring.quality import flag_rate_outliers

    # binom.test(8, 10, 0.2, alternative = "greater"): 45·0.2^8·0.8^2 + 10·0.2^9·0.8 + 0.2^10 = 7.7926e-05
    result = flag_rate_outliers([8, 2], [10, 10])
    assert result.p_value[0] == pytest.approx(45 * 0.2**8 * 0.8**2 + 10 * 0.2**9 * 0.8 + 0.2**10, rel=1e-10)
    assert result.p_value[1] == pytest.approx(_exact_upper_tail(2, 10, 0.8), rel=1e-10)
    # nothing to compare with (one interviewer), everyone else always flagged, no interviews: p = 1
    assert flag_rate_outliers([3], [5]).p_value.tolist() == [1.0]
    assert flag_rate_outliers([1, 4], [5, 4]).p_value[0] == 1.0
    assert flag_rate_outliers([0, 1], [0, 5]).p_value[0] == 1.0
    assert flag_rate_outliers([], []).outlier.tolist() == []
    with pytest.raises(ValueError, match="flagged <= interviews"):
        flag_rate_outliers([3], [2])
    with pytest.raises(ValueError, match="differ in length"):
        flag_rate_outliers([1, 2], [3])
