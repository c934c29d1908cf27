"""The compiled kernels' own contracts, where the scorer-level tests in test_bm25 reach them only
through a large index."""

from __future__ import annotations

import numpy as np

from index import _bm25_kernels, _bm25_numpy
from index._bm25_kernels import SCORE_BLOCK, reaching_kth_among
from index._bm25_top import best


def test_a_subsets_reaching_passages_hold_its_top_k_ties_included() -> None:
    rng = np.random.default_rng(5)
    scores = rng.choice([0.0, 0.5, 1.0, 1.5, 2.0, 2.5], size=5000)  # many ties, some zeros
    for size, k in [(0, 10), (3, 10), (40, 10), (900, 50), (5000, 100), (5000, 1)]:
        among = np.sort(rng.choice(5000, size=size, replace=False)).astype(np.int64)
        reaching = reaching_kth_among(scores, among, k)
        assert set(reaching) <= set(among)
        assert np.all(np.diff(reaching) > 0)  # in among's order
        positive = among[scores[among] > 0]
        if positive.shape[0] <= k:
            assert np.array_equal(reaching, positive)
        else:
            kth = np.sort(scores[positive])[::-1][k - 1]
            assert np.array_equal(reaching, positive[scores[positive] >= kth])
        ids, _ = best(reaching, scores[reaching], k)
        expected, _ = best(among, scores[among], k)
        assert np.array_equal(ids, expected)


def test_scoring_every_passage_block_by_block_gives_the_same_floats_as_term_by_term() -> None:
    rng = np.random.default_rng(7)
    size = 3 * SCORE_BLOCK + 123  # three whole blocks and a partial one
    # Postings as an index stores them: per term, ascending passages, each once. Terms in most
    # passages, in a few, in none, and only in the last partial block.
    shares = [0.6, 0.05, 0.3, 0.0001, 0.0]
    postings = [np.sort(rng.choice(size, size=int(share * size), replace=False)) for share in shares]
    postings.append(np.arange(3 * SCORE_BLOCK, size))
    indptr = np.concatenate(([0], np.cumsum([p.shape[0] for p in postings]))).astype(np.int64)
    docs = np.concatenate(postings).astype(np.int32)
    tfs = rng.integers(1, 6, size=docs.shape[0]).astype(np.uint8)
    codes = rng.integers(0, 40, size=size).astype(np.uint16)
    norms = rng.uniform(0.5, 2.5, size=40)
    terms = np.array([2, 0, 5, 1, 4, 3], dtype=np.int64)  # not in term order: the order is kept
    weights = rng.uniform(0.1, 3.0, size=terms.shape[0])
    blocked, reference = np.zeros(size), np.zeros(size)
    _bm25_kernels.add_terms(blocked, indptr, docs, tfs, codes, norms, terms, weights, 1.2)
    _bm25_numpy.add_terms(reference, indptr, docs, tfs, codes, norms, terms, weights, 1.2)
    assert np.array_equal(blocked, reference)
    assert np.count_nonzero(blocked[3 * SCORE_BLOCK :]) == size - 3 * SCORE_BLOCK
