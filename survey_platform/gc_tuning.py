"""Garbage-collector settings for a serving process.

After start-up a worker holds about 110,000 long-lived container objects (modules, compiled questionnaires, the
OpenAPI schema); every full collection walks all of them. Decoding a 500-item batch allocates enough containers to
trigger several collections, and under load a full one stalled some requests by ~100 ms. So, once start-up is
done, the survivors are moved to the permanent generation (``gc.freeze``, Python 3.7+; the technique of
Instagram's "Dismissing Python Garbage Collection at Instagram", 2017, without switching collection off) and young
collections run less often. Reference cycles are still collected; only the frozen start-up objects are no longer
scanned. Measured in benchmarks/README.md (batch +2–7 %, slowest single POST 66–85 ms → 25–28 ms).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Generation thresholds while serving (CPython's default is (700, 10, 10)).
SERVING_THRESHOLDS = (100_000, 50, 100)


@contextlib.contextmanager
def tuned_collector() -> Iterator[None]:
    """Freeze what is alive now and raise the collection thresholds; undo both on exit."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
