"""Top-k BM25 without scoring every passage: MaxScore-style pruning, one term at a time.

Terms are taken largest possible contribution first. Every term weighs positively, so a passage's
score only grows as terms are added: after each term, the k-th best partial score is a floor under
the final k-th score. Once the largest contributions of the terms left add up to less than that
floor, no passage the terms so far missed can reach the top k, and the terms left are scored only on
the passages still in the running, by binary search in their postings. Common words, whose
postings are the longest, are usually the ones never walked.
"""

from __future__ import annotations

from collections import Counter
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

# Stop walking postings once at most this share of the index can still reach the top k.
_MAX_RUNNING_SHARE = 1 / 64

Result = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def top_k(index: Bm25Index, tokens: Sequence[str], k: int, among: npt.NDArray[np.int64] | None) -> Result:
    """See :meth:`Bm25Index.top`."""
    counts = Counter(t for t in tokens if t in index.vocabulary)
    if k <= 0 or not counts or index.size == 0:
        return _empty()
    if among is not None and among.shape[0] <= _SUBSET_SHARE * index.size:
        return best(among, index.scores_for(tokens, among), k)
    terms = [index.vocabulary[t] for t in counts]
    weights = np.array([counts[t] * index.idf[index.vocabulary[t]] for t in counts], dtype=np.float64)
    if index.upper is None or np.any(weights <= 0):
        # Without bounds, or with a term that lowers scores (partial scores would be no floor).
        everything = np.arange(index.size, dtype=np.int64) if among is None else among
        return best(everything, index.scores(tokens)[everything], k)
    allowed = None
    if among is not None:
        allowed = np.zeros(index.size, dtype=bool)
        allowed[among] = True
    candidates = _pruned_candidates(index, terms, weights, index.upper, k, allowed)
    return best(candidates, index.scores_for(tokens, candidates), k)


def _pruned_candidates(
    index: Bm25Index,
    terms: list[int],
    weights: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    k: int,
    allowed: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.int64]:
    """Passages that may still be in the top ``k`` once the terms worth walking are walked; only
    passages ``allowed`` (a mask) when given, the others counting as absent."""
    bounds = weights * upper[terms]
    order = np.argsort(-bounds, kind="stable")
    partial = np.zeros(index.size, dtype=np.float64)
    leaders = np.zeros(0, dtype=np.int64)
    floor = 0.0
    left = float(bounds.sum())
    for position in order:
        term = terms[position]
        lo, hi = int(index.indptr[term]), int(index.indptr[term + 1])
        docs = index.docs[lo:hi].astype(np.int64)
        tf = index.tfs[lo:hi].astype(np.float64)
        norm = index.k1 * (1 - index.b + index.b * index.doc_lengths[docs].astype(np.float64) / index.avgdl)
        partial[docs] += weights[position] * (tf * (index.k1 + 1) / (tf + norm))
        left -= float(bounds[position])
        # The k best partial scores are among the previous leaders and the k best of the passages
        # just raised; only those 2k are merged, not the whole postings list.
        raised = docs if allowed is None else docs[allowed[docs]]
        if raised.shape[0] > k:
            raised = raised[np.argpartition(-partial[raised], k - 1)[:k]]
        pool = np.union1d(leaders, raised)
        if pool.shape[0] < k:
            leaders = pool
            continue
        values = partial[pool]
        chosen = np.argpartition(-values, k - 1)[:k]
        leaders, floor = pool[chosen], float(values[chosen].min())
        if floor > 0 and left < floor * (1 - _ROUNDING):
            # Safe to stop; worth it only once few passages stay in the running, since each is
            # then scored term by term. Until then the next term's postings narrow them further.
            running = np.count_nonzero(partial >= floor * (1 - _ROUNDING) - left)
            if running <= max(k, _MAX_RUNNING_SHARE * index.size):
                break
    else:
        left = 0.0
    in_running = (partial > 0) & (partial >= floor * (1 - _ROUNDING) - left)
    if allowed is not None:
        in_running &= allowed
    return np.flatnonzero(in_running).astype(np.int64)


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
