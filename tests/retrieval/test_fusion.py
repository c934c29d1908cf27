"""Reciprocal rank fusion against hand-computed values."""

from __future__ import annotations

import pytest

from retrieval import reciprocal_rank_fusion


def test_hand_computed_scores_and_order() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], [1.0, 1.0], k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)
    assert list(fused) == ["b", "a", "d", "c"]


def test_weights_scale_each_list() -> None:
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], [2.0, 0.5], k=1))
    assert fused == {"a": pytest.approx(1.0), "b": pytest.approx(0.25)}


def test_a_duplicate_keeps_its_best_rank_whatever_the_order() -> None:
    once = dict(reciprocal_rank_fusion([["x", "y"]], [1.0], k=60))
    twice = dict(reciprocal_rank_fusion([["x", "y", "x"]], [1.0], k=60))
    assert twice["x"] == once["x"]
    later = dict(reciprocal_rank_fusion([["y", "x", "x"]], [1.0], k=60))
    assert later["x"] == pytest.approx(1 / 62)


def test_one_weight_per_list() -> None:
    with pytest.raises(ValueError, match="one weight per ranking"):
        reciprocal_rank_fusion([["a"]], [1.0, 1.0], k=60)
