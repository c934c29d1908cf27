"""While a question is answered numpy's BLAS runs on one thread, and gets its threads back after."""

from __future__ import annotations

import numpy as np  # noqa: F401  (loads the BLAS whose threads are counted)
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from retrieval._threads import one_blas_thread


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_blas_runs_on_one_thread_during_the_call_and_is_restored_after() -> None:
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can see")
    with threadpool_limits(limits=2, user_api="blas"):
        seen: list[list[int]] = []

        @one_blas_thread
        def answer(x: int) -> int:
            seen.append(_blas_threads())
            return x + 1

        assert answer(1) == 2
        assert seen and all(n == 1 for n in seen[0])
        assert all(n == 2 for n in _blas_threads())
