"""How a question is embedded for ranking and for judging an answer, and which passages BM25 is asked for."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pytest

from config import Mode
from index import IndexReader
from retrieval import Retriever, _ranking, _retriever
from retrieval._clauses import question_clauses
from retrieval._ranking import (
    NAMED_OUTLET_CANDIDATES,
    Query,
    embedded,
    lexical_candidates,
    whole_question_vector,
    with_whole_question,
)

_DIMENSION = 8
T = TypeVar("T")


class _Encoder:
    """A deterministic stand-in for the model that records what it was asked to embed."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> npt.NDArray[np.float32]:
        self.calls.append(list(texts))
        rows = [np.random.default_rng(sum(map(ord, text))).normal(size=_DIMENSION) for text in texts]
        vectors = np.array(rows, dtype=np.float32)
        unit: npt.NDArray[np.float32] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return unit


def _query(question: str) -> Query:
    return Query(question, question, question_clauses(question), None, None, [], [])


def test_a_question_that_is_its_only_clause_is_embedded_whole() -> None:
    encode = _Encoder()
    query = embedded(_query("How long did the talks last"), encode)
    assert encode.calls == [["How long did the talks last"]]
    assert query.vector is not None and query.clause_vectors is not None
    assert np.array_equal(query.vector, encode(["How long did the talks last"])[0])
    assert query.clause_vectors.shape == (1, _DIMENSION)


def test_a_question_of_clauses_is_their_word_weighted_mean() -> None:
    encode = _Encoder()
    question = "Did Reuters say the talks lasted an hour, while the BBC said ninety minutes?"
    clauses = ["Did Reuters say the talks lasted an hour", "the BBC said ninety minutes"]
    query = embedded(_query(question), encode)
    assert encode.calls == [clauses]  # the whole question is not embedded again
    assert query.vector is not None and query.clause_vectors is not None
    first, second = encode(clauses)
    mean = 8 * first + 5 * second  # words per clause
    np.testing.assert_allclose(query.vector, mean / np.linalg.norm(mean), rtol=1e-6)
    assert np.array_equal(query.clause_vectors[0], query.vector)
    assert np.array_equal(query.clause_vectors[1:], encode(clauses))


def test_fragments_too_short_for_clauses_count_in_the_mean() -> None:
    encode = _Encoder()
    query = embedded(_query("Where were the talks held? Ciragan Palace"), encode)
    assert encode.calls == [["Where were the talks held", "Ciragan Palace"]]
    assert query.vector is not None and query.clause_vectors is not None
    clause, name = encode(["Where were the talks held", "Ciragan Palace"])
    mean = 5 * clause + 2 * name
    np.testing.assert_allclose(query.vector, mean / np.linalg.norm(mean), rtol=1e-6)
    assert query.clause_vectors.shape == (2, _DIMENSION)  # the name is no clause of its own
    assert np.array_equal(query.clause_vectors[1], clause)


def test_judging_an_answer_uses_the_question_embedded_whole() -> None:
    encode = _Encoder()
    question = "Did Reuters say the talks lasted an hour, while the BBC said ninety minutes?"
    clauses = ["Did Reuters say the talks lasted an hour", "the BBC said ninety minutes"]
    ranked = embedded(_query(question), encode)
    whole = whole_question_vector(_query(question), encode)
    assert encode.calls == [clauses, [question]]
    assert whole is not None
    judged = with_whole_question(replace(ranked, whole_vector=whole))
    assert len(encode.calls) == 2  # judging embeds nothing more
    assert judged.vector is not None and judged.clause_vectors is not None
    assert ranked.clause_vectors is not None
    assert np.array_equal(judged.vector, encode([question])[0])
    assert np.array_equal(judged.clause_vectors[0], judged.vector)
    assert np.array_equal(judged.clause_vectors[1:], ranked.clause_vectors[1:])
    assert not np.array_equal(ranked.clause_vectors[0], judged.vector)  # the ranked query is untouched


def test_a_whole_question_is_not_embedded_twice() -> None:
    encode = _Encoder()
    query = _query("When were the talks")
    assert whole_question_vector(query, encode) is None
    ranked = embedded(query, encode)
    assert encode.calls == [["When were the talks"]]
    assert with_whole_question(ranked) is ranked


def test_searching_does_not_embed_the_whole_question() -> None:
    question = "Did Reuters say the talks lasted an hour, while the BBC said ninety minutes?"
    ranked = embedded(_query(question), _Encoder())
    assert ranked.whole_vector is None
    assert with_whole_question(ranked) is ranked


def test_a_named_outlets_candidates_stay_within_the_allowed_passages(bm25_index: Path) -> None:
    reader = IndexReader.open(bm25_index)
    outlets = sorted({article.outlet for article in reader.articles})[:2]
    mine = reader.outlet_passages(outlets[0])
    allowed = np.concatenate([mine[::2], reader.outlet_passages(outlets[1])])
    allowed.sort()
    query = Query("talks in Istanbul", "talks in Istanbul", [], None, None, [], outlets)
    requested: list[npt.NDArray[np.int64] | None] = []

    def top_each(tokens: list[str], requests: list[tuple[int, npt.NDArray[np.int64] | None]]) -> list:
        requested.extend(subset for _k, subset in requests)
        return [(np.zeros(0, dtype=np.int64), None) for _ in requests]

    reader.bm25 = SimpleNamespace(top_each=top_each)  # type: ignore[assignment]
    lexical_candidates(reader, query, allowed, 10)
    assert requested[0] is allowed
    assert np.array_equal(requested[1], np.intersect1d(mine, allowed))
    assert np.array_equal(requested[2], reader.outlet_passages(outlets[1]))


@pytest.mark.parametrize(
    ("depth", "requests"), [(NAMED_OUTLET_CANDIDATES, 1), (NAMED_OUTLET_CANDIDATES - 1, 2)]
)
def test_an_answer_limited_to_the_one_outlet_it_names_asks_bm25_once(
    bm25_index: Path, depth: int, requests: int
) -> None:
    reader = IndexReader.open(bm25_index)
    bm25 = reader.bm25
    outlet = sorted({article.outlet for article in reader.articles})[0]
    allowed = reader.outlet_passages(outlet)
    query = Query("talks in Istanbul", "talks in Istanbul", [], None, None, [], [outlet])
    asked: list[int] = []

    def top_each(tokens: list[str], wanted: list[tuple[int, npt.NDArray[np.int64] | None]]) -> list:
        asked.append(len(wanted))
        return bm25.top_each(tokens, wanted)

    reader.bm25 = SimpleNamespace(top_each=top_each)  # type: ignore[assignment]
    proposed = lexical_candidates(reader, query, allowed, depth)
    # The outlet's own best are the overall best's first ones, unless it may propose more of them.
    assert asked == [requests]
    tokens = reader.bm25_tokenizer(query.text)
    both = bm25.top_each(tokens, [(depth, allowed), (NAMED_OUTLET_CANDIDATES, allowed)])
    assert np.array_equal(
        np.unique(np.concatenate(proposed)), np.unique(np.concatenate([i for i, _ in both]))
    )


def test_bm25_proposes_from_the_distinctive_terms_when_asked(
    bm25_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = IndexReader.open(bm25_index)
    bm25 = reader.bm25
    question = "How long did the talks in Istanbul last, according to the delegations?"
    tokens = reader.bm25_tokenizer(question)
    asked: list[list[str]] = []

    def top_each(tokens: list[str], requests: list[tuple[int, npt.NDArray[np.int64] | None]]) -> list:
        asked.append(list(tokens))
        return bm25.top_each(tokens, requests)

    reader.bm25 = SimpleNamespace(top_each=top_each, distinctive=bm25.distinctive)  # type: ignore[assignment]
    # The bundled corpus is too small for any term to be rare by share: the rarest 2 stay.
    monkeypatch.setattr(_ranking, "PROPOSAL_MIN_TERMS", 2)
    query = _query(question)
    every = lexical_candidates(reader, query, None, 10)
    narrow = lexical_candidates(reader, query, None, 10, 0.01)
    assert asked[0] == tokens
    assert asked[1] == bm25.distinctive(tokens, 0.01, 2)
    assert len(set(asked[1])) == 2 < len(set(tokens))
    assert np.array_equal(every[0], bm25.top_each(tokens, [(10, None)])[0][0])
    assert np.array_equal(narrow[0], bm25.top_each(asked[1], [(10, None)])[0][0])


def test_a_search_and_an_answer_narrow_bm25s_proposals_each_by_its_own_share(
    retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    shares: list[float] = []

    def recorded(*args: Any) -> Any:
        shares.append(args[-1])
        return _ranking.lexical_candidates(*args)

    monkeypatch.setattr(_retriever, "lexical_candidates", recorded)
    retriever.search("How long did the talks in Istanbul last?", mode="hybrid")
    retriever.ask("How long did the talks in Istanbul last?", mode="hybrid")
    r = retriever.settings.retrieval
    assert shares == [r.proposal_term_share, r.answer_proposal_term_share]
    assert shares[0] < shares[1] < 1


class _StillRunning(Future[T]):
    """A future that says it is not done yet, whose result is there when waited for."""

    asked_done = False

    def done(self) -> bool:
        self.asked_done = True
        return False


@pytest.mark.parametrize("share", [1.0, 0.01])
def test_read_ahead_proposals_rank_as_when_all_is_read_after(retriever: Retriever, share: float) -> None:
    reader = retriever.reader
    assert retriever.embedder is not None
    settings = retriever.settings.retrieval
    question = "How long did the talks in Istanbul last, and who led the Russian delegation?"
    query = embedded(_query(question), retriever.embedder.encode)
    ids: Future[list[npt.NDArray[np.int64]]] = Future()
    ids.set_result(lexical_candidates(reader, query, None, 3, share))
    rows = _ranking.read_ahead(reader, query, ids)
    assert rows.passages.tolist() == sorted(set(np.concatenate(ids.result()).tolist()))
    assert 0 < len(rows.passages) < len(reader.passage_article)  # some are left to read after
    tight = settings.model_copy(update={"candidates": 3})
    read: Future[_ranking.CandidateRows] = Future()
    read.set_result(rows)
    ahead = _ranking.rank(reader, query, Mode.HYBRID, None, tight, _ranking.Proposals(ids, read))
    after = _ranking.rank(reader, query, Mode.HYBRID, None, tight, _ranking.Proposals(ids))
    assert len(ahead) > len(rows.passages)  # the vector search's own were read after
    # The worker still reading ahead when they are needed: this thread reads them all itself.
    reading = _StillRunning[_ranking.CandidateRows]()
    reading.set_result(rows)
    meanwhile = _ranking.rank(reader, query, Mode.HYBRID, None, tight, _ranking.Proposals(ids, reading))
    assert reading.asked_done
    assert meanwhile == ahead
    assert [pid for pid, _ in ahead] == [pid for pid, _ in after]
    assert np.allclose([s for _, s in ahead], [s for _, s in after], rtol=0, atol=1e-6)
