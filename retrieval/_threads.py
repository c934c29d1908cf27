"""Threads while answering: BLAS's and FAISS's kept out of the embedding model's way, and a pool
for the work that can overlap it.

numpy's BLAS (OpenBLAS) keeps its threads spinning for a while after each product. The products
a question needs are small (a few thousand rows by 384), so a second thread gains them nothing,
while on two cores the spinning threads starved the model: PyTorch took 89 ms to encode a
question and its clauses inside a search and 36 ms alone; with BLAS on one thread a MultiHop-RAG
search fell from 105 to 43 ms p50 (9k passages, PyTorch). FAISS's OpenMP threads did the same to
the BM25 worker (1M passages: clause similarities p95 5.4 -> 2.7 ms on one thread).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache, wraps
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# One worker per core: what runs here (BM25's compiled loops) releases the GIL, so it uses a core
# of its own while the calling thread embeds the question.
_WORKERS = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="quotedesk-worker")


def in_background(call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
    """``call`` started in the shared worker pool, FAISS on one thread there too; its ``result()``
    re-raises what it raised."""

    def limited() -> R:
        with _one_faiss_thread():
            return call(*args, **kwargs)

    return _WORKERS.submit(limited)


def in_background_steps(*steps: tuple[Future[Any], Callable[[], Any]]) -> None:
    """Each step's call in turn in one worker, its future settled as soon as it returns or raises;
    later steps run even when an earlier one raised, and may wait on an earlier step's future. The
    steps after the first get the core the first leaves instead of competing for one with the
    caller and the first."""

    def in_turn() -> None:
        with _one_faiss_thread():
            for future, call in steps:
                _settle(future, call)

    _WORKERS.submit(in_turn)


def _settle(future: Future[R], call: Callable[[], R]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = call()
    except BaseException as exc:  # handed to whoever waits on the future
        future.set_exception(exc)
    else:
        future.set_result(result)


@cache
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_and_faiss_thread(method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method`` with BLAS limited to one thread, restoring the limit after; and FAISS, if it is
    loaded, on one OpenMP thread in the calling thread (OpenMP's setting is per thread, so callers
    in other threads are not affected)."""

    @wraps(method)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R:
        with _one_faiss_thread(), _controller().limit(limits=1, user_api="blas"):
            return method(*args, **kwargs)

    return limited


@contextmanager
def _one_faiss_thread() -> Iterator[None]:
    """FAISS, if it is loaded, on one OpenMP thread in the calling thread while inside."""
    faiss = sys.modules.get("faiss")
    if faiss is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
