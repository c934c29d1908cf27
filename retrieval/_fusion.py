"""Reciprocal rank fusion of ranked lists."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], weights: Sequence[float], k: int
) -> list[tuple[K, float]]:
    """``score(d) = sum_i w_i / (k + rank_i(d))`` with 1-based ranks, best first.

    An item listed twice in one ranking counts once, at its best rank, whatever the order of the
    input; ties are broken by first appearance so the result is deterministic.
    """
    if len(rankings) != len(weights):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        best: dict[K, int] = {}
        for rank, item in enumerate(ranking, start=1):
            best.setdefault(item, rank)
        for item, rank in best.items():
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))
