"""From ranked passages to an answer: the best sentences of each outlet, verbatim, and where they disagree."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from config import RetrievalSettings
from index import IndexReader
from retrieval._evidence import PROXIMITY_WORDS, Evidence, SentenceEvidence, ValueReader
from retrieval._models import Discrepancy, DiscrepancyValue, OutletAnswer, Quote
from retrieval._values import Value, ValueKind, value_window

# A sentence's score: its cosine similarity to the question, plus these weights times the share of
# the question's terms it contains (idf-weighted), and times the share found within PROXIMITY_WORDS
# of the value it states (typed questions only).
LEXICAL_WEIGHT = 0.15
PROXIMITY_WEIGHT = 0.15
# For typed questions, this many best candidates are rescored by the clause around their value.
WINDOW_RESCORED = 24
# A second quote from the same outlet must score within this of its best one.
SECOND_QUOTE_MARGIN = 0.06
# ... unless it answers another clause of the question than the quotes before it: "did the Verge
# report X and Y?" may need one sentence for each, and those score further apart.
OTHER_CLAUSE_MARGIN = 0.15


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


def score_sentences(
    evidence: SentenceEvidence,
    queries: npt.NDArray[np.float32] | None,
    *,
    min_score: float | None = None,
    rescored: int = 0,
) -> list[Scored]:
    """Score the sentences of ``evidence`` against each of the question's texts (the whole question,
    then its clauses): its similarity to the text's vector (row of ``queries``) plus LEXICAL_WEIGHT
    times the idf-weighted share of the text's terms it holds; the best text counts.

    For a typed question only sentences stating a value of its kind are scored, and their values are
    read only where they could change the answer (:func:`_values_that_count`) when ``min_score`` is
    given: what :func:`group_by_outlet` keeps at ``min_score``, and the ``rescored`` best for
    :func:`rescore_by_value_clause`. Without it every sentence's value is read."""
    similarity = (
        evidence.vectors @ np.atleast_2d(queries).T
        if queries is not None and evidence.vectors is not None
        else np.zeros((evidence.candidates, evidence.texts), dtype=np.float32)
    )
    # Python floats and lists from here: ~270 sentences an answer, each a handful of numbers, where
    # numpy's per-call overhead (indexing a scalar, argmax of five) cost more than the arithmetic.
    similarities = similarity.tolist()
    prepared = []
    for item in evidence.items:
        row = similarities[item.row]
        rows = [cosine + LEXICAL_WEIGHT * c for cosine, c in zip(row, item.coverages, strict=True)]
        clause = rows.index(max(rows))  # the first best, as np.argmax
        # Without vectors the lexical evidence is all there is; scale it to the same range.
        lead = rows[clause] if queries is not None else item.coverages[clause]
        prepared.append((item, row, rows, clause, lead))
    values = {}
    if evidence.read_value is not None:
        leads = [
            Lead(item, lead, rows[0] if queries is not None else lead) for item, _, rows, _, lead in prepared
        ]
        values = _values_that_count(evidence.read_value, leads, min_score, rescored)
    scored = []
    for item, row, rows, clause, lead in prepared:
        value, proximity = item.value, item.proximity
        if item.proximity_bound is not None:
            if item.row not in values:
                continue
            value, proximity = values[item.row]
        score = lead + PROXIMITY_WEIGHT * proximity
        whole = rows[0] + PROXIMITY_WEIGHT * proximity if queries is not None else score
        base = row[clause] if queries is not None else 0.0
        place = (item.sentence, item.article, item.start, item.end, item.text)
        scored.append(Scored(*place, score, value, base, clause, whole))
    return scored


@dataclass(frozen=True, slots=True)
class Lead:
    """A sentence's score and its score against the whole question (:class:`Scored`) before
    PROXIMITY_WEIGHT times its value's proximity is added."""

    item: Evidence
    score: float
    whole: float


def _values_that_count(
    read_value: ValueReader, leads: list[Lead], min_score: float | None, rescored: int
) -> dict[int, tuple[Value, float]]:
    """The value each typed question's sentence states and its proximity, by the sentence's row, for
    every sentence that states one and could change the answer. The parser takes ~3 ms a sentence
    (quantulum3), and an answer had read every candidate: ~130 for "How many ...".

    A sentence's proximity is at most :attr:`Evidence.proximity_bound`, which bounds its score and
    its whole-question score. Sentences are read highest bound first. One is left unread when it
    could not rank among the ``rescored`` best read (their scores only rise when rescored) and
    either could not score ``min_score`` or falls OTHER_CLAUSE_MARGIN below its outlet's best read
    with a whole-question score no higher than one read there. :func:`group_by_outlet` would
    neither quote such a sentence nor keep an outlet or change its relevance for it, so the answer
    is the one reading every sentence gives. Values found without the parser count as read."""
    bounded = [
        (lead.score + PROXIMITY_WEIGHT * bound, lead.whole + PROXIMITY_WEIGHT * bound, lead)
        for lead in leads
        if (bound := lead.item.proximity_bound) is not None
    ]
    bounded.sort(key=lambda entry: -entry[0])
    best: list[float] = []  # the ``rescored`` best scores read so far, a heap: lowest first
    outlet_best: dict[str, tuple[float, float]] = {}  # the best score and whole-question score read

    def scored(outlet: str, score: float, whole: float) -> None:
        top, top_whole = outlet_best.get(outlet, (-math.inf, -math.inf))
        outlet_best[outlet] = (max(top, score), max(top_whole, whole))
        if len(best) < rescored:
            heapq.heappush(best, score)
        elif best and score > best[0]:
            heapq.heapreplace(best, score)

    for lead in leads:  # values found before, without the parser
        if lead.item.value is not None:
            proximity = PROXIMITY_WEIGHT * lead.item.proximity
            scored(lead.item.outlet, lead.score + proximity, lead.whole + proximity)
    found = {}
    for score_bound, whole_bound, lead in bounded:
        if min_score is not None and len(best) == rescored and (not best or best[0] > score_bound):
            if score_bound < min_score:
                break  # nor could any sentence after it
            read_there = outlet_best.get(lead.item.outlet)
            if read_there is not None:
                top, top_whole = read_there
                if score_bound < top - OTHER_CLAUSE_MARGIN and whole_bound <= top_whole:
                    continue
        read = read_value(lead.item.text)
        if read is None:
            continue
        found[lead.item.row] = read
        proximity = PROXIMITY_WEIGHT * read[1]
        scored(lead.item.outlet, lead.score + proximity, lead.whole + proximity)
    return found


def rescore_by_value_clause(
    scored: list[Scored],
    query: npt.NDArray[np.float32],
    encode: Callable[[list[str]], npt.NDArray[np.float32]],
    rescored: int = WINDOW_RESCORED,
) -> list[Scored]:
    """A long sentence may state the value in one clause and much else besides; score the
    ``rescored`` best candidates by whichever matches the question better, the sentence or the
    value's own clause."""
    ranked = sorted(scored, key=lambda s: -s.score)
    head, tail = ranked[:rescored], ranked[rescored:]
    windows = [value_window(s.text, s.value, PROXIMITY_WORDS) for s in head if s.value is not None]
    if len(windows) != len(head) or not head:
        return scored
    gains = np.maximum(encode(windows) @ query - np.array([s.dense for s in head]), 0.0)
    lifted = [
        replace(s, score=s.score + float(gain), whole=s.whole + float(gain))
        for s, gain in zip(head, gains, strict=True)
    ]
    return lifted + tail


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
