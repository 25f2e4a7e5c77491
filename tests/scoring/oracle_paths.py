"""Where the trusted peers' reference values live: ../shared/oracles beside the checkout (as in CI).

`SURVEY_ORACLES_DIR` points elsewhere when the checkout is not beside shared/.
"""

import os
from pathlib import Path

ORACLES = Path(
    os.environ.get("SURVEY_ORACLES_DIR") or Path(__file__).resolve().parents[3] / "shared" / "oracles"
)
COINR = ORACLES / "coinr"

if not (ORACLES / "apistrat_reference.json").is_file():
    raise RuntimeError(f"reference values not found in {ORACLES}: set SURVEY_ORACLES_DIR to shared/oracles")
