"""The minimum number of valid interviews per city, from the sample-size formula for a proportion.

n = z² · p(1 − p) / e² · deff, rounded up (Cochran 1977, *Sampling Techniques*, 3rd ed., §4.4 eq. 4.2 for
simple random sampling; Kish 1965, *Survey Sampling*, §8.2 for the design effect multiplying it). The national
evaluation's rule uses z = 1.96 (95 % confidence), the worst case p = 0.5 (p(1 − p) = 0.25), a margin of error
e = 0.05 and a design effect of 1.4 for clustered street-intercept samples: 1.96² × 0.25 / 0.05² × 1.4 = 537.8,
so 538 interviews.

Pure arithmetic; imports nothing, so the service's command line can read the default without loading numpy.
"""

from __future__ import annotations

import math

__all__ = [
    "CONFIDENCE_Z",
    "DEFAULT_MIN_SAMPLE",
    "DESIGN_EFFECT",
    "MARGIN_OF_ERROR",
    "WORST_CASE_VARIANCE",
    "min_sample_size",
]

CONFIDENCE_Z = 1.96  # two-sided 95 %
WORST_CASE_VARIANCE = 0.25  # p(1 − p) at p = 0.5
MARGIN_OF_ERROR = 0.05
DESIGN_EFFECT = 1.4


def min_sample_size(
    *,
    z: float = CONFIDENCE_Z,
    variance: float = WORST_CASE_VARIANCE,
    margin: float = MARGIN_OF_ERROR,
    design_effect: float = DESIGN_EFFECT,
) -> int:
    """Interviews needed to estimate a proportion within ±``margin``: ⌈z² · variance / margin² · deff⌉.

    Cochran (1977) eq. 4.2 (simple random sampling, no finite-population correction) times Kish's (1965) design
    effect. A tiny tolerance keeps binary floating point from rounding an exact integer up (e.g. 384.00000000001).
    """
    for name, value in (
        ("z", z),
        ("variance", variance),
        ("margin", margin),
        ("design_effect", design_effect),
    ):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    if variance > 0.25:
        raise ValueError(f"variance p(1 − p) cannot exceed 0.25, got {variance!r}")
    exact = z**2 * variance / margin**2 * design_effect
    return math.ceil(exact - 1e-9 * exact)


#: 538 valid interviews per city (the national evaluation's minimum), derived from the formula above.
DEFAULT_MIN_SAMPLE: int = min_sample_size()
