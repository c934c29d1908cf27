"""The compiled kernels' own contracts, where the scorer-level tests in test_bm25 reach them only
through a large index."""

from __future__ import annotations

import numpy as np

from index._bm25_kernels import reaching_kth_among
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
