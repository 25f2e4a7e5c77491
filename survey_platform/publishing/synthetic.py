"""The synthetic national campaign with known truth, for ``city_satisfaction.yaml`` and ``qr_code_inspection.yaml``.

Pure: :func:`national_campaign` returns data (cities with margins, this year's and last year's interviews, a QR-code
inspection, the true values); the demo command submits it through the service. Deterministic for a seed (one
``numpy.random.Generator``).

The population model (everything on the 0–100 score scale of the index):

- Each city c has population cells g = sex × age band × district zone whose shares are the product of the city's
  margins (so the margins are the true population margins).
- Every index item k has a target t_{c,g,k} = T_k + δ_c + δ_{c,dim(k)} + δ_{c,ind(k)} + γ_g: the national indicator
  level T (2024 dimension pattern, 供给便利性 high, 交易安全 low), a city effect δ_c (spreading city scores over
  ~70–93), city × dimension and city × indicator effects, and additive cell effects γ_g (older and central residents
  more satisfied).
- A respondent's answer to item k is x = clip(⌊m_{c,g,k} ± (η + η_dim) + ε + ½⌋, 1, 10) with a respondent latent η,
  a respondent × dimension latent η_dim (sign − for reversed items) and item noise ε, all normal; m is chosen so
  that the expected item score E[100 (x − 1) / 9] equals t. That expectation is exact:
  E = 100/9 · Σ_{j=1..9} Φ((m − j − ½) / s), s² = σ_η² + σ_dim² + σ_ε².
- "Don't know" / "not applicable" answers are missing completely at random (item-specific probabilities); the two
  complaint items are asked only of the ~15% who had a complaint (a coin independent of everything else).
- Interviews are drawn with a selection propensity that is a product over sex, age band and zone (young and central
  residents are over-represented, as in street intercepts), so the sample composition differs from the margins and
  raking to the margins is consistent (Deville & Särndal 1992: the raking estimator is consistent when the response
  propensity is log-linear in the margins).

True values are the estimand the release estimates: for every node of the index tree, the population mean of the
respondent-level node score among those who have one, Σ_g share_g E[score | node available, g]. With missingness
independent of the answers, the node score given its availability pattern is linear in the item means, so the
expectation is computed exactly by enumerating availability patterns node by node (``_expectation_plan``).

Also: screened-out respondents, speeders (short durations, random answers) and straight-liners (one answer across
every grid), which a reviewer excludes; last year's campaign (same cities, slightly lower scores); and a QR-code
inspection of ~200 fictitious venues with a ~30% problem rate and evidence JPEGs (:mod:`.evidence`) for every failed
critical check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
import uuid
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from scoring.index import IndexNode, parse_index_tree
from survey_platform.questionnaire.model import Questionnaire

from .cities_cn import CITIES, INSPECTION_CITIES, LEADING, TRAILING
from .evidence import evidence_jpeg
from .model import AuditInput, CityCounts, CityInput, MethodSettings, ReleaseInputs, SurveyInputs

__all__ = [
    "CityTruth",
    "NationalCampaign",
    "SurveyTruth",
    "SyntheticAudit",
    "SyntheticCity",
    "SyntheticInspection",
    "SyntheticResponse",
    "SyntheticSurvey",
    "SyntheticVenue",
    "inspection_release_inputs",
    "national_campaign",
    "survey_release_inputs",
]

TZ = dt.timezone(dt.timedelta(hours=8))
Quality = Literal["ok", "screened_out", "speeder", "straightliner"]


# ----------------------------------------------------------------------------------------------- data shapes


class _Struct(msgspec.Struct, frozen=True, kw_only=True):
    pass


class SyntheticCity(_Struct, kw_only=True):
    """A city with its approximate resident population, illustrative retail sales (亿元, not official figures:
    population × a synthetic per-capita figure) and weighting margins (population shares per category)."""

    code: str
    name_zh: str
    name_en: str
    province: str
    population: int
    retail_sales: float
    margins: dict[str, dict[str, float]]
    latitude: float
    longitude: float

    def city_input(self) -> CityInput:
        return CityInput(
            code=self.code,
            name_zh=self.name_zh,
            name_en=self.name_en,
            province=self.province,
            population=self.population,
            retail_sales=self.retail_sales,
            margins=self.margins,
        )


class SyntheticResponse(_Struct, kw_only=True):
    """One interview as a client would submit it; ``quality`` says what it is (a reviewer excludes speeders and
    straight-liners; screened-out answers end at screening)."""

    id: str
    city: str
    channel: Literal["intercept", "qr", "online"]
    answers: dict[str, Any]
    started_at: str
    submitted_at: str
    quality: Quality

    @property
    def duration_seconds(self) -> float:
        start = dt.datetime.fromisoformat(self.started_at)
        return (dt.datetime.fromisoformat(self.submitted_at) - start).total_seconds()


class CityTruth(_Struct, kw_only=True):
    """A city's true index, dimension and indicator scores (the estimands)."""

    score: float
    dimensions: dict[str, float]
    indicators: dict[str, float]


class SurveyTruth(_Struct, kw_only=True):
    """True values of a campaign: per city, national (cities weighted by resident population) and true ranks."""

    cities: dict[str, CityTruth]
    national: float
    national_dimensions: dict[str, float]
    ranks: dict[str, int]  # 1 = highest true score


class SyntheticSurvey(_Struct, kw_only=True):
    """One year's city satisfaction campaign."""

    code: str
    name: str
    year: int
    responses: list[SyntheticResponse]
    truth: SurveyTruth


class SyntheticVenue(_Struct, kw_only=True):
    """A fictitious venue (real-looking name and address)."""

    key: str
    name: str
    city: str
    category: str
    address: str
    latitude: float
    longitude: float


class SyntheticAudit(_Struct, kw_only=True):
    """One inspection of a venue. ``answers`` holds the venue's key in ``q_venue``: use :meth:`answers_for` with
    the venue's stored id. ``photos`` maps each evidence photo's SHA-256 to its JPEG bytes (upload them first)."""

    id: str
    venue_key: str
    answers: dict[str, Any]
    photos: dict[str, bytes]
    location: dict[str, float]  # latitude, longitude, accuracy (metres)
    started_at: str
    submitted_at: str
    approved_at: str
    problem: bool
    follow_up: str
    follow_up_date: str | None

    def answers_for(self, venue_id: int | str) -> dict[str, Any]:
        """The answers with ``q_venue`` set to the stored venue's id."""
        return {**self.answers, "q_venue": str(venue_id)}


class SyntheticInspection(_Struct, kw_only=True):
    """A QR-code inspection campaign: venues, one audit each, and the true problem share."""

    code: str
    name: str
    year: int
    venues: list[SyntheticVenue]
    audits: list[SyntheticAudit]
    problem_share: float


class NationalCampaign(_Struct, kw_only=True):
    """Everything the demo needs: cities, this year's and last year's survey, the inspection."""

    seed: int
    cities: list[SyntheticCity]
    current: SyntheticSurvey
    previous: SyntheticSurvey | None
    inspection: SyntheticInspection | None


# ----------------------------------------------------------------------------------------------- the model's parameters

# National indicator levels on 0–100 (2024 dimensions: supply 81.67, environment 79.26, rights 80.48; 2023's
# highest indicator 供给便利性 85.63, lowest 交易安全 73.56).
INDICATOR_TARGETS: dict[str, float] = {
    "supply_richness": 82.5,
    "supply_convenience": 85.6,
    "supply_innovation": 80.0,
    "quality_level": 79.5,
    "service_level": 82.0,
    "consumer_facilities": 80.5,
    "price_fairness": 78.0,
    "information_truth": 81.0,
    "after_sales": 79.0,
    "merchant_trust": 81.0,
    "transaction_safety": 73.6,
    "right_to_know": 81.0,
    "free_choice": 84.0,
    "consumer_policy": 81.5,
    "rights_protection": 79.5,
    "consumer_education": 81.0,
    "law_enforcement": 80.5,
}
DEFAULT_TARGET = 80.0
ITEM_OFFSETS = (0.7, -0.7, 0.0)  # item k of an indicator: target + ITEM_OFFSETS[k % 3]
DONT_KNOW = 0.03
MISSING_OVERRIDES: dict[str, tuple[float, str]] = {  # item → (probability, code)
    "q_prepaid_cards": (0.10, "not_applicable"),
    "q_accessibility": (0.06, "not_applicable"),
    "q_policy_awareness": (0.05, "dont_know"),
    "q_enforcement_visibility": (0.05, "dont_know"),
}
DISPUTE_SHARE = 0.15
GATED_QUESTION = "dispute_matrix"  # asked only when q_had_dispute is true

SIGMA_RESPONDENT = 1.1
SIGMA_DIMENSION = 0.7
SIGMA_ITEM = 1.3
SIGMA = math.sqrt(SIGMA_RESPONDENT**2 + SIGMA_DIMENSION**2 + SIGMA_ITEM**2)

SEX = ("male", "female")
AGE = ("18_24", "25_34", "35_44", "45_54", "55_64", "65_plus")
ZONE = ("core", "main_other", "new_area")
CELL_EFFECT = {"sex": (-0.5, 0.5), "age": (-3.0, -2.0, -0.5, 0.5, 1.5, 2.5), "zone": (1.5, 0.0, -2.0)}
PROPENSITY = {"sex": (0.85, 1.15), "age": (1.8, 1.5, 1.1, 0.9, 0.65, 0.45), "zone": (1.6, 1.0, 0.55)}
AGE_BASE = (0.10, 0.19, 0.18, 0.19, 0.16, 0.18)
ZONE_BASE = (0.40, 0.35, 0.25)

SCREENED_SHARE = 0.05
SPEEDER_SHARE = 0.02
STRAIGHTLINER_SHARE = 0.02
CHANNELS = (("intercept", 0.80), ("qr", 0.15), ("online", 0.05))
MODE_OF_CHANNEL = {"intercept": "intercept", "qr": "scan", "online": "online"}


# ----------------------------------------------------------------------------------------------- entry point


def national_campaign(
    seed: int,
    n_cities: int = 100,
    per_city: int = 600,
    *,
    survey: Questionnaire,
    inspection: Questionnaire | None = None,
    year: int = 2025,
    previous: bool = True,
    inspection_venues: int = 200,
    bad_interviews: bool = True,
) -> NationalCampaign:
    """A realistic national campaign with known truth (module docstring). ``per_city`` is the number of genuine,
    eligible interviews per city; screened-out respondents, speeders and straight-liners come on top (unless
    ``bad_interviews`` is False). ``n_cities`` < 100 picks that many of the 100 cities at random (table order
    kept). ``survey`` must be ``city_satisfaction.yaml``'s questionnaire; ``inspection`` (optional)
    ``qr_code_inspection.yaml``'s."""
    if not 1 <= n_cities <= len(CITIES):
        raise ValueError(f"n_cities must be in 1..{len(CITIES)}, got {n_cities}")
    if per_city < 2:
        raise ValueError(f"per_city must be >= 2, got {per_city}")
    rng = np.random.default_rng(seed)
    rows = (
        CITIES
        if n_cities == len(CITIES)
        else [CITIES[i] for i in sorted(rng.choice(len(CITIES), n_cities, replace=False))]
    )
    cities = _cities(rows, rng)
    model = _survey_model(survey)
    effects = _effects(cities, model, rng)
    prev_survey = None
    if previous:
        shift = rng.normal(0.5, 0.7, len(cities))
        prev_effects = {**effects, "city": effects["city"] - shift}
        prev_survey = _survey(model, cities, prev_effects, per_city, year - 1, rng, bad_interviews)
    current = _survey(model, cities, effects, per_city, year, rng, bad_interviews)
    insp = None
    if inspection is not None and inspection_venues > 0:
        insp = _inspection(inspection, cities, inspection_venues, year, rng)
    return NationalCampaign(seed=seed, cities=cities, current=current, previous=prev_survey, inspection=insp)


# ----------------------------------------------------------------------------------------------- release inputs


def survey_release_inputs(
    campaign: NationalCampaign,
    survey: SyntheticSurvey,
    questionnaire: Questionnaire,
    method: MethodSettings,
    *,
    previous: Any = None,
) -> ReleaseInputs:
    """The release inputs the service would read after a reviewer excluded the speeders and straight-liners:
    the genuine eligible interviews sorted by UUID, per-city counts, and an illustrative body hash (SHA-256 of the
    answers' canonical JSON; the service's own body hash covers the whole submission)."""
    kept = sorted((r for r in survey.responses if r.quality == "ok"), key=lambda r: r.id)
    counts: dict[str, dict[str, int]] = {
        c.code: dict.fromkeys(("collected", "screened", "excluded"), 0) for c in campaign.cities
    }
    for r in survey.responses:
        counts[r.city]["collected"] += 1
        counts[r.city]["screened"] += r.quality == "screened_out"
        counts[r.city]["excluded"] += r.quality in ("speeder", "straightliner")
    encoder = msgspec.json.Encoder(order="sorted")
    return ReleaseInputs(
        campaign_code=survey.code,
        campaign_name=survey.name,
        campaign_kind="survey",
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        questionnaire_hash=questionnaire.content_hash,
        method=method,
        cities=[c.city_input() for c in campaign.cities],
        survey=SurveyInputs(
            ids=[r.id for r in kept],
            body_hashes=[hashlib.sha256(encoder.encode(r.answers)).hexdigest() for r in kept],
            cities=[r.city for r in kept],
            answers=[r.answers for r in kept],
            channels=[r.channel for r in kept],
            counts={
                code: CityCounts(
                    collected=k["collected"], screened_out=k["screened"], excluded_by_review=k["excluded"]
                )
                for code, k in counts.items()
            },
        ),
        previous=previous,
    )


def inspection_release_inputs(
    campaign: NationalCampaign, questionnaire: Questionnaire, method: MethodSettings
) -> ReleaseInputs:
    """The release inputs of the synthetic inspection with every audit approved (venue ids = venue keys)."""
    assert campaign.inspection is not None
    insp = campaign.inspection
    venues = {v.key: v for v in insp.venues}
    encoder = msgspec.json.Encoder(order="sorted")
    audits = [
        AuditInput(
            id=a.id,
            body_hash=hashlib.sha256(encoder.encode(a.answers)).hexdigest(),
            venue_id=a.venue_key,
            venue_name=venues[a.venue_key].name,
            city=venues[a.venue_key].city,
            category=venues[a.venue_key].category,
            answers=a.answers_for(a.venue_key),
            approved_at=a.approved_at,
            follow_up=a.follow_up,
            follow_up_date=a.follow_up_date,
        )
        for a in sorted(insp.audits, key=lambda a: a.id)
    ]
    return ReleaseInputs(
        campaign_code=insp.code,
        campaign_name=insp.name,
        campaign_kind="inspection",
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        questionnaire_hash=questionnaire.content_hash,
        method=method,
        cities=[c.city_input() for c in campaign.cities],
        audits=audits,
    )


# ----------------------------------------------------------------------------------------------- cities


def _cities(
    rows: Sequence[tuple[str, str, str, str, int, float, float]], rng: np.random.Generator
) -> list[SyntheticCity]:
    out = []
    for code, name_zh, name_en, province, pop_wan, lat, lon in rows:
        male = float(np.round(rng.uniform(0.49, 0.53), 4))
        age = _rounded_shares(rng.dirichlet(np.array(AGE_BASE) * 200))
        zone = _rounded_shares(rng.dirichlet(np.array(ZONE_BASE) * 60))
        per_capita = rng.uniform(2.0, 5.5) * (1.3 if code in LEADING or pop_wan > 1500 else 1.0)
        out.append(
            SyntheticCity(
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                province=province,
                population=pop_wan * 10_000,
                retail_sales=float(round(pop_wan * per_capita, 1)),
                margins={
                    "q_sex": {"male": male, "female": round(1.0 - male, 4)},
                    "q_age_band": dict(zip(AGE, age, strict=True)),
                    "q_district_zone": dict(zip(ZONE, zone, strict=True)),
                },
                latitude=lat,
                longitude=lon,
            )
        )
    return out


def _rounded_shares(p: NDArray[np.float64]) -> list[float]:
    """Shares rounded to 4 decimals, the last one taking the remainder (so they sum to 1 within 1e-9)."""
    head = [float(round(x, 4)) for x in p[:-1]]
    return [*head, float(round(1.0 - sum(head), 4))]


# ----------------------------------------------------------------------------------------------- the survey model


class _SurveyModel:
    """The questionnaire's index structure as arrays: items, their indicator and dimension, direction, missingness."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        tree = questionnaire.index_tree()
        if tree is None or questionnaire.index is None:
            raise ValueError("the survey questionnaire has no index")
        self.questionnaire = questionnaire
        self.tree: IndexNode = parse_index_tree(tree)
        levels = {node.id: node.level for node in questionnaire.index.root.walk()}
        self.dimensions = [n.id for n in self.tree.children]
        self.indicators = [n.id for n in self.tree.walk() if levels.get(n.id) == "indicator"]
        self.items = self.tree.leaves()
        specs = questionnaire.item_specs()
        scored = questionnaire.scored_items()
        self.reverse = np.array([bool(specs[k]["reverse"]) for k in self.items])
        self.item_dimension = np.zeros(len(self.items), dtype=np.int64)
        self.item_indicator = np.zeros(len(self.items), dtype=np.int64)
        self.target = np.zeros(len(self.items))
        pos = {k: j for j, k in enumerate(self.items)}
        for d, dim in enumerate(self.tree.children):
            for ind in dim.children:
                i = self.indicators.index(ind.id)
                for r, leaf in enumerate(ind.leaves()):
                    j = pos[leaf]
                    self.item_dimension[j], self.item_indicator[j] = d, i
                    self.target[j] = INDICATOR_TARGETS.get(ind.id, DEFAULT_TARGET) + ITEM_OFFSETS[r % 3]
        self.question_of = {k: scored[k][0].id for k in self.items}
        self.sub_of = {k: (scored[k][1].id if scored[k][1] is not None else None) for k in self.items}
        self.missing_p = np.array([MISSING_OVERRIDES.get(k, (DONT_KNOW, ""))[0] for k in self.items])
        self.missing_code = [MISSING_OVERRIDES.get(k, (0.0, "dont_know"))[1] for k in self.items]
        self.gated = np.array([self.question_of[k] == GATED_QUESTION for k in self.items])
        self.plan = _expectation_plan(self.tree, self.items, 1 - self.missing_p, self.gated, DISPUTE_SHARE)
        self.grid = np.linspace(-8.0, 18.0, 26_001)
        self.grid_score = _expected_score(self.grid)

    def latent_mean(self, score_target: NDArray[np.float64]) -> NDArray[np.float64]:
        """m with expected item score = target (reversed items: 100 − target), by inverting the exact map."""
        t = np.clip(score_target, 2.0, 98.0)
        t = np.where(self.reverse, 100.0 - t, t)
        return np.interp(t, self.grid_score, self.grid)

    def overall_latent(self, score_target: NDArray[np.float64]) -> NDArray[np.float64]:
        """Latent mean of the overall-satisfaction question for a target score (not part of the index)."""
        return np.interp(np.clip(score_target, 2.0, 98.0), self.grid_score, self.grid)

    def expected_scores(self, m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Exact expected item scores for latent means m (reversed items turned)."""
        s = _expected_score(m)
        return np.where(self.reverse, 100.0 - s, s)


_MODELS: dict[tuple[str, str, str], _SurveyModel] = {}


def _survey_model(questionnaire: Questionnaire) -> _SurveyModel:
    """The model of a questionnaire, built once per (id, version, content hash): it depends on nothing else."""
    model = _MODELS.get(questionnaire.identity)
    if model is None:
        model = _MODELS[questionnaire.identity] = _SurveyModel(questionnaire)
    return model


def _expected_score(m: NDArray[np.float64]) -> NDArray[np.float64]:
    """E[100 (x − 1) / 9] for x = clip(⌊m + S·Z + ½⌋, 1, 10), Z ~ N(0, 1): 100/9 Σ_{j=1..9} Φ((m − j − ½) / S)."""
    m = np.asarray(m, dtype=np.float64)
    j = np.arange(1, 10).reshape((9,) + (1,) * m.ndim)
    return ndtr((m - j - 0.5) / SIGMA).sum(axis=0) * 100.0 / 9.0


def _expectation_plan(
    tree: IndexNode, items: list[str], avail: NDArray[np.float64], gated: NDArray[np.bool_], gate_p: float
) -> dict[str, NDArray[np.float64]]:
    """Node → coefficient vector c over the items such that E[node score | node available] = c · μ (item means).

    Availability patterns are enumerated node by node: at an indicator, the joint pattern of its items (independent
    except for the gate shared by the complaint items); above, the children's availabilities (independent, as they
    rest on disjoint items). A node is available when its available children carry ≥ min_share of the weight, and
    then its score is the weighted mean of the available children (scoring.index.compute_index, arithmetic).
    """
    pos = {k: j for j, k in enumerate(items)}
    K = len(items)
    plan: dict[str, NDArray[np.float64]] = {}

    def combine(
        node: IndexNode, patterns: list[tuple[float, tuple[bool, ...]]], coefs: list[NDArray]
    ) -> float:
        w = np.array([c.weight for c in node.children], dtype=np.float64)
        w = w / w.sum()
        p_node = 0.0
        acc = np.zeros(K)
        for prob, pattern in patterns:
            mask = np.array(pattern)
            den = float(w[mask].sum())
            if prob == 0 or den <= 0 or den < node.min_share - 1e-12:
                continue
            p_node += prob
            acc += prob * sum(w[i] * coefs[i] for i in np.flatnonzero(mask)) / den
        if p_node <= 0:
            raise ValueError(f"node {node.id!r} is never available")
        plan[node.id] = acc / p_node
        return p_node

    def visit(node: IndexNode) -> float:
        if node.is_leaf:
            j = pos[node.id]
            plan[node.id] = np.eye(K)[j]
            return float(avail[j] * (gate_p if gated[j] else 1.0))
        if all(child.is_leaf for child in node.children):
            js = [pos[c.id] for c in node.children]
            coefs = [np.eye(K)[j] for j in js]
            for c in node.children:
                plan[c.id] = np.eye(K)[pos[c.id]]
            patterns = []
            for pattern in itertools.product((True, False), repeat=len(js)):
                prob = 0.0
                for gate_on, p_gate in ((True, gate_p), (False, 1 - gate_p)):
                    q = p_gate
                    for j, on in zip(js, pattern, strict=True):
                        a = avail[j] if (gate_on or not gated[j]) else 0.0
                        q *= a if on else 1 - a
                    prob += q
                patterns.append((prob, pattern))
            return combine(node, patterns, coefs)
        if any(gated[pos[leaf]] for child in node.children for leaf in child.leaves()) and any(
            child.is_leaf for child in node.children
        ):
            raise NotImplementedError("gated items must sit under one indicator")
        probs = [visit(child) for child in node.children]
        coefs = [plan[child.id] for child in node.children]
        patterns = [
            (float(np.prod([p if on else 1 - p for p, on in zip(probs, pattern, strict=True)])), pattern)
            for pattern in itertools.product((True, False), repeat=len(probs))
        ]
        return combine(node, patterns, coefs)

    visit(tree)
    return plan


def _effects(cities: list[SyntheticCity], model: _SurveyModel, rng: np.random.Generator) -> dict[str, Any]:
    """City, city × dimension and city × indicator effects (score points)."""
    C = len(cities)
    city = np.clip(rng.normal(0.0, 4.2, C), -10.0, 11.5)
    city += np.array([4.0 if c.code in LEADING else -4.0 if c.code in TRAILING else 0.0 for c in cities])
    pop = np.array([c.population for c in cities], dtype=np.float64)
    city -= float(pop @ city / pop.sum())
    return {
        "city": city,
        "dimension": rng.normal(0.0, 1.2, (C, len(model.dimensions))),
        "indicator": rng.normal(0.0, 1.2, (C, len(model.indicators))),
    }


def _cells(
    city: SyntheticCity,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Population shares, cell effects and selection weights of the 36 cells, and their (sex, age, zone) codes."""
    m = city.margins
    share = np.einsum(
        "i,j,k->ijk",
        [m["q_sex"][s] for s in SEX],
        [m["q_age_band"][a] for a in AGE],
        [m["q_district_zone"][z] for z in ZONE],
    ).reshape(-1)
    effect = (
        np.add.outer(np.add.outer(CELL_EFFECT["sex"], CELL_EFFECT["age"]), CELL_EFFECT["zone"])
    ).reshape(-1)
    propensity = np.einsum("i,j,k->ijk", PROPENSITY["sex"], PROPENSITY["age"], PROPENSITY["zone"]).reshape(-1)
    codes = np.array(list(itertools.product(range(2), range(6), range(3))), dtype=np.int64)
    return share, effect, share * propensity / float(share @ propensity), codes


def _survey(
    model: _SurveyModel,
    cities: list[SyntheticCity],
    effects: dict[str, Any],
    per_city: int,
    year: int,
    rng: np.random.Generator,
    bad_interviews: bool,
) -> SyntheticSurvey:
    K = len(model.items)
    responses: list[SyntheticResponse] = []
    truth_cities: dict[str, CityTruth] = {}
    start = dt.datetime(year, 5, 6, 9, 0, tzinfo=TZ)
    for c, city in enumerate(cities):
        share, cell_effect, sample_p, codes = _cells(city)
        base = (
            model.target
            + effects["city"][c]
            + effects["dimension"][c][model.item_dimension]
            + effects["indicator"][c][model.item_indicator]
        )
        m_cells = model.latent_mean(base[None, :] + cell_effect[:, None])  # 36 × K
        mu = share @ model.expected_scores(m_cells)  # population item means
        truth_cities[city.code] = CityTruth(
            score=float(model.plan[model.tree.id] @ mu),
            dimensions={d: float(model.plan[d] @ mu) for d in model.dimensions},
            indicators={i: float(model.plan[i] @ mu) for i in model.indicators},
        )
        n_screen = int(rng.binomial(per_city, SCREENED_SHARE)) if bad_interviews else 0
        n_speed = int(rng.binomial(per_city, SPEEDER_SHARE)) if bad_interviews else 0
        n_straight = int(rng.binomial(per_city, STRAIGHTLINER_SHARE)) if bad_interviews else 0
        n = per_city + n_speed + n_straight
        cell = rng.choice(len(share), size=n, p=sample_p)
        m = m_cells[cell]
        eta = rng.normal(0.0, SIGMA_RESPONDENT, n)
        eta_dim = rng.normal(0.0, SIGMA_DIMENSION, (n, len(model.dimensions)))
        shared = eta[:, None] + eta_dim[:, model.item_dimension]
        v = m + np.where(model.reverse, -shared, shared) + rng.normal(0.0, SIGMA_ITEM, (n, K))
        x = np.clip(np.floor(v + 0.5), 1, 10).astype(np.int64)
        missing = rng.random((n, K)) < model.missing_p
        dispute = rng.random(n) < DISPUTE_SHARE
        quality = np.array(["ok"] * per_city + ["speeder"] * n_speed + ["straightliner"] * n_straight)
        rng.shuffle(quality)
        speed = quality == "speeder"
        x[speed] = rng.integers(1, 11, (int(speed.sum()), K))
        missing[speed] = False
        straight = quality == "straightliner"
        x[straight] = rng.choice([5, 8, 9, 10], int(straight.sum()))[:, None]
        missing[straight] = False
        overall_m = model.overall_latent(truth_cities[city.code].score + cell_effect[cell])
        noise = eta + 0.5 * eta_dim.sum(axis=1) + rng.normal(0.0, 1.0, n)
        overall = np.clip(np.floor(overall_m + noise + 0.5), 1, 10).astype(np.int64)
        overall[speed] = rng.integers(1, 11, int(speed.sum()))
        channels = rng.choice([ch for ch, _ in CHANNELS], size=n + n_screen, p=[p for _, p in CHANNELS])
        durations = np.exp(rng.normal(math.log(600.0), 0.3, n + n_screen))
        durations[:n][speed] = rng.uniform(60.0, 150.0, int(speed.sum()))
        durations[n:] = rng.uniform(40.0, 90.0, n_screen)
        offsets = rng.uniform(0, 55 * 24 * 3600, n + n_screen)
        ids = _uuids(rng, n + n_screen)
        extra = rng.integers(0, 1 << 30, (n, 5))
        began, ended = _timestamps(start, offsets, durations)
        answer_sets = _answer_sets(model, x, missing, dispute, overall, codes[cell], extra, channels[:n])
        channel_list = channels.tolist()
        quality_list = quality.tolist()
        for i, answers in enumerate(answer_sets):
            responses.append(
                SyntheticResponse(
                    id=ids[i],
                    city=city.code,
                    channel=channel_list[i],
                    answers=answers,
                    started_at=began[i],
                    submitted_at=ended[i],
                    quality=quality_list[i],
                )
            )
        for i in range(n, n + n_screen):
            answers = (
                {"q_resident_6m": False}
                if rng.random() < 0.6
                else {"q_resident_6m": True, "q_offline_purchase": False}
            )
            responses.append(
                SyntheticResponse(
                    id=ids[i],
                    city=city.code,
                    channel=channel_list[i],
                    answers=answers,
                    started_at=began[i],
                    submitted_at=ended[i],
                    quality="screened_out",
                )
            )
    responses.sort(key=lambda r: r.started_at)
    pop = np.array([c.population for c in cities], dtype=np.float64)
    a = pop / pop.sum()
    scores = np.array([truth_cities[c.code].score for c in cities])
    order = np.argsort(-scores, kind="stable")
    ranks = {cities[int(j)].code: r + 1 for r, j in enumerate(order)}
    truth = SurveyTruth(
        cities=truth_cities,
        national=float(a @ scores),
        national_dimensions={
            d: float(a @ np.array([truth_cities[c.code].dimensions[d] for c in cities]))
            for d in model.dimensions
        },
        ranks=ranks,
    )
    return SyntheticSurvey(
        code=f"city-satisfaction-{year}",
        name=f"{year}年城市消费者满意度测评 / City consumer satisfaction {year}",
        year=year,
        responses=responses,
        truth=truth,
    )


def _uuids(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` version-4 UUIDs (RFC 9562 §5.4: version and variant bits set) from the generator's bytes."""
    raw = np.frombuffer(rng.bytes(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    out = []
    for row in raw:
        h = row.tobytes().hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _answer_sets(
    model: _SurveyModel,
    x: NDArray[np.int64],
    missing: NDArray[np.bool_],
    dispute: NDArray[np.bool_],
    overall: NDArray[np.int64],
    cells: NDArray[np.int64],
    extra: NDArray[np.int64],
    channels: NDArray[np.str_],
) -> list[dict[str, Any]]:
    """Eligible respondents' answers for city_satisfaction.yaml (matrices nested, missing codes as strings)."""
    values = x.astype(object)
    codes = np.broadcast_to(np.array(model.missing_code, dtype=object), values.shape)
    values[missing] = codes[missing]
    groups: dict[str, list[int]] = {}
    for j, item in enumerate(model.items):
        groups.setdefault(model.question_of[item], []).append(j)
    columns: dict[str, list[Any]] = {}
    for question, js in groups.items():
        block = values[:, js].tolist()
        if model.sub_of[model.items[js[0]]] is None:
            columns[question] = [row[0] for row in block]
        else:
            subs = [model.sub_of[model.items[j]] for j in js]
            columns[question] = [dict(zip(subs, row, strict=True)) for row in block]
    compared = ("better", "better", "better", "same", "same", "same", "worse", "worse", "worse", "dont_know")
    education = ("primary", "secondary", "college", "bachelor_plus")
    income = ("below_3000", "3000_5999", "6000_9999", "10000_plus", "refused")
    out = []
    for i, (e, c) in enumerate(zip(extra.tolist(), cells.tolist(), strict=True)):
        answers: dict[str, Any] = {
            "q_resident_6m": True,
            "q_offline_purchase": True,
            "q_purchase_count": 2 + e[0] % 38,
            "q_had_dispute": bool(dispute[i]),
            "q_overall": int(overall[i]),
            "q_compared_last_year": compared[e[1] % 10],
            "q_sex": SEX[c[0]],
            "q_age_band": AGE[c[1]],
            "q_district_zone": ZONE[c[2]],
            "q_hukou": "non_local" if e[2] % 10 < 3 else "local",
            "q_education_level": education[e[3] % 4],
            "q_income": income[e[4] % 5],
            "q_interview_mode": MODE_OF_CHANNEL[str(channels[i])],
        }
        for question, column in columns.items():
            if question != GATED_QUESTION or dispute[i]:
                answers[question] = column[i]
        out.append(answers)
    return out


def _timestamps(
    start: dt.datetime, offsets: NDArray[np.float64], durations: NDArray[np.float64]
) -> tuple[list[str], list[str]]:
    """Local (+08:00) ISO 8601 start and end times: start + offset, moved into 09:00–20:59 of its day, and that plus
    the duration (whole seconds)."""
    began = np.datetime64(start.replace(tzinfo=None), "s") + np.round(offsets).astype("timedelta64[s]")
    day = began.astype("datetime64[D]")
    seconds = (began - day).astype(np.int64)
    hour = seconds // 3600
    began = day + (seconds + (9 + hour % 12 - hour) * 3600).astype("timedelta64[s]")
    ended = began + np.round(durations).astype("timedelta64[s]")
    offset = start.strftime("%z")
    suffix = f"{offset[:3]}:{offset[3:]}"
    return (
        [t + suffix for t in np.datetime_as_string(began, unit="s").tolist()],
        [t + suffix for t in np.datetime_as_string(ended, unit="s").tolist()],
    )


# ----------------------------------------------------------------------------------------------- the inspection

CATEGORY_MIX: tuple[tuple[str, float, float], ...] = (  # category, share of venues, problem probability
    ("car_park", 0.42, 0.27),
    ("restaurant", 0.33, 0.40),
    ("tea_fast_food", 0.12, 0.35),
    ("petrol_station", 0.04, 0.10),
    ("bus_station", 0.03, 0.30),
    ("retail", 0.04, 0.20),
    ("locker", 0.02, 0.25),
)
PROBLEM_CHECKS: dict[str, tuple[tuple[str, float], ...]] = {  # failed check → probability, for problem venues
    "car_park": (
        ("chk_forced_follow", 0.5),
        ("chk_plate_binding", 0.4),
        ("chk_forced_miniprogram", 0.3),
        ("chk_phone_demanded", 0.25),
        ("chk_popup_ads", 0.2),
        ("chk_pure_code", 0.2),
    ),
    "restaurant": (
        ("chk_forced_follow", 0.45),
        ("chk_menu_available", 0.35),
        ("chk_counter_available", 0.2),
        ("chk_phone_demanded", 0.3),
        ("chk_forced_membership", 0.2),
        ("chk_privacy_notice", 0.2),
        ("chk_default_consent", 0.2),
    ),
    "tea_fast_food": (
        ("chk_phone_demanded", 0.5),
        ("chk_forced_membership", 0.3),
        ("chk_location_demanded", 0.2),
        ("chk_forced_miniprogram", 0.3),
        ("chk_counter_available", 0.15),
    ),
    "other": (
        ("chk_forced_follow", 0.4),
        ("chk_phone_demanded", 0.3),
        ("chk_popup_ads", 0.3),
        ("chk_complaint_channel", 0.3),
        ("chk_amount_shown", 0.2),
    ),
}
NAME_WORDS = (
    "金桂",
    "福满",
    "鑫源",
    "和顺",
    "悦来",
    "聚贤",
    "汇通",
    "锦华",
    "宏达",
    "瑞祥",
    "嘉禾",
    "隆盛",
    "兴旺",
    "百味",
    "德昌",
    "惠民",
)
ROADS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华街", "文化路", "长江路", "迎宾路", "滨河路")
CATEGORY_NAMES: dict[str, tuple[str, ...]] = {
    "car_park": ("停车场", "地下停车场", "立体停车库", "广场停车场"),
    "restaurant": ("家常菜馆", "火锅店", "面馆", "烧烤店", "酒楼"),
    "tea_fast_food": ("茶饮", "奶茶店", "快餐店", "咖啡店"),
    "petrol_station": ("加油站",),
    "bus_station": ("客运站停车场", "长途汽车站"),
    "retail": ("便利店", "超市"),
    "locker": ("智能寄存柜",),
}


def _inspection(
    questionnaire: Questionnaire,
    cities: list[SyntheticCity],
    n_venues: int,
    year: int,
    rng: np.random.Generator,
) -> SyntheticInspection:
    by_code = {c.code: c for c in cities}
    chosen = [by_code[c] for c in INSPECTION_CITIES if c in by_code] or cities[:8]
    weights = np.array([3.0] + [1.0] * (len(chosen) - 1))
    city_of = rng.choice(len(chosen), size=n_venues, p=weights / weights.sum())
    cats = [c for c, _, _ in CATEGORY_MIX]
    cat_p = np.array([s for _, s, _ in CATEGORY_MIX])
    problem_p = {c: p for c, _, p in CATEGORY_MIX}
    category_of = rng.choice(len(cats), size=n_venues, p=cat_p / cat_p.sum())
    checks = {q.id: q for q in questionnaire.questions if q.type == "yes_no" and q.check is not None}
    venues: list[SyntheticVenue] = []
    audits: list[SyntheticAudit] = []
    start = dt.datetime(year, 10, 20, 9, 0, tzinfo=TZ)
    for v in range(n_venues):
        city = chosen[int(city_of[v])]
        category = cats[int(category_of[v])]
        key = f"v{v + 1:04d}"
        name = (
            f"{NAME_WORDS[int(rng.integers(len(NAME_WORDS)))]}{CATEGORY_NAMES[category][int(rng.integers(len(CATEGORY_NAMES[category])))]}"
            f"（{ROADS[int(rng.integers(len(ROADS)))]}店）"
        )
        lat = city.latitude + float(rng.uniform(-0.05, 0.05))
        lon = city.longitude + float(rng.uniform(-0.05, 0.05))
        venues.append(
            SyntheticVenue(
                key=key,
                name=name,
                city=city.code,
                category=category,
                address=f"{city.name_zh}市{ROADS[int(rng.integers(len(ROADS)))]}{int(rng.integers(1, 400))}号",
                latitude=round(lat, 6),
                longitude=round(lon, 6),
            )
        )
        problem = bool(rng.random() < problem_p[category])
        failed: set[str] = set()
        if problem:
            candidates = PROBLEM_CHECKS.get(category, PROBLEM_CHECKS["other"])
            failed = {c for c, p in candidates if rng.random() < p}
            if not failed:
                failed = {candidates[0][0]}
        audit_id = str(uuid.UUID(bytes=rng.bytes(16), version=4))
        visit = start + dt.timedelta(days=int(rng.integers(0, 6)), minutes=int(rng.integers(0, 600)))
        answers: dict[str, Any] = {
            "q_venue": key,
            "q_venue_category": category,
            "q_location": {
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "accuracy": float(rng.integers(5, 40)),
            },
            "q_visit_time": visit.isoformat(),
            "q_undercover": bool(rng.random() < 0.9),
        }
        photos: dict[str, bytes] = {}
        for cid, q in checks.items():
            if cid == "chk_plate_binding" and category != "car_park":
                continue
            assert q.check is not None
            answers[cid] = (not q.check.pass_if) if cid in failed else q.check.pass_if
            if cid in failed and q.check.severity == "critical" and q.check.evidence:
                jpeg = evidence_jpeg(f"{audit_id}:{cid}")
                sha = hashlib.sha256(jpeg).hexdigest()
                photos[sha] = jpeg
                answers[q.check.evidence] = [sha]
        if "chk_phone_demanded" in failed:
            answers["q_phone_refusal_possible"] = bool(rng.random() < 0.4)
        forced = failed & {"chk_forced_follow", "chk_forced_membership"}
        answers["q_steps_to_pay"] = int(rng.integers(6, 13) if forced else rng.integers(2, 7))
        answers["q_payment_ways"] = (
            ["qr_code"] if "chk_counter_available" in failed else ["qr_code", "counter", "cash"]
        )
        follow_date = (visit + dt.timedelta(days=30)).date().isoformat() if failed else None
        if follow_date:
            answers["q_follow_up_date"] = follow_date
        submitted = visit + dt.timedelta(minutes=int(rng.integers(8, 25)))
        audits.append(
            SyntheticAudit(
                id=audit_id,
                venue_key=key,
                answers=answers,
                photos=photos,
                location={
                    "latitude": round(lat, 6),
                    "longitude": round(lon, 6),
                    "accuracy": answers["q_location"]["accuracy"],
                },
                started_at=visit.isoformat(),
                submitted_at=submitted.isoformat(),
                approved_at=(visit + dt.timedelta(days=2)).date().isoformat(),
                problem=bool(failed),
                follow_up="pending" if failed else "not_needed",
                follow_up_date=follow_date,
            )
        )
    return SyntheticInspection(
        code=f"qr-inspection-{year}",
        name=f"{year}年扫码消费体察 / QR-code payment inspection {year}",
        year=year,
        venues=venues,
        audits=audits,
        problem_share=float(np.mean([a.problem for a in audits])),
    )
