"""From ranked passages to an answer: the best sentences of each outlet, verbatim, and where they disagree."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from config import RetrievalSettings
from index import IndexReader
from retrieval._models import Discrepancy, DiscrepancyValue, OutletAnswer, Quote
from retrieval._values import Value, ValueKind, find_values, value_window

# A sentence's score: its cosine similarity to the question, plus these weights times the share of
# the question's terms it contains (idf-weighted), and times the share found within PROXIMITY_WORDS
# of the value it states (typed questions only).
LEXICAL_WEIGHT = 0.15
PROXIMITY_WEIGHT = 0.15
PROXIMITY_WORDS = 8
# For typed questions, this many best candidates are rescored by the clause around their value.
WINDOW_RESCORED = 24
# A second quote from the same outlet must score within this of its best one.
SECOND_QUOTE_MARGIN = 0.06
# ... unless it answers another clause of the question than the quotes before it: "did the Verge
# report X and Y?" may need one sentence for each, and those score further apart.
OTHER_CLAUSE_MARGIN = 0.15
_WORD = re.compile(r"\w+")
# A shorter "sentence" is a heading, a byline or an outlet's name ("Engadget"), which answers
# nothing however close its vector is to a short clause.
QUOTE_MIN_WORDS = 5
# Whether a text has QUOTE_MIN_WORDS words, read no further than them: an answer checks ~270
# sentences, and counting every word took 4.5 us of each. Possessive, so a long run of one word
# is read once, not once per backtrack.
_ENOUGH_WORDS = re.compile(rf"\W*+(?:\w++\W++){{{QUOTE_MIN_WORDS - 1}}}\w")


@dataclass(frozen=True, slots=True)
class Scored:
    sentence: int
    article: int
    start: int
    end: int
    text: str
    score: float
    value: Value | None
    dense: float = 0.0
    clause: int = 0  # which of the question's texts (0: the whole question) the sentence matches best
    # The score against the whole question alone. Whether an outlet is quoted at all is decided on
    # it: the best of several clauses is higher by chance, and would answer unanswerable questions.
    whole: float = 0.0


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a candidate sentence offers an answer besides its similarity to the question: the
    idf-weighted share of each of the question's texts' terms it holds, and the value it states."""

    sentence: int
    row: int  # its row in :attr:`SentenceEvidence.vectors`
    article: int
    start: int
    end: int
    text: str
    coverages: list[float]
    value: Value | None
    proximity: float


@dataclass(frozen=True)
class SentenceEvidence:
    """The candidate sentences that may be quoted, with every candidate's vector when vectors count."""

    items: list[Evidence]
    vectors: npt.NDArray[np.float32] | None
    candidates: int
    texts: int  # how many texts the question has (the whole question, then its clauses)


def sentence_evidence(
    reader: IndexReader,
    sentences: Sequence[int],
    terms: Sequence[dict[str, float]],
    kind: ValueKind | None,
    *,
    vectors: bool,
) -> SentenceEvidence:
    """Everything :func:`score_sentences` needs but the question's vectors, so that an answer reads
    it while the question is still being embedded whole. Sentences shorter than QUOTE_MIN_WORDS
    are left out, and with a typed question those stating no such value."""
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
        value, proximity = None, 0.0
        if kind is not None:  # first: most sentences state no such value, and need no tokenizing
            values = find_values(text, kind)
            if not values:
                continue
            value, proximity = max(
                ((v, _proximity(text, v, terms[0], tokenize) / totals[0]) for v in values),
                key=lambda pair: pair[1],
            )
        held = [0.0] * len(terms)
        for word in texts_of.keys() & tokenize(text):
            for i, weight in texts_of[word]:
                held[i] += weight
        coverages = [h / total for h, total in zip(held, totals, strict=True)]
        items.append(Evidence(sentence, row, article, start, end, text, coverages, value, proximity))
    # Every candidate's row, not only those kept: the products below are then the same floats
    # whichever sentences qualify.
    rows = reader.sentence_rows(np.asarray(sentences, dtype=np.int64)) if vectors and sentences else None
    return SentenceEvidence(items, rows, len(sentences), len(terms))


def score_sentences(evidence: SentenceEvidence, queries: npt.NDArray[np.float32] | None) -> list[Scored]:
    """Score the sentences of ``evidence`` against each of the question's texts (the whole question,
    then its clauses): its similarity to the text's vector (row of ``queries``) plus LEXICAL_WEIGHT
    times the idf-weighted share of the text's terms it holds; the best text counts."""
    similarity = (
        evidence.vectors @ np.atleast_2d(queries).T
        if queries is not None and evidence.vectors is not None
        else np.zeros((evidence.candidates, evidence.texts), dtype=np.float32)
    )
    # Python floats and lists from here: ~270 sentences an answer, each a handful of numbers, where
    # numpy's per-call overhead (indexing a scalar, argmax of five) cost more than the arithmetic.
    similarities = similarity.tolist()
    scored = []
    for item in evidence.items:
        row = similarities[item.row]
        rows = [cosine + LEXICAL_WEIGHT * c for cosine, c in zip(row, item.coverages, strict=True)]
        clause = rows.index(max(rows))  # the first best, as np.argmax
        coverage = item.coverages[clause]
        base = row[clause] if queries is not None else 0.0
        score = base + LEXICAL_WEIGHT * coverage + PROXIMITY_WEIGHT * item.proximity
        whole = rows[0] + PROXIMITY_WEIGHT * item.proximity
        if queries is None:
            # Without vectors the lexical evidence is all there is; scale it to the same range.
            score = whole = coverage + PROXIMITY_WEIGHT * item.proximity
        scored.append(
            Scored(
                item.sentence,
                item.article,
                item.start,
                item.end,
                item.text,
                score,
                item.value,
                base,
                clause,
                whole,
            )
        )
    return scored


def rescore_by_value_clause(
    scored: list[Scored],
    query: npt.NDArray[np.float32],
    encode: Callable[[list[str]], npt.NDArray[np.float32]],
) -> list[Scored]:
    """A long sentence may state the value in one clause and much else besides; score the best
    candidates by whichever matches the question better, the sentence or the value's own clause."""
    ranked = sorted(scored, key=lambda s: -s.score)
    head, tail = ranked[:WINDOW_RESCORED], ranked[WINDOW_RESCORED:]
    windows = [value_window(s.text, s.value, PROXIMITY_WORDS) for s in head if s.value is not None]
    if len(windows) != len(head) or not head:
        return scored
    gains = np.maximum(encode(windows) @ query - np.array([s.dense for s in head]), 0.0)
    rescored = [
        replace(s, score=s.score + float(gain), whole=s.whole + float(gain))
        for s, gain in zip(head, gains, strict=True)
    ]
    return rescored + tail


def _proximity(text: str, value: Value, terms: dict[str, float], tokenize: object) -> float:
    words = [(m.start(), m.group()) for m in _WORD.finditer(text)]
    before = [w for pos, w in words if pos < value.start][-PROXIMITY_WORDS:]
    after = [w for pos, w in words if pos >= value.end][:PROXIMITY_WORDS]
    near = set(tokenize(" ".join(before + after)))  # type: ignore[operator]
    return sum(weight for term, weight in terms.items() if term in near)


def group_by_outlet(
    reader: IndexReader, scored: list[Scored], settings: RetrievalSettings, min_score: float
) -> list[tuple[str, list[Scored]]]:
    """Each outlet's best sentences, outlets above the thresholds only, most relevant first."""
    by_outlet: dict[str, list[Scored]] = {}
    for item in sorted(scored, key=lambda s: -s.score):
        by_outlet.setdefault(reader.articles[item.article].outlet, []).append(item)
    if not by_outlet:
        return []
    relevance = {outlet: max(s.whole for s in items) for outlet, items in by_outlet.items()}
    top = max(relevance.values())
    kept = []
    for outlet, items in by_outlet.items():
        best = items[0]
        if relevance[outlet] < min_score or relevance[outlet] < settings.relative_score * top:
            continue
        quotes = [best]
        for item in items[1:]:
            if len(quotes) >= settings.quotes_per_outlet or item.score < min_score:
                break
            if item.clause not in {q.clause for q in quotes}:
                if item.score >= best.score - OTHER_CLAUSE_MARGIN and _same_value(best, item):
                    quotes.append(item)
            elif item.score >= best.score - SECOND_QUOTE_MARGIN and _same_value(best, item):
                quotes.append(item)
        kept.append((outlet, sorted(quotes, key=lambda s: (s.article, s.start))))
    return sorted(kept, key=lambda pair: -max(s.score for s in pair[1]))


def _same_value(best: Scored, other: Scored) -> bool:
    """Whether ``other`` may join ``best``: a quote stating another value would muddle which value
    the outlet gives."""
    return best.value is None or (other.value is not None and other.value.key == best.value.key)


def outlet_answers(reader: IndexReader, groups: list[tuple[str, list[Scored]]]) -> list[OutletAnswer]:
    answers = []
    docs_of = {outlet: {reader.articles[s.article].doc_id for s in items} for outlet, items in groups}
    for outlet, items in groups:
        quotes = []
        for item in items:
            info = reader.articles[item.article]
            highlight = (item.value.start, item.value.end) if item.value is not None else None
            quotes.append(
                Quote(
                    text=item.text,
                    doc_id=info.doc_id,
                    title=info.title,
                    published=info.published,
                    url=info.url,
                    start=item.start,
                    end=item.end,
                    score=round(item.score, 4),
                    highlight=highlight,
                )
            )
        copies = {d for s in items for d in reader.articles[s.article].near_duplicates}
        same = [other for other, docs in docs_of.items() if other != outlet and docs & copies]
        known = reader.articles[items[0].article].outlet_known
        answers.append(OutletAnswer(outlet=outlet, outlet_known=known, quotes=quotes, same_story_as=same))
    return answers


def discrepancies(kind: ValueKind | None, groups: list[tuple[str, list[Scored]]]) -> list[Discrepancy]:
    """The values each outlet's best quote gives, side by side, when they are not all the same."""
    if kind is None:
        return []
    by_key: dict[tuple[object, ...], DiscrepancyValue] = {}
    for outlet, items in groups:
        best = max(items, key=lambda s: s.score)
        if best.value is None:
            continue
        entry = by_key.setdefault(
            best.value.key, DiscrepancyValue(value=best.value.printed, outlets=[], printed=[])
        )
        entry.outlets.append(outlet)
        if best.value.printed not in entry.printed:
            entry.printed.append(best.value.printed)
    if len(by_key) < 2:
        return []
    values = sorted(by_key.values(), key=lambda v: -len(v.outlets))
    return [Discrepancy(kind=kind.value, values=values)]
