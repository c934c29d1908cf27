"""Top-k BM25 without scoring every passage: MaxScore-style pruning, one term at a time.

Terms are taken largest possible contribution first. Every term weighs positively, so a passage's
score only grows as terms are added: after each term, the k-th best partial score is a floor under
the final k-th score. Once the largest contributions of the terms left add up to less than that
floor, no passage the terms so far missed can reach the top k, and the terms left are scored only on
the passages still in the running, by galloping search in their postings.

The loops themselves are compiled (_bm25_kernels). Measured on 1M passages of MultiHop-RAG
copies: rank-bm25's idf floor (``epsilon`` times the mean idf) lifts words in most passages to the
weight of fairly rare ones, so long questions still walk about half their postings; compiling the
loops, not the pruning, is what made top-k several times faster there. An index too small to be
compiled for (``Bm25Index.compiled``) is scored whole by numpy and picked from: the same top k.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from index._bm25 import Bm25Index

# A subset at most this share of the index is scored passage by passage; a larger one is cheaper
# scored whole and then picked from.
_SUBSET_SHARE = 0.125
# A subset in at most this many runs of consecutive passage numbers is scored run by run (an
# outlet is one run: the build numbers passages outlet by outlet).
_MAX_RUNS = 64
# Slack for floating-point rounding in the pruning test, relative to the floor: a passage within it
# is kept and decided by its exact score.
_ROUNDING = 1e-9

# The floor is taken among this many passages from the rarest terms' postings (at least, per
# result asked): enough to hold their best passages, few enough to select from quickly.
_FLOOR_POOL = 4096
_FLOOR_POOL_PER_RESULT = 16
# Stop walking postings once at most this share of the index can still reach the top k: each of
# those is then looked up in every term left.
_MAX_RUNNING_SHARE = 1 / 64

Result = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def top_k(index: Bm25Index, tokens: Sequence[str], k: int, among: npt.NDArray[np.int64] | None) -> Result:
    """See :meth:`Bm25Index.top`."""
    terms, weights = index.query_terms(tokens)
    if k <= 0 or not terms.shape[0] or index.size == 0:
        return _empty()
    if among is not None and (runs := _runs_of([among], index)) is not None:
        return _best_within(*_scored_within(index, terms, weights, runs), among, k)
    if among is not None and among.shape[0] <= _SUBSET_SHARE * index.size:
        return best(among, index.scores_for(tokens, among), k)
    if not index.compiled or index.upper is None or np.any(weights <= 0):
        # Small, without bounds, or with a term that lowers scores (partial scores would be no floor).
        everything = np.arange(index.size, dtype=np.int64) if among is None else among
        return best(everything, index.scores(tokens)[everything], k)
    allowed = np.zeros(0, dtype=bool)
    if among is not None:
        allowed = np.zeros(index.size, dtype=bool)
        allowed[among] = True
    return best(*_pruned_candidates(index, terms, weights, k, allowed), k)


def _pruned_candidates(
    index: Bm25Index,
    terms: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    k: int,
    allowed: npt.NDArray[np.bool_],
) -> Result:
    """:func:`~index._bm25_kernels.pruned_candidates` with this index's arrays and the settings above;
    ``terms`` and ``weights`` as :meth:`Bm25Index.query_terms` gives them, ``allowed`` a mask or empty."""
    from index._bm25_kernels import pruned_candidates

    assert index.upper is not None
    return pruned_candidates(  # type: ignore[no-any-return]
        index.indptr,
        index.docs,
        index.tfs,
        *index.norms,
        terms,
        weights,
        weights * index.upper[terms],
        index.k1,
        k,
        allowed,
        _floor_pool(k),
        max(k, int(_MAX_RUNNING_SHARE * index.size)),
        _ROUNDING,
    )


def _floor_pool(k: int) -> int:
    return max(_FLOOR_POOL, _FLOOR_POOL_PER_RESULT * k)


def top_k_each(
    index: Bm25Index, tokens: Sequence[str], requests: Sequence[tuple[int, npt.NDArray[np.int64] | None]]
) -> list[Result]:
    """See :meth:`Bm25Index.top_each`."""
    if len(requests) <= 1:
        return [top_k(index, tokens, k, among) for k, among in requests]
    terms, weights = index.query_terms(tokens)
    subsets = [among for _, among in requests if among is not None]
    # With a request over every passage (a search naming an outlet), scoring every passage once
    # beat pruning that request on its own beside the outlets' runs (1M passages: 4.5 against 5.1
    # ms p50 for a search's proposals).
    runs = _runs_of(subsets, index) if len(subsets) == len(requests) else None
    if runs is not None:
        scores, offset = _scored_within(index, terms, weights, runs)
        ks = [k for k, _ in requests]
        return [_best_within(scores, offset, among, k) for k, among in zip(ks, subsets, strict=True)]
    scores = index.scores(tokens)
    results = []
    for k, among in requests:
        if among is None:
            among = _reaching_floor(index, scores, terms, k)
        elif index.compiled:
            among = _reaching_kth(scores, among, k)
        results.append(best(among, scores[among], k))
    return results


def _runs_of(
    subsets: list[npt.NDArray[np.int64]], index: Bm25Index
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """The runs of consecutive passage numbers that cover ``subsets`` (each ascending), as starts
    and stops, if they are at most :data:`_MAX_RUNS` and the index is compiled for; else None.
    The build numbers passages outlet by outlet, so an outlet is one run, and scoring each term's
    postings within it reads the outlet's share of them. 1M passages, an answer's proposals (p50 /
    p95): one outlet named 2.2 / 11.3 -> 1.2 / 3.8 ms, where pruning walked the postings of every
    passage behind a mask; two named 7.2 / 11.9 -> 4.2 / 7.7, where every passage was scored."""
    if not index.compiled or not subsets:
        return None
    from index._bm25_kernels import consecutive_runs

    starts: list[npt.NDArray[np.int64]] = []
    stops: list[npt.NDArray[np.int64]] = []
    for among in subsets:
        if among.shape[0] == 0:
            continue
        run_starts, run_stops = consecutive_runs(np.ascontiguousarray(among, dtype=np.int64), _MAX_RUNS)
        if run_starts.shape[0] == 0:
            return None
        starts.append(run_starts)
        stops.append(run_stops)
    if not starts:
        return None
    all_starts = np.concatenate(starts)
    order = np.argsort(all_starts, kind="stable")
    first, last = all_starts[order], np.concatenate(stops)[order]
    # Merge overlapping or touching runs: the kernel wants them disjoint and ascending.
    reach = np.maximum.accumulate(last)
    new = np.concatenate(([True], first[1:] > reach[:-1]))
    merged_starts = first[new]
    merged_stops = np.maximum.reduceat(last, np.flatnonzero(new))
    if merged_starts.shape[0] > _MAX_RUNS:
        return None
    return merged_starts, merged_stops


def _scored_within(
    index: Bm25Index,
    terms: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    runs: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[np.float64], int]:
    """:meth:`Bm25Index.scores` of the passages in ``runs`` (the others between them left 0) and
    the first passage's number: passage ``d``'s score is at ``d - offset``. The same floats."""
    from index._bm25_kernels import add_terms_within

    starts, stops = runs
    offset = int(starts[0])
    scores = np.zeros(int(stops[-1]) - offset, dtype=np.float64)
    add_terms_within(
        scores,
        offset,
        starts,
        stops,
        index.indptr,
        index.docs,
        index.tfs,
        *index.norms,
        terms,
        weights,
        index.k1,
    )
    return scores, offset


def _best_within(
    scores: npt.NDArray[np.float64], offset: int, among: npt.NDArray[np.int64], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The ``k`` best of ``among`` from :func:`_scored_within`'s ``scores`` and ``offset``."""
    reaching = _reaching_kth(scores, among - offset, k)
    return best(reaching + offset, scores[reaching], k)


def _reaching_kth(
    scores: npt.NDArray[np.float64], among: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.int64]:
    """Those of ``among`` that may be among its ``k`` best. An answer limited to the outlets it
    names asks for the best of some 140k passages at 1M; gathering and partitioning all their scores
    took 3.5 ms an answer."""
    from index._bm25_kernels import reaching_kth_among

    return reaching_kth_among(scores, np.ascontiguousarray(among, dtype=np.int64), k)  # type: ignore[no-any-return]


def _reaching_floor(
    index: Bm25Index, scores: npt.NDArray[np.float64], terms: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.int64]:
    """Passages that may be among the ``k`` best: on a small index simply every one scored."""
    if not index.compiled:
        return np.flatnonzero(scores > 0).astype(np.int64)
    from index._bm25_kernels import reaching_floor

    return reaching_floor(  # type: ignore[no-any-return]
        scores, index.indptr, index.docs, terms, k, _floor_pool(k)
    )


def best(ids: npt.NDArray[np.int64], scores: npt.NDArray[np.float64], k: int) -> Result:
    """The ``k`` best of ``ids`` with a positive score, by score, then passage number."""
    positive = scores > 0
    ids, scores = ids[positive], scores[positive]
    if k < scores.shape[0]:
        # Sorting only the passages that reach the k-th score (ties at it included) is enough.
        kth = np.partition(scores, scores.shape[0] - k)[scores.shape[0] - k]
        reach = scores >= kth
        ids, scores = ids[reach], scores[reach]
    order = np.lexsort((ids, -scores))[:k]
    return ids[order].astype(np.int64), scores[order]


def _empty() -> Result:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
