"""Survey-weighted composite indices, rankings with rank uncertainty and inspection compliance.

Pure statistics over plain arrays (numpy, scipy, statsmodels): nothing here imports the service. The design object
follows R's `survey` package (Lumley 2010); every estimator's docstring names its reference.

The names below are loaded on first use (PEP 562), so importing one light module (``scoring.sample_size``, read
by the command line for its defaults) does not load numpy, scipy and statsmodels.
"""

from __future__ import annotations

import importlib
from typing import Any

#: submodule -> the public names it contributes to ``scoring``
_EXPORTS: dict[str, tuple[str, ...]] = {
    "cities": (
        "CityResults",
        "NationalComparison",
        "NodeResults",
        "PairwiseComparison",
        "city_results",
        "combine_city_weights",
        "compare_to_national",
        "national_figure",
        "pairwise_differences",
    ),
    "drivers": (
        "QUADRANTS",
        "DriverAnalysis",
        "DriverCoefficient",
        "QuadrantPoint",
        "alpha_by_dimension",
        "cronbach_alpha",
        "importance_performance",
        "key_drivers",
        "relative_weights",
    ),
    "index": (
        "IndexNode",
        "IndexResult",
        "ItemSpec",
        "compute_index",
        "effective_weights",
        "normalise_minmax",
        "normalise_zscore",
        "parse_index_tree",
        "score_items",
    ),
    "inspection": (
        "Check",
        "NamedVenue",
        "ProblemRate",
        "VenueInspection",
        "VenueResult",
        "named_venues",
        "problem_rates",
        "score_venue",
        "score_venues",
    ),
    "quality": (
        "SPEEDING_FRACTION",
        "QualityReport",
        "flag_missing",
        "flag_speeding",
        "flag_straightlining",
        "quality_report",
    ),
    "ranking": (
        "CityRanking",
        "ExcludedCity",
        "RankConfidenceSets",
        "RankedCity",
        "point_ranks",
        "rank_cities",
        "rank_confidence_sets",
        "rank_tiers",
    ),
    "sensitivity": (
        "SensitivityResult",
        "weight_sensitivity",
    ),
    "survey": (
        "DomainEstimates",
        "Estimate",
        "InsufficientDataError",
        "LonelyPSUError",
        "MultiEstimate",
        "ProportionEstimate",
        "SurveyDesign",
        "wilson_interval",
    ),
    "weights": (
        "CalibrationError",
        "RakeResult",
        "TrimResult",
        "design_weights",
        "kish_deff",
        "kish_effective_n",
        "poststratify_weights",
        "rake_weights",
        "trim_weights",
    ),
    "sample_size": (
        "DEFAULT_MIN_SAMPLE",
        "min_sample_size",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'scoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
