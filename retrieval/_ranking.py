"""Ranking passages for a question: candidates from BM25 and the vector index, ordered by fused signals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from config import Mode, RetrievalSettings
from index import IndexReader
from retrieval._clauses import question_parts
from retrieval._fusion import Signals, Weights, best_per_clause, fuse, normalised
from retrieval._threads import in_background

Encode = Callable[[list[str]], npt.NDArray[np.float32]]

# Candidates BM25 proposes from each outlet a question names, beside its overall best: an outlet
# the question asks about should be in the running even when others match its words better.
NAMED_OUTLET_CANDIDATES = 50
# However common its words, a hybrid search's BM25 proposals come from at least its this many
# rarest terms (see ``RetrievalSettings.proposal_term_share``).
PROPOSAL_MIN_TERMS = 8


@dataclass(frozen=True)
class Query:
    """A question as ranking sees it: its text, its clauses, their vectors, the days it names."""

    text: str  # what BM25 searches
    searched: str  # what is embedded: the question, with an earlier one's topic for a follow-up
    clauses: list[str]
    vector: npt.NDArray[np.float32] | None
    clause_vectors: npt.NDArray[np.float32] | None  # one row per text in :attr:`texts`
    days: list[dt.date]
    outlets: list[str]
    # The question embedded whole (:func:`whole_question_vector`), when an answer must be judged.
    whole_vector: npt.NDArray[np.float32] | None = None

    @property
    def texts(self) -> list[str]:
        """The question, then its clauses: whole-question matches count as well as clause matches,
        since a short fragment such as a name ("Ciragan Palace") is no clause of its own."""
        return [self.searched, *(c for c in self.clauses if c != self.searched)]


@dataclass(frozen=True)
class CandidateRows:
    """What scoring some candidate passages needs that the question's vectors do not: their BM25
    scores (raw, not yet normalised over all candidates) and their passage and sentence vectors."""

    passages: npt.NDArray[np.int64]  # ascending
    bm25: npt.NDArray[np.float64]
    clause_bm25: list[npt.NDArray[np.float64]]  # one array per clause
    passage_vectors: npt.NDArray[np.float32]
    sentence_vectors: npt.NDArray[np.float32]
    sentence_starts: npt.NDArray[np.int64]  # where each passage's rows begin in ``sentence_vectors``


@dataclass(frozen=True)
class Proposals:
    """BM25's proposals (:func:`lexical_candidates`) under way in a worker, and their
    :class:`CandidateRows` when the worker reads them ahead (:func:`read_ahead`)."""

    ids: Future[list[npt.NDArray[np.int64]]]
    rows: Future[CandidateRows] | None = None


def embedded(query: Query, encode: Encode) -> Query:
    """``query`` with its vectors: one per clause, and the question's own (see :func:`with_vectors`)."""
    return with_vectors(query, encode(parts_to_embed(query)))


def parts_to_embed(query: Query) -> list[str]:
    """What is embedded for ``query``: the question, or when it has several clauses its parts (its
    clauses first, then the fragments too short to be clauses, such as a name)."""
    texts = query.texts
    if len(texts) == 1:
        return texts
    clauses = texts[1:]
    return clauses + [part for part in question_parts(query.searched) if part not in clauses]


def with_vectors(query: Query, vectors: npt.NDArray[np.float32]) -> Query:
    """``query`` with its vectors, from the vectors of :func:`parts_to_embed`'s texts: one per
    clause, and the question's own. A question of several clauses is embedded as a whole by the mean
    of its parts' vectors weighted by their words. The parts hold its words, and the mean ranks as
    well as embedding the whole again (MultiHop-RAG dev, hybrid, onnx-int8: Hits@10 0.9595 ->
    0.9586, MAP@10 0.3947 -> 0.3950, MRR@10 0.7171 -> 0.7158) for half the tokens (MultiHop-RAG
    questions: 121 -> 64 a question); embedding is the longest step of a search. The mean judges
    worse whether a sentence answers the question at all: see :func:`whole_question_vector`."""
    if len(query.texts) == 1:
        return replace(query, vector=vectors[0], clause_vectors=vectors)
    parts = parts_to_embed(query)
    clauses = len(query.texts) - 1
    words = np.array([len(part.split()) for part in parts], dtype=np.float32)
    mean = words @ vectors
    mean /= np.linalg.norm(mean) or 1.0
    stacked = np.vstack([mean, vectors[:clauses]]).astype(np.float32)
    return replace(query, vector=stacked[0], clause_vectors=stacked)


def whole_question_vector(query: Query, encode: Encode) -> npt.NDArray[np.float32] | None:
    """The question embedded whole, for :func:`with_whole_question`; None when :func:`embedded`
    embeds it whole already (a question that is its only clause). Its own call: batched with the
    parts, PyTorch pads them all to its length."""
    if len(query.texts) == 1:
        return None
    vector: npt.NDArray[np.float32] = encode([query.searched])[0]
    return vector


def with_whole_question(query: Query) -> Query:
    """``query`` with the question embedded whole in place of its clauses' mean (see
    :func:`embedded`). An answer declines when no sentence is close enough to the question;
    measured against the mean, unanswerable questions found such sentences more often (MultiHop-RAG
    dev: null questions declined 0.64 -> 0.44 at the same threshold; a raised threshold then
    wrongly declined twice as many answerable ones)."""
    if query.whole_vector is None or query.clause_vectors is None:
        return query
    vectors = query.clause_vectors.copy()
    vectors[0] = query.whole_vector
    return replace(query, vector=vectors[0], clause_vectors=vectors)


def lexical_candidates(
    reader: IndexReader,
    query: Query,
    allowed: npt.NDArray[np.int64] | None,
    depth: int,
    term_share: float = 1.0,
) -> list[npt.NDArray[np.int64]]:
    """BM25's proposals: the question's best ``depth`` passages among ``allowed``, and each named
    outlet's best :data:`NAMED_OUTLET_CANDIDATES`, by the question's terms found in at most
    ``term_share`` of the passages (see :meth:`~index.Bm25Index.distinctive`)."""
    requests: list[tuple[int, npt.NDArray[np.int64] | None]] = [(depth, allowed)]
    inside = None
    if allowed is not None and query.outlets:
        # A mask, not np.intersect1d: that sorts both arrays, 18 ms an answer at 1M passages when
        # the named outlets hold a quarter of them.
        inside = np.zeros(len(reader.passage_article), dtype=bool)
        inside[allowed] = True
    for outlet in query.outlets:
        mine = reader.outlet_passages(outlet)  # ascending, so the subset is too
        subset = mine if inside is None else mine[inside[mine]]
        if allowed is not None and subset.shape[0] == allowed.shape[0] and depth >= NAMED_OUTLET_CANDIDATES:
            # The allowed passages are this outlet's (an answer limited to the one outlet it
            # names), so its best are the first of the overall best. Asked for anyway, they made
            # two requests, which are scored whole where one is pruned (1M passages, an answer's
            # proposals: 13.2 -> 5.8 ms p50 for such questions, the same passages).
            continue
        requests.append((NAMED_OUTLET_CANDIDATES, subset))
    tokens = reader.bm25_tokenizer(query.text)
    if term_share < 1:
        tokens = reader.bm25.distinctive(tokens, term_share, PROPOSAL_MIN_TERMS)
    return [ids for ids, _ in reader.bm25.top_each(tokens, requests)]


def read_ahead(reader: IndexReader, query: Query, ids: Future[list[npt.NDArray[np.int64]]]) -> CandidateRows:
    """The :class:`CandidateRows` of the passages ``ids`` proposes. Run in the worker after BM25,
    this reads most candidates' rows while the calling thread is still embedding the question or
    searching the vectors, instead of after the vector search."""
    return _candidate_rows(reader, query, _proposed_passages(ids.result()))


def _proposed_passages(ids: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
    return np.unique(np.concatenate(ids)) if ids else np.zeros(0, dtype=np.int64)


def _candidate_rows(reader: IndexReader, query: Query, passages: npt.NDArray[np.int64]) -> CandidateRows:
    return CandidateRows(passages, *_lexical_rows(reader, query, passages), *_sentence_rows(reader, passages))


def _lexical_rows(
    reader: IndexReader, query: Query, passages: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.float64]], npt.NDArray[np.float32]]:
    return *_word_scores(reader, query, passages), reader.passage_rows(passages)


def _word_scores(
    reader: IndexReader, query: Query, passages: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.float64]]]:
    """BM25 scores of ``passages`` for the question and for each of its clauses, not normalised."""
    tokenize = reader.bm25_tokenizer
    question, *clauses = reader.bm25.scores_for_each(
        [tokenize(query.text), *map(tokenize, query.clauses)], passages
    )
    return question, clauses


def _sentence_rows(
    reader: IndexReader, passages: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The sentence vectors of ``passages``, passage after passage, and where each passage's rows begin."""
    first, stop = reader.passage_sentence_bounds(passages)
    counts = stop - first
    starts = np.cumsum(counts) - counts
    rows = np.arange(int(counts.sum())) + np.repeat(first - starts, counts)
    return reader.sentence_rows(rows), starts


def _best_sentence(
    vectors: npt.NDArray[np.float32], starts: npt.NDArray[np.int64], clauses: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Each passage's best cosine similarity between one of its sentences and one clause."""
    if not starts.shape[0]:
        return np.zeros(0, dtype=np.float64)
    similarity = vectors @ clauses.T
    return np.maximum.reduceat(similarity.max(axis=1), starts).astype(np.float64)


def rank(
    reader: IndexReader,
    query: Query,
    mode: Mode,
    allowed: npt.NDArray[np.int64] | None,
    settings: RetrievalSettings,
    lexical: Proposals | None = None,
) -> list[tuple[int, float]]:
    """Candidates from BM25 and the vector index, ordered by the fused signals, best first.
    ``lexical``: BM25's proposals under way in another thread, if the caller started them."""
    depth = settings.candidates
    proposed: list[npt.NDArray[np.int64]] = []
    if mode is not Mode.BM25 and query.vector is not None:  # first: BM25 may still be running
        proposed.append(
            reader.dense_search(query.vector, depth, allowed, ef_search=settings.hnsw_ef_search)[0]
        )
    if mode is not Mode.DENSE:
        proposed += (
            lexical_candidates(reader, query, allowed, depth) if lexical is None else lexical.ids.result()
        )
    candidates = _proposed_passages(proposed)
    if not candidates.size:
        return []
    bm25 = clause_bm25 = dense = clause_dense = None
    if mode is Mode.HYBRID:
        bm25, clause_bm25, dense, clause_dense = _hybrid_signals(reader, query, candidates, lexical)
    elif mode is Mode.DENSE:
        dense, clause_dense = _dense(reader, query, candidates), _clause_dense(reader, query, candidates)
    else:
        bm25, clause_bm25 = _lexical_signals(reader, query, candidates)
    signals = Signals(
        bm25=bm25,
        clause_bm25=clause_bm25,
        dense=dense,
        clause_dense=clause_dense,
        named_day=_named_day(reader, query.days, candidates),
    )
    r = settings
    weights = Weights(
        r.bm25_weight, r.clause_bm25_weight, r.dense_weight, r.clause_dense_weight, r.named_day_weight
    )
    fused = fuse(signals, weights)
    order = np.lexsort((candidates, -fused))
    return [(int(candidates[i]), float(fused[i])) for i in order]


def _hybrid_signals(
    reader: IndexReader, query: Query, candidates: npt.NDArray[np.int64], lexical: Proposals | None
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    """BM25, clause BM25, passage and clause cosine signals of ``candidates``: from the rows read
    ahead for BM25's proposals, and the rest (the vector search's own) read now. When the worker
    is free, it scores their words and reads their passage vectors while this thread reads their
    sentences' (the two halves take about as long); while it is still reading ahead, this thread
    reads them all rather than wait (1M passages: the worker reads ahead until ~12 ms into a
    search, 17 for the slowest tenth, and this thread is waiting from ~11.7, 15.4)."""
    assert query.vector is not None and query.clause_vectors is not None
    ahead = lexical.rows if lexical is not None else None
    fresh = candidates
    if lexical is not None and ahead is not None:
        fresh = np.setdiff1d(candidates, _proposed_passages(lexical.ids.result()), assume_unique=True)
    if ahead is None or ahead.done():
        words = in_background(_lexical_rows, reader, query, fresh)
        sentences = _sentence_rows(reader, fresh)
        rows = CandidateRows(fresh, *words.result(), *sentences)
    else:
        rows = _candidate_rows(reader, query, fresh)
    parts = [rows] + ([ahead.result()] if ahead is not None else [])
    order = np.argsort(np.concatenate([p.passages for p in parts]), kind="stable")  # as ``candidates``

    def joined(arrays: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
        return np.concatenate(arrays)[order]

    clause_bm25 = [joined([p.clause_bm25[i] for p in parts]) for i in range(len(query.clauses))]
    return (
        normalised(joined([p.bm25 for p in parts])),
        best_per_clause(clause_bm25),
        joined([(p.passage_vectors @ query.vector).astype(np.float64) for p in parts]),
        joined([_best_sentence(p.sentence_vectors, p.sentence_starts, query.clause_vectors) for p in parts]),
    )


def _lexical_signals(
    reader: IndexReader, query: Query, candidates: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The candidates' BM25 scores for the question (normalised) and their best clause's."""
    scores, clauses = _word_scores(reader, query, candidates)
    return normalised(scores), best_per_clause(clauses)


def _dense(reader: IndexReader, query: Query, candidates: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    assert query.vector is not None
    vectors = reader.passage_rows(candidates)
    return (vectors @ query.vector).astype(np.float64)


def _clause_dense(
    reader: IndexReader, query: Query, candidates: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Each candidate's best cosine similarity between one of its sentences and one clause."""
    assert query.clause_vectors is not None
    return _best_sentence(*_sentence_rows(reader, candidates), query.clause_vectors)


def _named_day(
    reader: IndexReader, days: list[dt.date], candidates: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64] | None:
    """1 for candidates from an article published on a day the question names, else 0."""
    if not days:
        return None
    published = [reader.articles[int(a)].published for a in reader.passage_article[candidates]]
    return np.array([float(d in days) for d in published])
