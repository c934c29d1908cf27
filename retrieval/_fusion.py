"""Fusing retrieval signals over candidate passages, and covering the outlets a question names.

Measured on MultiHop-RAG's dev questions (docs/quality.md): a weighted sum of max-normalised scores
beats reciprocal rank fusion, which threw away how far ahead a passage was; the question's clauses,
each scored on its own, find the facts a multi-part question asks of different articles.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

K = TypeVar("K", bound=Hashable)
Scores = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Signals:
    """Per-candidate scores, one array per signal (None: not computed in this mode)."""

    bm25: Scores | None = None
    clause_bm25: Scores | None = None
    dense: Scores | None = None
    clause_dense: Scores | None = None
    named_day: Scores | None = None


@dataclass(frozen=True)
class Weights:
    bm25: float = 1.0
    clause_bm25: float = 1.0
    dense: float = 1.0
    clause_dense: float = 1.0
    named_day: float = 1.0


def normalised(scores: Scores) -> Scores:
    """Scores divided by their maximum, so lexical and cosine scores share a 0..1 range."""
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


def best_per_clause(per_clause: Sequence[Scores]) -> Scores:
    """Each candidate's best max-normalised score over the clauses."""
    best: Scores = np.max(np.stack([normalised(s) for s in per_clause]), axis=0)
    return best


def fuse(signals: Signals, weights: Weights) -> Scores:
    """The weighted sum of the signals that were computed."""
    total: Scores | None = None
    for name in ("bm25", "clause_bm25", "dense", "clause_dense", "named_day"):
        values = getattr(signals, name)
        if values is None:
            continue
        part = getattr(weights, name) * values
        total = part if total is None else total + part
    if total is None:
        raise ValueError("no signal to fuse")
    return total


def cover_outlets(ranked: Sequence[K], outlet_of: Callable[[K], str], named: Sequence[str]) -> list[K]:
    """``ranked`` reordered so each outlet the question names gets a turn: the best remaining
    passage of each named outlet in turn (outlets ordered by their best passage), then the rest in
    their order. A question about "the Verge and TechCrunch" needs evidence from both near the top."""
    wanted = set(named)
    queues: dict[str, list[K]] = {}
    for item in ranked:
        outlet = outlet_of(item)
        if outlet in wanted:
            queues.setdefault(outlet, []).append(item)
    if not queues:
        return list(ranked)
    covered: list[K] = []
    position = 0
    while any(position < len(queue) for queue in queues.values()):
        covered += [queue[position] for queue in queues.values() if position < len(queue)]
        position += 1
    rest = [item for item in ranked if outlet_of(item) not in wanted]
    return covered + rest
