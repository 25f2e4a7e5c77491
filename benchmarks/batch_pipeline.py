"""The server's own CPU work per response of an offline-sync batch, in one process, without HTTP or a database.

What the batch route does with each item between the socket and the database: decode the body (the route's
one-pass msgspec decoder), validate and build the row (`Ingestor.prepare_with`: scope, timing, `validate_answers`,
flags, canonical body hash, answers JSON), and encode the per-item results. Bodies are the load generator's
(`service_load.py`: 500 fully valid city-questionnaire responses with new UUIDs). Also three of its stages alone
(decoding, `validate_answers`, `submission_hash`). Best of 30 rounds, per response, next to a reference measured in the same run (decoding the same body into plain Python objects with
`msgspec.json.decode`), so a slow or busy machine moves both. Compare with an older commit through PYTHONPATH:

    .venv/bin/python benchmarks/batch_pipeline.py
    PYTHONPATH=/tmp/before .venv/bin/python benchmarks/batch_pipeline.py
"""

from __future__ import annotations

import datetime
import json
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_load import QUESTIONNAIRE, valid_answers

from survey_platform.questionnaire import load_questionnaire, validate_answers
from survey_platform.responses.rules import CampaignContext
from survey_platform.responses.schemas import BatchItemResult, BatchRequest, BatchResult
from survey_platform.responses.service import Ingestor, submission_hash
from survey_platform.settings import Settings
from survey_platform.storage.writer import plan_batch

ITEMS = 500


def best_per_response(functions: dict[str, Callable[[], object]], rounds: int = 30) -> dict[str, float]:
    """For each function (one batch each), the fastest of ``rounds`` timings, per response; the functions take
    turns round by round, so a slow spell of the machine falls on all of them."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: seconds / ITEMS for name, seconds in best.items()}


def main() -> int:
    import survey_platform

    questionnaire = load_questionnaire(QUESTIONNAIRE).questionnaire
    assert questionnaire is not None
    rng = random.Random(7)
    encoded = [json.dumps(valid_answers(QUESTIONNAIRE, rng), ensure_ascii=False).encode() for _ in range(50)]
    times = b', "started_at": "2026-05-01T09:00:00+00:00", "submitted_at": "2026-05-01T09:12:00+00:00"'
    body = (
        b'{"responses": ['
        + b", ".join(
            b'{"id": "'
            + str(uuid.uuid4()).encode()
            + b'", "city": "wuxi", "answers": '
            + rng.choice(encoded)
            + times
            + b', "campaign": "bench"}'
            for _ in range(ITEMS)
        )
        + b"]}"
    )
    decoder = msgspec.json.Decoder(BatchRequest, strict=False)  # what the route's OnePassBody uses
    campaign = CampaignContext(1, "bench", "open", "survey", 1, frozenset({"wuxi"}), frozenset())
    ingestor = Ingestor(None, None, Settings())  # type: ignore[arg-type]  # prepare_with touches neither

    def pipeline() -> bytes:
        received_at = datetime.datetime.now(datetime.UTC)
        items = decoder.decode(body).responses
        rows = [ingestor.prepare_with(campaign, questionnaire, item, received_at, 1)[0] for item in items]
        _, outcomes = plan_batch(rows, {})
        results = [
            BatchItemResult(
                index=index, status=201, id=outcome.stored.uuid, result=ingestor.result(outcome.stored)
            )
            for index, outcome in enumerate(outcomes)
        ]
        return msgspec.json.encode(BatchResult(created=len(results), replayed=0, failed=0, results=results))

    assert json.loads(pipeline())["created"] == ITEMS
    if (
        "--instructions" in sys.argv
    ):  # a fixed amount of work to count under valgrind (see benchmarks/README.md)
        for _ in range(int(sys.argv[-1])):
            pipeline()
        return 0
    items = decoder.decode(body).responses
    timings = best_per_response(
        {
            "pipeline": pipeline,
            "decode": lambda: decoder.decode(body),
            "validate_answers": lambda: [validate_answers(questionnaire, item.answers) for item in items],
            "submission_hash": lambda: [submission_hash("bench", item) for item in items],
            "reference": lambda: msgspec.json.decode(body),
        }
    )
    reference = timings["reference"]
    print(f"package: {Path(survey_platform.__file__).parent}")
    for name in ("pipeline", "decode", "validate_answers", "submission_hash"):
        print(f"{name}: {timings[name] * 1e6:.1f} µs per response (ratio {timings[name] / reference:.1f})")
    print(f"reference (decode the body untyped): {reference * 1e6:.2f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
