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
    scores = index.scores(tokens)
    terms, _ = index.query_terms(tokens)
    results = []
    for k, among in requests:
        if among is None:
            among = _reaching_floor(index, scores, terms, k)
        elif index.compiled:
            among = _reaching_kth(scores, among, k)
        results.append(best(among, scores[among], k))
    return results


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
