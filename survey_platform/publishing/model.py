"""The release contract: what a release is computed from (inputs, method settings) and what it holds (results).

Plain msgspec Structs, frozen, with an exact JSON round trip (``msgspec.json.encode`` then ``decode(..., type=...)``
gives an equal object; floats stay floats). Numbers that cannot be estimated are ``None``, never NaN. Labels are
bilingual: ``*_zh`` / ``*_en`` fields, or one ``"中文 / English"`` text where a sentence is meant.

Inputs are what ``publishing/inputs.py`` reads from the database; results are what the pages, the JSON API and the
open-data files read. :class:`Rankings` is the ``GET /api/v1/releases/{release}/rankings`` body without its
``release``/``campaign``/``questionnaire`` keys (``msgspec.to_builtins(results.rankings)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec

from scoring.ranking import DEFAULT_MIN_SAMPLE

if TYPE_CHECKING:
    from survey_platform.questionnaire.model import Questionnaire

__all__ = [
    "AuditInput",
    "Change",
    "CheckSummary",
    "CityCounts",
    "CityDetail",
    "CityInput",
    "CityRankingRow",
    "Claim",
    "CompositionRow",
    "DriverAnalysisResult",
    "DriverRow",
    "EstimateSE",
    "Exclusions",
    "FailedCheck",
    "Figure",
    "InspectionResults",
    "LegalReference",
    "MethodSettings",
    "NamedVenueResult",
    "NationalResults",
    "NodeComparison",
    "NodeFigure",
    "Note",
    "PreviousRelease",
    "ProblemRateRow",
    "ProvinceResult",
    "Rankings",
    "ReleaseInputs",
    "ReleaseResults",
    "Robustness",
    "SurveyInputs",
    "TreeNode",
    "VenueCompliance",
]


class _Struct(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base: frozen, keyword-only, unknown fields refused when decoding."""


# ----------------------------------------------------------------------------------------------- method settings


CityWeighting = Literal["population", "population_and_sales"]
ProblemRule = Literal["any_fail", "any_critical"]


def driver_outcome_problem(questionnaire: Questionnaire, outcome: str) -> str | None:
    """Why ``outcome`` cannot be the key-driver analysis' outcome (it must be a likert question of the
    questionnaire), or None."""
    try:
        question = questionnaire.question(outcome)
    except KeyError:
        return (
            f"方法设置 driver_outcome = {outcome!r} 不是问卷中的题目 / method setting driver_outcome = {outcome!r} is "
            "not a question of the questionnaire"
        )
    if question.type != "likert" or question.scale is None:
        return f"driver_outcome {outcome!r} 应为量表题 / driver_outcome {outcome!r} must be a likert question"
    return None


class MethodSettings(_Struct, kw_only=True):
    """Every setting that changes a number, recorded in each release (defaults are the platform's method).

    - ``level``: confidence level of intervals (scores, differences, changes, problem rates).
    - ``rank_coverage`` / ``rank_draws``: rank confidence sets (Mogstad et al. 2024; csranks), bootstrap draws.
    - ``seed``: the one random seed (rank sets, sensitivity); recorded so that a release recomputes identically.
    - ``min_sample_per_city``: cities with fewer valid interviews are not ranked (campaign setting).
    - ``city_weighting``: the national and province figures weight cities by resident ``population`` or by
      ``population_and_sales`` (resident population and retail sales mixed, ``sales_share`` of the weight on sales;
      ``scoring.cities.combine_city_weights``).
    - ``suppression_min_n``: open data suppresses cells of groups with fewer units (interviews or venues).
    - ``sensitivity_draws`` / ``sensitivity_perturbation``: rank robustness under weight perturbation
      (``scoring.sensitivity.weight_sensitivity``: each weight × U(1 − p, 1 + p)).
    - ``driver_outcome``: the overall-satisfaction question regressed on the indicators (None: no driver analysis).
    - ``claim_top_k``: top/bottom claims are made for cities whose simultaneous rank set lies within the top (or
      bottom) k.
    - ``problem_rule``: when an inspected venue counts as a problem (``scoring.inspection``: any failed check, or
      any failed critical check).
    """

    level: float = 0.95
    rank_coverage: float = 0.95
    rank_draws: int = 1000
    seed: int = 0
    min_sample_per_city: int = DEFAULT_MIN_SAMPLE
    city_weighting: CityWeighting = "population"
    sales_share: float = 0.5
    suppression_min_n: int = 30
    sensitivity_draws: int = 1000
    sensitivity_perturbation: float = 0.25
    driver_outcome: str | None = "q_overall"
    claim_top_k: int = 10
    problem_rule: ProblemRule = "any_fail"


# ----------------------------------------------------------------------------------------------- inputs


class CityInput(_Struct, kw_only=True):
    """A campaign city: resident population (> 0), retail sales (for the mixed city weighting) and the weighting
    margins ``{question_id: {choice_code: count or share}}`` as stored (validated on import; each variable's values
    are used as proportions of their sum, scaled to ``population``)."""

    code: str
    name_zh: str
    name_en: str = ""
    province: str = ""
    population: int
    retail_sales: float | None = None
    margins: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)


class CityCounts(_Struct, kw_only=True):
    """A city's interviews by fate: all collected, screened out (ineligible), excluded by a reviewer, flagged by
    the quality rules but kept by a reviewer (these feed the release)."""

    collected: int = 0
    screened_out: int = 0
    excluded_by_review: int = 0
    flagged_kept: int = 0


class SurveyInputs(_Struct, kw_only=True):
    """The responses that feed a release, as parallel lists (one entry per response, sorted by response UUID).

    ``answers`` are the stored validated answer values exactly as stored (matrices nested, missing-answer codes
    such as ``"dont_know"`` as strings); ``counts`` holds every campaign city's :class:`CityCounts`.
    """

    ids: list[str]
    body_hashes: list[str]
    cities: list[str]
    answers: list[dict[str, Any]]
    channels: list[str]
    counts: dict[str, CityCounts] = msgspec.field(default_factory=dict)


class AuditInput(_Struct, kw_only=True):
    """An approved audit: the venue, its city and category, the stored answers and the follow-up status."""

    id: str
    body_hash: str
    venue_id: str
    venue_name: str
    city: str
    category: str
    answers: dict[str, Any]
    approved_at: str  # ISO date
    review_state: Literal["approved"] = "approved"
    follow_up: str = "pending"  # e.g. pending, fixed, not_fixed
    follow_up_date: str | None = None  # ISO date


class EstimateSE(_Struct, kw_only=True):
    """A published score and its standard error."""

    score: float
    se: float


class PreviousRelease(_Struct, kw_only=True):
    """The previous release of the same questionnaire: national, per-city and per-dimension figures."""

    id: str
    published: str  # ISO date
    national: EstimateSE
    cities: dict[str, EstimateSE] = msgspec.field(default_factory=dict)
    dimensions: dict[str, EstimateSE] = msgspec.field(default_factory=dict)  # national, per dimension id


class ReleaseInputs(_Struct, kw_only=True):
    """Everything a release is computed from (with the questionnaire identified by id, version and hash)."""

    campaign_code: str
    campaign_name: str
    campaign_kind: Literal["survey", "inspection"]
    questionnaire_id: str
    questionnaire_version: str
    questionnaire_hash: str
    method: MethodSettings
    cities: list[CityInput]
    survey: SurveyInputs | None = None
    audits: list[AuditInput] | None = None
    previous: PreviousRelease | None = None


# ----------------------------------------------------------------------------------------------- results: shared


class Figure(_Struct, kw_only=True):
    """An estimate with its standard error and ``level`` interval (t on the design degrees of freedom)."""

    score: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None


class Change(_Struct, kw_only=True):
    """Change since the previous release: difference now − then, SE √(se² + se_prev²) (independent samples),
    normal ``level`` interval, significant when the interval excludes 0."""

    previous_release: str
    previous_score: float
    previous_se: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    significant: bool


class Note(_Struct, kw_only=True):
    """A remark for readers (e.g. why a city is not ranked), bilingual ``"中文 / English"``."""

    code: str
    text: str
    city: str | None = None


# ----------------------------------------------------------------------------------------------- results: survey


class CityRankingRow(_Struct, kw_only=True):
    """One row of the rankings API (names fixed by issue 11). ``rank_low``/``rank_high`` are the marginal rank
    set, ``rank_sim_low``/``rank_sim_high`` the simultaneous one; unranked cities have ``rank`` None and a
    ``reason``. ``dimensions`` maps each dimension id to its figure."""

    city: str
    name_zh: str
    name_en: str
    province: str
    n: int
    score: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    rank_sim_low: int | None
    rank_sim_high: int | None
    tier: int | None
    ranked: bool
    reason: str | None
    dimensions: dict[str, Figure]


class Rankings(_Struct, kw_only=True):
    """The rankings API body: national figure and every city (ranked ones by rank, then the unranked by code)."""

    national: Figure
    cities: list[CityRankingRow]


class NodeFigure(_Struct, kw_only=True):
    """A national figure of one node of the index tree (root, dimension or indicator), with its change."""

    node: str
    level: Literal["root", "dimension", "indicator"]
    figure: Figure
    n_cities: int  # cities that enter the figure (those with an estimate for the node)
    change: Change | None = None


class NationalResults(_Struct, kw_only=True):
    """National figures: the index, every dimension and indicator (pre-order), and the change of the index."""

    score: Figure
    nodes: list[NodeFigure]
    change: Change | None
    n: int  # interviews that feed the release
    n_cities: int


class TreeNode(_Struct, kw_only=True):
    """A node of the index tree for the methodology page (pre-order; items are the leaves)."""

    id: str
    level: Literal["root", "dimension", "indicator", "item"]
    parent: str | None
    label_zh: str
    label_en: str
    weight: float  # as written, relative to the siblings
    normalised_weight: float
    effective_weight: float  # product of the normalised weights from the root
    min_share: float | None  # None for items
    reverse: bool = False  # items: reversed scale


class NodeComparison(_Struct, kw_only=True):
    """A city's figure for one node against the national figure: difference, its SE (the city is part of the
    national figure), two-sided p-value, Holm-adjusted over the city's tests, verdict ``above`` / ``below`` /
    ``not_significant`` (None where the city has no estimate)."""

    node: str
    level: Literal["root", "dimension", "indicator"]
    figure: Figure
    n: int
    national: float | None
    difference: float | None
    difference_se: float | None
    p_value: float | None
    p_holm: float | None
    verdict: Literal["above", "below", "not_significant"] | None


class DriverRow(_Struct, kw_only=True):
    """One indicator in the key-driver regression and its place in the importance–performance grid."""

    indicator: str
    coef: float
    se: float
    p_value: float
    ci_low: float
    ci_high: float
    std_coef: float
    importance: float  # Johnson's relative weight / R²
    performance: float  # weighted mean indicator score
    quadrant: Literal["keep_up", "improve", "low_priority", "maintain"]


class DriverAnalysisResult(_Struct, kw_only=True):
    """Key drivers of ``outcome`` (0–100) on the indicator scores, survey weights, HC1 SEs; the importance–
    performance grid cut at the means; ``priorities`` = the 修补区 (improve) indicators, most important first."""

    outcome: str
    n_used: int
    n_dropped: int
    r_squared: float
    importance_cut: float
    performance_cut: float
    drivers: list[DriverRow]
    priorities: list[str]


class Robustness(_Struct, kw_only=True):
    """Rank under weight perturbation (Monte Carlo over weights and the top aggregation)."""

    nominal_rank: int
    median_rank: float
    mean_rank: float
    rank_q05: float
    rank_q95: float


class CompositionRow(_Struct, kw_only=True):
    """Sample composition for one category of a weighting variable: shares before and after weighting, and the
    population share from the margins (None without margins)."""

    variable: str
    category: str
    sample_count: int
    sample_share: float
    weighted_share: float
    population_share: float | None


class Exclusions(_Struct, kw_only=True):
    """What happened to a city's interviews. ``exclusion_rate`` = excluded by review / eligible interviews
    (collected − screened out); ``screened_out_rate`` = screened out / collected (None when the base is 0)."""

    collected: int
    screened_out: int
    excluded_by_review: int
    flagged_kept: int
    valid: int  # interviews that feed the release
    exclusion_rate: float | None
    screened_out_rate: float | None


class CityDetail(_Struct, kw_only=True):
    """Everything about one campaign city (``GET /releases/{release}/cities/{city}``)."""

    city: str
    name_zh: str
    name_en: str
    province: str
    population: int
    retail_sales: float | None
    city_weight: float | None  # share in the national figure
    n: int
    n_effective: float | None  # Kish (Σw)² / Σw²
    weighting: Literal["raked", "equal_weights_no_margins", "no_data"]
    weighting_label: str
    weighting_variables: list[str]
    score: Figure
    ranked: bool
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    rank_sim_low: int | None
    rank_sim_high: int | None
    tier: int | None
    reason: str | None
    nodes: list[NodeComparison]  # the index, every dimension and indicator, pre-order
    change: Change | None
    drivers: DriverAnalysisResult | None
    robustness: Robustness | None
    composition: list[CompositionRow]
    exclusions: Exclusions


class ProvinceResult(_Struct, kw_only=True):
    """A province: its cities' figures weighted like the national figure, SE from the city covariance; its
    standing among provinces (point rank and marginal rank set)."""

    province: str
    cities: list[str]
    n: int
    figure: Figure
    dimensions: dict[str, Figure]
    rank: int | None
    rank_low: int | None
    rank_high: int | None


class Claim(_Struct, kw_only=True):
    """A statement the simultaneous rank sets support for all cities at once (``kind`` top / bottom, ``k``)."""

    kind: Literal["top", "bottom"]
    city: str
    k: int
    rank_sim_low: int
    rank_sim_high: int
    text: str


# ----------------------------------------------------------------------------------------------- results: inspections


class LegalReference(_Struct, kw_only=True):
    """A legal provision from the questionnaire's ``legal_basis``."""

    id: str
    law_zh: str
    law_en: str
    article_zh: str
    article_en: str
    summary_zh: str
    summary_en: str


class FailedCheck(_Struct, kw_only=True):
    """A failed check of a named venue: label, severity, legal basis, recommended fix."""

    check: str
    label_zh: str
    label_en: str
    severity: str
    legal_basis: list[LegalReference]
    recommendation_zh: str | None
    recommendation_en: str | None


class VenueCompliance(_Struct, kw_only=True):
    """One inspected venue (its approved audit): compliance score, problem flag, violated checks."""

    audit: str
    venue_id: str
    venue_name: str
    city: str
    category: str
    score: float | None
    problem: bool
    any_critical: bool
    n_applicable: int
    violated: list[str]
    approved_at: str


class ProblemRateRow(_Struct, kw_only=True):
    """Problem rate of a group (overall, a city or a venue category) with its Wilson interval."""

    group: str
    label_zh: str
    label_en: str
    n: int
    problems: int
    rate: float
    ci_low: float
    ci_high: float


class NamedVenueResult(_Struct, kw_only=True):
    """A venue named in the report: its failed checks (most severe first) and the follow-up status."""

    audit: str
    venue_id: str
    venue_name: str
    city: str
    category: str
    score: float | None
    any_critical: bool
    failed: list[FailedCheck]
    approved_at: str
    follow_up: str
    follow_up_date: str | None


class CheckSummary(_Struct, kw_only=True):
    """How often one check failed among the venues where it applied."""

    check: str
    label_zh: str
    label_en: str
    severity: str
    n_applicable: int
    n_failed: int
    fail_rate: float | None


class InspectionResults(_Struct, kw_only=True):
    """Inspections: per-venue compliance, problem rates (overall, by city, by category), named venues."""

    n_venues: int
    problem_rule: str
    overall: ProblemRateRow
    by_city: list[ProblemRateRow]
    by_category: list[ProblemRateRow]
    checks: list[CheckSummary]
    venues: list[VenueCompliance]
    named: list[NamedVenueResult]


# ----------------------------------------------------------------------------------------------- the release


class ReleaseResults(_Struct, kw_only=True):
    """Every number of a release. Survey releases fill ``rankings`` … ``claims``; inspection releases fill
    ``inspections``. ``fingerprint`` is :func:`publishing.compute.inputs_fingerprint` of the inputs."""

    campaign_code: str
    campaign_name: str
    campaign_kind: Literal["survey", "inspection"]
    questionnaire_id: str
    questionnaire_version: str
    questionnaire_hash: str
    method: MethodSettings
    fingerprint: str
    rankings: Rankings | None = None
    national: NationalResults | None = None
    cities: list[CityDetail] = msgspec.field(default_factory=list)
    provinces: list[ProvinceResult] = msgspec.field(default_factory=list)
    tree: list[TreeNode] = msgspec.field(default_factory=list)
    claims: list[Claim] = msgspec.field(default_factory=list)
    drivers: DriverAnalysisResult | None = None  # national key drivers
    inspections: InspectionResults | None = None
    notes: list[Note] = msgspec.field(default_factory=list)

    def city(self, code: str) -> CityDetail | None:
        """The city ``code``'s figures, or None when the release has no such city."""
        return next((c for c in self.cities if c.city == code), None)

    def province(self, name: str) -> ProvinceResult | None:
        """The province ``name``'s figures, or None when the release has no such province."""
        return next((p for p in self.provinces if p.province == name), None)
