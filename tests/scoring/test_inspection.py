"""Inspections: severity-weighted scores by hand, the Shanxi (Taiyuan) figures from domain.md, Wilson intervals."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from scoring.inspection import (
    Check,
    VenueInspection,
    named_venues,
    problem_rates,
    score_venue,
    score_venues,
)

CHECKS = [
    Check("forced_follow", "扫码强制关注公众号", "critical", "消费者权益保护法 第9条、第16条"),
    Check("forced_data", "索取非必要个人信息", "critical", "个人信息保护法 第6条、第16条"),
    Check("counter_pay", "可在收银台点餐/付款", "major", "消费者权益保护法 第9条"),
    Check("paper_menu", "有纸质菜单/价目表", "minor", "消费者权益保护法 第8条"),
]
ALL_PASS = {c.code: "pass" for c in CHECKS}


def venue(vid: str, category: str = "餐馆", city: str = "太原", **answers: str) -> VenueInspection:
    return VenueInspection(vid, f"店{vid}", city, category, {**ALL_PASS, **answers})


# ------------------------------------------------------------------------------------------- one venue


def test_score_by_hand() -> None:
    """Weights 5/5/3/1 (total 14). Failing the minor check: 100·13/14 = 92.857; failing a critical one: 9/14."""
    assert score_venue(venue("1"), CHECKS).score == pytest.approx(100.0)
    minor = score_venue(venue("2", paper_menu="fail"), CHECKS)
    assert minor.score == pytest.approx(100 * 13 / 14)
    assert minor.problem and not minor.any_critical
    critical = score_venue(venue("3", forced_follow="fail"), CHECKS)
    assert critical.score == pytest.approx(100 * 9 / 14)
    assert critical.any_critical and critical.problem
    assert [c.code for c in critical.violated] == ["forced_follow"]


def test_not_applicable_checks_leave_the_denominator() -> None:
    """Car park: no menu (na). Failing counter_pay: 100·(5+5)/(5+5+3) = 76.92."""
    r = score_venue(venue("4", "停车场", counter_pay="fail", paper_menu="na"), CHECKS)
    assert r.score == pytest.approx(100 * 10 / 13)
    assert r.n_applicable == 3


def test_no_applicable_check_has_no_score() -> None:
    r = score_venue(venue("5", **{c.code: "na" for c in CHECKS}), CHECKS)
    assert r.score is None and not r.problem and r.n_applicable == 0


def test_custom_weights_and_critical_rule() -> None:
    r = score_venue(
        venue("6", paper_menu="fail"),
        CHECKS,
        severity_weights={"critical": 10, "major": 2, "minor": 1},
        rule="any_critical",
    )
    assert r.score == pytest.approx(100 * 22 / 23)
    assert not r.problem  # only a minor failure: not a problem under the critical rule


def test_violations_are_ordered_by_severity() -> None:
    r = score_venue(venue("7", paper_menu="fail", forced_data="fail", counter_pay="fail"), CHECKS)
    assert [c.severity for c in r.violated] == ["critical", "major", "minor"]


@pytest.mark.parametrize(
    ("inspection", "message"),
    [
        (venue("8", paper_menu="FAIL"), r"venue '8' \(店8\), check 'paper_menu': answer must be one of"),
        (VenueInspection("9", "x", "太原", "餐馆", {"forced_follow": "pass"}), "no answer for checks"),
        (venue("10", wifi="pass"), r"answers for unknown checks \['wifi'\]"),
    ],
)
def test_bad_answers_are_named(inspection: VenueInspection, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        score_venue(inspection, CHECKS)


def test_bad_configuration_is_named() -> None:
    with pytest.raises(ValueError, match="severity 'fatal'"):
        score_venue(venue("1"), [Check("x", "x", "fatal")])
    with pytest.raises(ValueError, match="defined twice"):
        score_venue(venue("1"), [*CHECKS, CHECKS[0]])
    with pytest.raises(ValueError, match="positive numbers"):
        score_venue(venue("1"), CHECKS, severity_weights={"critical": 0, "major": 3, "minor": 1})
    with pytest.raises(ValueError, match="rule"):
        score_venue(venue("1"), CHECKS, rule="any")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="appears twice"):
        score_venues([venue("1"), venue("1")], CHECKS)
    with pytest.raises(ValueError, match="at least one venue"):
        problem_rates([])


# ---------------------------------------------------------------------------------- Shanxi (domain.md)


def shanxi_campaign() -> list[VenueInspection]:
    """domain.md §2: Taiyuan, 205 venues (113 car parks, 87 restaurants, 2 petrol stations, others = 3).
    65 with problems (30 car parks, 35 restaurants); 29 car parks and 15 restaurants forced following / a
    mini-program / handing over data (critical); the other 1 car park and 20 restaurants had lesser problems."""
    out: list[VenueInspection] = []

    def add(category: str, count: int, **answers: str) -> None:
        for _ in range(count):
            vid = f"TY{len(out) + 1:03d}"
            if category == "停车场":
                answers = {"paper_menu": "na", **answers}
            out.append(venue(vid, category, **answers))

    add("停车场", 29, forced_follow="fail")
    add("停车场", 1, counter_pay="fail")
    add("停车场", 113 - 30)
    add("餐馆", 15, forced_data="fail", paper_menu="fail")
    add("餐馆", 20, paper_menu="fail")
    add("餐馆", 87 - 35)
    add("加油站", 2)
    add("其他", 3)
    return out


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson (1927): (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_shanxi_problem_rates_reproduce_the_report() -> None:
    results = score_venues(shanxi_campaign(), CHECKS)
    overall = problem_rates(results)["全部/all"]
    assert (overall.n, overall.problems) == (205, 65)
    assert round(100 * overall.rate, 1) == 31.7
    by_cat = problem_rates(results, by="category")
    assert (by_cat["停车场"].problems, by_cat["停车场"].n) == (30, 113)
    assert round(100 * by_cat["停车场"].rate, 1) == 26.5
    assert (by_cat["餐馆"].problems, by_cat["餐馆"].n) == (35, 87)
    assert round(100 * by_cat["餐馆"].rate, 1) == 40.2
    assert by_cat["加油站"].problems == 0 and by_cat["其他"].n == 3
    for rate in (overall, by_cat["停车场"], by_cat["餐馆"]):
        sm_low, sm_high = proportion_confint(rate.problems, rate.n, alpha=0.05, method="wilson")
        hand_low, hand_high = wilson_by_hand(rate.problems, rate.n)
        assert (rate.ci_low, rate.ci_high) == pytest.approx((sm_low, sm_high), rel=1e-12)
        assert (rate.ci_low, rate.ci_high) == pytest.approx((hand_low, hand_high), rel=1e-9)
    # overall 65/205: Wilson 95% CI ≈ 25.7% – 38.4%
    assert (round(100 * overall.ci_low, 1), round(100 * overall.ci_high, 1)) == (25.7, 38.4)


def test_shanxi_critical_rule_counts_forced_following_only() -> None:
    """Under rule="any_critical": 29 car parks + 15 restaurants = 44 of 205 (21.5%)."""
    results = score_venues(shanxi_campaign(), CHECKS, rule="any_critical")
    overall = problem_rates(results)["全部/all"]
    assert (overall.problems, overall.n) == (44, 205)
    by_cat = problem_rates(results, by="category")
    assert (by_cat["停车场"].problems, by_cat["餐馆"].problems) == (29, 15)


def test_problem_rates_by_city_and_zero_problems_interval() -> None:
    results = score_venues([venue("a", city="太原"), venue("b", city="大同", paper_menu="fail")], CHECKS)
    rates = problem_rates(results, by="city")
    assert list(rates) == ["太原", "大同"]
    assert rates["太原"].rate == 0.0 and rates["太原"].ci_low == pytest.approx(0.0, abs=1e-12)
    assert rates["太原"].ci_high == pytest.approx(wilson_by_hand(0, 1)[1])  # 0.7935: informative, not NaN
    assert rates["大同"].rate == 1.0


def test_named_venues_list_their_violations() -> None:
    results = score_venues(shanxi_campaign(), CHECKS)
    named = named_venues(results)
    assert len(named) == 65
    # critical first (44 of them), then the rest; each with its violated checks and legal basis
    assert all(v.any_critical for v in named[:44]) and not any(v.any_critical for v in named[44:])
    first_restaurant = next(v for v in named if v.category == "餐馆")
    assert [c.code for c in first_restaurant.violations] == ["forced_data", "paper_menu"]
    assert "个人信息保护法" in first_restaurant.violations[0].legal_basis
    scores = [v.score for v in named[:44]]
    assert scores == sorted(scores)  # within the critical group, worst score first
