"""The clock the bench scripts share: one call's wall time, and the median of repeated calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def seconds(call: Callable[[], object]) -> float:
    """Wall-clock seconds one call takes."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def median_seconds(call: Callable[[], object], repeat: int) -> float:
    """The median of ``repeat`` timed calls; the median because a noisy neighbour skews the mean."""
    return statistics.median(seconds(call) for _ in range(repeat))
