"""What an answer reads from its candidate sentences: the question's terms each holds, and the value
it states when the question asks for one."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt

from index import IndexReader
from retrieval._values import Value, ValueKind, find_values, remembered_values

# How many words either side of a value count as near it.
PROXIMITY_WORDS = 8
_WORD = re.compile(r"\w+")
# A shorter "sentence" is a heading, a byline or an outlet's name ("Engadget"), which answers
# nothing however close its vector is to a short clause.
QUOTE_MIN_WORDS = 5
# Whether a text has QUOTE_MIN_WORDS words, read no further than them: an answer checks ~270
# sentences, and counting every word took 4.5 us of each. Possessive, so a long run of one word
# is read once, not once per backtrack.
_ENOUGH_WORDS = re.compile(rf"\W*+(?:\w++\W++){{{QUOTE_MIN_WORDS - 1}}}\w")
# What float sums in another order may differ by: a bound must not fall below what it bounds.
_BOUND_SLACK = 1e-9

ValueReader = Callable[[str], tuple[Value, float] | None]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a candidate sentence offers an answer besides its similarity to the question: the
    idf-weighted share of each of the question's texts' terms it holds, and for a typed question
    the value it states. A value the parser would have to read is read later, and only for
    sentences that could matter (see ``retrieval._compose.score_sentences``); meanwhile the
    sentence holds the most its value's proximity could be."""

    sentence: int
    row: int  # its row in :attr:`SentenceEvidence.vectors`
    article: int
    outlet: str
    start: int
    end: int
    text: str
    coverages: list[float]
    value: Value | None  # for a typed question, when it was quick to find (or None: see below)
    proximity: float  # the share of the question's terms near it (:func:`_proximity`)
    # For a typed question's sentence whose value is still to be read: at least what its proximity
    # will be, whichever value it states. None when there is nothing to read.
    proximity_bound: float | None = None


@dataclass(frozen=True)
class SentenceEvidence:
    """The candidate sentences that may be quoted, with every candidate's vector when vectors count,
    and for a typed question how to read a sentence's value."""

    items: list[Evidence]
    vectors: npt.NDArray[np.float32] | None
    candidates: int
    texts: int  # how many texts the question has (the whole question, then its clauses)
    read_value: ValueReader | None = None


def sentence_evidence(
    reader: IndexReader,
    sentences: Sequence[int],
    terms: Sequence[dict[str, float]],
    kind: ValueKind | None,
    *,
    vectors: bool,
) -> SentenceEvidence:
    """Everything ``score_sentences`` needs but the question's vectors and the values, so that an
    answer reads it while the question is still being embedded whole. Sentences shorter than
    QUOTE_MIN_WORDS are left out, and with a typed question those that cannot state such a value
    (:func:`~retrieval._values.may_state`)."""
    tokenize = reader.bm25_tokenizer
    totals = [sum(t.values()) or 1.0 for t in terms]
    # Which texts each term belongs to, so a sentence's words are matched against all of them at
    # once instead of intersected with each text's terms in turn.
    texts_of: dict[str, list[tuple[int, float]]] = {}
    for i, weights in enumerate(terms):
        for term, weight in weights.items():
            texts_of.setdefault(term, []).append((i, weight))
    items = []
    spans = reader.sentence_spans(sentences)
    for row, (sentence, (article, start, end)) in enumerate(zip(sentences, spans, strict=True)):
        text = reader.article_text(article)[start:end]
        if not _ENOUGH_WORDS.match(text):
            continue
        known = None
        if kind is not None:
            known = remembered_values(text, kind)
            if known == []:  # first: most sentences state no such value, and need no tokenizing
                continue
        held = [0.0] * len(terms)
        for word in texts_of.keys() & tokenize(text):
            for i, weight in texts_of[word]:
                held[i] += weight
        coverages = [h / total for h, total in zip(held, totals, strict=True)]
        outlet = reader.articles[article].outlet
        place = (sentence, row, article, outlet, start, end, text, coverages)
        if kind is None:
            items.append(Evidence(*place, None, 0.0))
        elif known is None:
            items.append(Evidence(*place, None, 0.0, _proximity_bound(text, coverages[0])))
        else:
            items.append(Evidence(*place, *_nearest(known, text, terms[0], totals[0], tokenize)))
    # Every candidate's row, not only those kept: the products below are then the same floats
    # whichever sentences qualify.
    rows = reader.sentence_rows(np.asarray(sentences, dtype=np.int64)) if vectors and sentences else None
    read_value = None if kind is None else partial(_best_value, kind, terms[0], totals[0], tokenize)
    return SentenceEvidence(items, rows, len(sentences), len(terms), read_value)


def _proximity_bound(text: str, coverage: float) -> float:
    """The most :func:`_proximity` can be in ``text``, whose share of the question's terms is
    ``coverage``. The words near a value are some of the sentence's, and the tokenizer takes a text
    word by word, so they hold no more of the terms than it does. That is exact for ASCII text;
    elsewhere Unicode normalisation may join or split words differently, so the bound is the
    largest share there is."""
    return coverage + _BOUND_SLACK if text.isascii() else 1.0 + _BOUND_SLACK


def _best_value(
    kind: ValueKind, terms: dict[str, float], total: float, tokenize: object, text: str
) -> tuple[Value, float] | None:
    """The value of ``kind`` in ``text`` with the most of the question's terms near it, and their
    share; None when it states none."""
    values = find_values(text, kind)
    return _nearest(values, text, terms, total, tokenize) if values else None


def _nearest(
    values: list[Value], text: str, terms: dict[str, float], total: float, tokenize: object
) -> tuple[Value, float]:
    """Of ``values`` in ``text``, the one with the most of the question's terms near it, and their share."""
    return max(((v, _proximity(text, v, terms, tokenize) / total) for v in values), key=lambda pair: pair[1])


def _proximity(text: str, value: Value, terms: dict[str, float], tokenize: object) -> float:
    """The weight of ``terms`` within PROXIMITY_WORDS words of ``value``."""
    words = [(m.start(), m.group()) for m in _WORD.finditer(text)]
    before = [w for pos, w in words if pos < value.start][-PROXIMITY_WORDS:]
    after = [w for pos, w in words if pos >= value.end][:PROXIMITY_WORDS]
    near = set(tokenize(" ".join(before + after)))  # type: ignore[operator]
    return sum(weight for term, weight in terms.items() if term in near)
