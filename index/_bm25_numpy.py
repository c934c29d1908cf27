"""A small index's BM25 loops in numpy, for indexes too small to repay loading numba.

numba costs about 0.5 s once per process (its import, then each compiled kernel's first call), which
a one-shot ``quotedesk ask`` on a few hundred passages pays for nothing: there numpy scores a
question in well under a millisecond. Each function here is its namesake in ``_bm25_kernels``: the
terms added in the same order with the same expression, so the same floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def add_terms(
    scores: Floats,
    indptr: Ints,
    docs: npt.NDArray[Any],
    tfs: npt.NDArray[Any],
    codes: npt.NDArray[Any],
    norms: Floats,
    terms: Ints,
    weights: Floats,
    k1: float,
) -> None:
    """Add each term's contribution to ``scores`` (one per passage) for every passage it occurs in."""
    for term, weight in zip(terms.tolist(), weights.tolist(), strict=True):
        lo, hi = indptr[term], indptr[term + 1]
        found = docs[lo:hi]  # a term's postings name each passage once, so ``+=`` adds to each
        scores[found] += _contribution(weight, tfs[lo:hi], norms[codes[found]], k1)


def add_terms_for(
    scores: Floats,
    candidates: Ints,
    indptr: Ints,
    docs: npt.NDArray[Any],
    tfs: npt.NDArray[Any],
    codes: npt.NDArray[Any],
    norms: Floats,
    terms: Ints,
    weights: Floats,
    k1: float,
) -> None:
    """:func:`add_terms` for ``candidates`` only (ascending; ``scores[i]`` is ``candidates[i]``'s)."""
    for term, weight in zip(terms.tolist(), weights.tolist(), strict=True):
        lo, hi = indptr[term], indptr[term + 1]
        if hi == lo:
            continue
        postings = docs[lo:hi]
        at = np.minimum(np.searchsorted(postings, candidates), hi - lo - 1)
        hit = postings[at] == candidates
        found = candidates[hit]
        scores[hit] += _contribution(weight, tfs[lo:hi][at[hit]], norms[codes[found]], k1)


def saturations_for(
    table: Floats,
    candidates: Ints,
    indptr: Ints,
    docs: npt.NDArray[Any],
    tfs: npt.NDArray[Any],
    codes: npt.NDArray[Any],
    norms: Floats,
    terms: Ints,
    k1: float,
) -> None:
    """``table[j, i]``: term ``terms[j]``'s contribution at weight 1 in ``candidates[i]``, 0 where it
    is absent: :func:`add_terms_for` into a row of zeros."""
    one = np.ones(1)
    for j in range(terms.shape[0]):
        add_terms_for(table[j], candidates, indptr, docs, tfs, codes, norms, terms[j : j + 1], one, k1)


def add_saturations(scores: Floats, table: Floats, queries: Ints, rows: Ints, weights: Floats) -> None:
    """``scores[queries[n]] += weights[n] * table[rows[n]]`` for each ``n`` in turn."""
    for query, row, weight in zip(queries.tolist(), rows.tolist(), weights.tolist(), strict=True):
        scores[query] += weight * table[row]


def _contribution(weight: float, tf: npt.NDArray[Any], norm: Floats, k1: float) -> Floats:
    """``_bm25_kernels._contribution`` over arrays: each operation rounds as the scalar one does."""
    tf = tf.astype(np.float64)
    return weight * (tf * (k1 + 1.0) / (tf + norm))
