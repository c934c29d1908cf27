"""Signal fusion and outlet coverage against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval._fusion import Signals, Weights, best_per_clause, cover_outlets, fuse, normalised


def test_normalised_divides_by_the_maximum_and_keeps_zeros() -> None:
    np.testing.assert_allclose(normalised(np.array([2.0, 1.0, 0.0])), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(normalised(np.zeros(3)), np.zeros(3))


def test_best_per_clause_normalises_each_clause_first() -> None:
    # clause 1 ranges to 10, clause 2 to 1: without normalising, clause 2 could never count
    best = best_per_clause([np.array([10.0, 5.0, 0.0]), np.array([0.0, 0.2, 1.0])])
    np.testing.assert_allclose(best, [1.0, 0.5, 1.0])


def test_fuse_weights_only_the_signals_computed() -> None:
    signals = Signals(bm25=np.array([1.0, 0.0]), dense=np.array([0.2, 0.9]))
    fused = fuse(signals, Weights(bm25=2.0, dense=1.0, clause_bm25=5.0))
    np.testing.assert_allclose(fused, [2.2, 0.9])
    with pytest.raises(ValueError, match="no signal"):
        fuse(Signals(), Weights())


def test_cover_outlets_gives_each_named_outlet_a_turn() -> None:
    outlet = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "c1": "C", "b2": "B"}
    ranked = ["a1", "a2", "c1", "a3", "b1", "b2"]
    assert cover_outlets(ranked, outlet.__getitem__, ["B", "A"]) == ["a1", "b1", "a2", "b2", "a3", "c1"]
    assert cover_outlets(ranked, outlet.__getitem__, ["Z"]) == ranked
    assert cover_outlets(ranked, outlet.__getitem__, []) == ranked
