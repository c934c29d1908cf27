"""Scoring candidate sentences and choosing each outlet's quotes: a typed question's values are read
only where they could change the answer, and the answer is the one reading them all gives."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from config import RetrievalSettings
from retrieval._compose import group_by_outlet, rescore_by_value_clause, score_sentences
from retrieval._evidence import Evidence, SentenceEvidence
from retrieval._values import Value, ValueKind

_OUTLETS = ("Reuters", "AP", "BBC", "Kyiv Independent")
_RETRIEVAL = RetrievalSettings()


@dataclass(frozen=True)
class Candidate:
    outlet: int
    similarities: tuple[float, float]  # to the whole question and to its one clause
    coverages: tuple[float, float]
    value: int | None  # the count it states, if any
    nearness: float  # its proximity, as a share of the most it could be
    remembered: bool = False  # whether its value was read before (for an earlier question)


_CANDIDATES = st.builds(
    Candidate,
    st.integers(0, len(_OUTLETS) - 1),
    st.tuples(st.floats(-0.2, 0.9), st.floats(-0.2, 0.9)),
    st.tuples(st.floats(0, 1), st.floats(0, 1)),
    st.one_of(st.none(), st.integers(1, 4)),
    st.floats(0, 1),
    st.booleans(),
)


class _Sentences:
    """Hand-made candidate sentences, and how many of their values were read."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates
        self.reads = 0
        self.texts = [f"sentence {i} says {c.value or 'nothing'} of note" for i, c in enumerate(candidates)]
        articles = [SimpleNamespace(outlet=_OUTLETS[c.outlet]) for c in candidates]
        self.reader = SimpleNamespace(articles=articles)

    def evidence(self) -> SentenceEvidence:
        """As :func:`~retrieval._evidence.sentence_evidence` gives them: a value read before is
        there already (a sentence that states none is left out), the others are to be read."""
        items = []
        for i, (c, text) in enumerate(zip(self.candidates, self.texts, strict=True)):
            place = (i, i, i, _OUTLETS[c.outlet], 0, len(text), text, list(c.coverages))
            if not c.remembered:
                items.append(Evidence(*place, None, 0.0, c.coverages[0]))
            elif (read := self._value(c, text)) is not None:
                items.append(Evidence(*place, *read))
        vectors = np.array([c.similarities for c in self.candidates], dtype=np.float32).reshape(-1, 2)
        return SentenceEvidence(items, vectors, len(self.candidates), 2, self.read_value)

    def read_value(self, text: str) -> tuple[Value, float] | None:
        self.reads += 1
        return self._value(self.candidates[self.texts.index(text)], text)

    @staticmethod
    def _value(candidate: Candidate, text: str) -> tuple[Value, float] | None:
        if candidate.value is None:
            return None
        start = text.index(str(candidate.value))
        value = Value(ValueKind.COUNT, str(candidate.value), start, start + 1, (candidate.value,))
        return value, candidate.nearness * candidate.coverages[0]


def _encode(texts: list[str]) -> npt.NDArray[np.float32]:
    """Unit vectors in the question's plane, at an angle each window's text decides."""
    angles = np.array([zlib.crc32(t.encode()) % 1000 / 1000 * np.pi for t in texts])
    return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


def _answer(
    sentences: _Sentences, *, min_score: float, lazily: bool, rescored: int, encode: Any = _encode
) -> Any:
    queries = np.eye(2, dtype=np.float32)  # so a sentence's vector is its similarities
    scored = score_sentences(
        sentences.evidence(), queries, min_score=min_score if lazily else None, rescored=rescored
    )
    if rescored:
        scored = rescore_by_value_clause(scored, queries[0], encode, rescored)
    return group_by_outlet(sentences.reader, scored, _RETRIEVAL, min_score)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_CANDIDATES, max_size=60),
    st.floats(0.1, 0.9),
    st.sampled_from([0, 1, 3, 24]),
)
def test_reading_only_what_counts_gives_the_same_answer(
    candidates: list[Candidate], min_score: float, rescored: int
) -> None:
    every, needed = _Sentences(candidates), _Sentences(candidates)
    assert _answer(needed, min_score=min_score, lazily=True, rescored=rescored) == _answer(
        every, min_score=min_score, lazily=False, rescored=rescored
    )
    assert needed.reads <= every.reads == sum(not c.remembered for c in candidates)


def test_sentences_that_cannot_be_quoted_are_not_read() -> None:
    # One outlet's sentence scores well; the rest are far below it and under the threshold.
    strong = Candidate(0, (0.8, 0.1), (1.0, 0.0), 3, 1.0)
    weak = [Candidate(i % 4, (0.05, 0.0), (0.1, 0.1), 2, 1.0) for i in range(40)]
    sentences = _Sentences([strong, *weak])
    answer = _answer(sentences, min_score=0.35, lazily=True, rescored=0)
    assert [outlet for outlet, _ in answer] == ["Reuters"]
    assert sentences.reads == 1


def test_a_sentence_that_may_be_rescored_is_read_though_its_bound_is_under_the_threshold() -> None:
    # The first read has the higher bound but scores 0.25; the second may score 0.30, so it could be
    # the one rescored, and rescoring lifts it to 1.0.
    first = Candidate(0, (0.1, 0.0), (1.0, 0.0), 2, 0.0)
    second = Candidate(1, (0.3, 0.0), (0.0, 0.0), 3, 0.0)
    sentences = _Sentences([first, second])

    def lift_second(windows: list[str]) -> npt.NDArray[np.float32]:
        return np.array([[1, 0] if "sentence 1 " in w else [0, 1] for w in windows], dtype=np.float32)

    answer = _answer(sentences, min_score=0.5, lazily=True, rescored=1, encode=lift_second)
    assert [(outlet, [q.sentence for q in quotes]) for outlet, quotes in answer] == [("AP", [1])]


def test_a_weaker_sentence_that_may_keep_its_outlet_is_read() -> None:
    # The outlet's best matches a clause (0.9) but the whole question only at 0.35, under the
    # threshold; the other sentence may match the whole question at 0.5 with its value's proximity.
    best = Candidate(2, (0.35, 0.9), (0.0, 0.0), 3, 0.0)
    other = Candidate(2, (0.19, 0.0), (1.0, 0.0), 3, 1.0)
    sentences = _Sentences([best, other])
    answer = _answer(sentences, min_score=0.4, lazily=True, rescored=0)
    assert sentences.reads == 2
    assert [(outlet, [q.sentence for q in quotes]) for outlet, quotes in answer] == [("BBC", [0])]


def test_the_rescored_best_are_read_even_under_the_threshold() -> None:
    # Rescoring may lift any of the best few, so they are read whatever they score.
    weak = [Candidate(i % 4, (0.01 * i, 0.0), (0.1, 0.1), 2, 1.0) for i in range(10)]
    sentences = _Sentences(weak)
    _answer(sentences, min_score=0.35, lazily=True, rescored=3)
    assert sentences.reads == 3


def test_a_weaker_sentence_of_an_outlet_already_read_is_skipped() -> None:
    best = Candidate(1, (0.6, 0.1), (0.4, 0.0), 3, 1.0)  # scores 0.72
    second = Candidate(1, (0.64, 0.1), (0.2, 0.2), 3, 0.0)  # at most 0.70, and 0.67: a second quote
    far = Candidate(1, (0.4, 0.1), (0.2, 0.2), 3, 1.0)  # at most 0.46: over the threshold, too far below
    # At most 0.60, matching the clause: a quote for the other part of the question.
    other_clause = Candidate(1, (0.1, 0.6), (0.0, 0.0), 3, 1.0)
    sentences = _Sentences([far, second, best, other_clause])
    answer = _answer(sentences, min_score=0.35, lazily=True, rescored=0)
    assert sentences.reads == 3
    assert [[q.sentence for q in quotes] for _, quotes in answer] == [[1, 2, 3]]


def test_a_value_read_before_counts_as_read() -> None:
    # Remembered from an earlier question, the outlet's best (1.2) leaves its weaker sentences (at
    # most 0.5, over the threshold) unread.
    strong = Candidate(0, (0.9, 0.1), (1.0, 0.0), 3, 1.0, remembered=True)
    weak = [Candidate(0, (0.3 - 0.01 * i, 0.0), (0.5, 0.1), 2, 1.0) for i in range(5)]
    sentences = _Sentences([*weak, strong])
    answer = _answer(sentences, min_score=0.35, lazily=True, rescored=0)
    assert [[q.sentence for q in quotes] for _, quotes in answer] == [[5]]
    assert sentences.reads == 0
