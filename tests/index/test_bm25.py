"""The array scorer returns rank-bm25's scores on the same tokens, with either set of loops."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from index import _bm25 as bm25_module
from index import build_bm25
from index._bm25 import Bm25Index
from index._bm25_top import _MAX_RUNS, _pruned_candidates, _runs_of

_COMPILED_ALWAYS = 0
_COMPILED_NEVER = 1 << 62


@pytest.fixture(params=["numpy", "compiled"], autouse=True)
def loops(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with numpy's loops (what a small index uses) and with numba's (a large one)."""
    threshold = _COMPILED_ALWAYS if request.param == "compiled" else _COMPILED_NEVER
    monkeypatch.setattr(bm25_module, "COMPILED_FROM_POSTINGS", threshold)
    return str(request.param)


def test_scores_match_rank_bm25() -> None:
    rng = random.Random(7)
    vocabulary = [f"t{i}" for i in range(300)]
    corpus = [
        [rng.choice(vocabulary[: rng.randint(5, 300)]) for _ in range(rng.randint(1, 60))]
        for _ in range(3000)
    ]
    ours = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    reference = BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)
    for _ in range(50):
        query = [rng.choice(vocabulary) for _ in range(rng.randint(1, 6))] + ["unseen"]
        expected = reference.get_scores(query)
        got = ours.scores(query)
        np.testing.assert_allclose(got, expected, atol=1e-6)
        assert list(np.argsort(-got, kind="stable")[:10]) == list(np.argsort(-expected, kind="stable")[:10])


def test_scores_for_a_subset_match_the_full_scores() -> None:
    rng = random.Random(11)
    vocabulary = [f"t{i}" for i in range(100)]
    corpus = [[rng.choice(vocabulary) for _ in range(rng.randint(1, 30))] for _ in range(500)]
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    for _ in range(30):
        query = [rng.choice(vocabulary) for _ in range(rng.randint(1, 5))] + ["unseen"]
        docs = np.array(sorted(rng.sample(range(500), rng.randint(0, 80))), dtype=np.int64)
        np.testing.assert_allclose(index.scores_for(query, docs), index.scores(query)[docs], atol=1e-9)


def test_scoring_several_queries_at_once_gives_each_ones_own_floats() -> None:
    rng = random.Random(13)
    vocabulary, corpus = _zipf_corpus(rng, 1500)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    for _ in range(60):
        docs = np.array(sorted(rng.sample(range(1500), rng.randint(0, 300))), dtype=np.int64)
        # A question and its clauses: overlapping terms, repeats, an unknown word, a clause of none known.
        question = [rng.choice(vocabulary[: rng.choice([20, 2000])]) for _ in range(rng.randint(1, 12))]
        clauses = [[*rng.sample(question, rng.randint(0, len(question))), "unseen"] for _ in range(3)]
        queries = [question, *clauses]
        each = index.scores_for_each(queries, docs)
        assert len(each) == len(queries)
        for query, scores in zip(queries, each, strict=True):
            assert np.array_equal(scores, index.scores_for(query, docs))  # equal floats
    assert index.scores_for_each([], np.arange(5, dtype=np.int64)) == []


def test_numpy_and_compiled_loops_give_the_same_floats(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(23)
    vocabulary, corpus = _zipf_corpus(rng, 1500)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    docs = np.array(sorted(rng.sample(range(1500), 300)), dtype=np.int64)
    for _ in range(40):
        query = [rng.choice(vocabulary[: rng.choice([20, 2000])]) for _ in range(rng.randint(1, 12))]
        results = []
        for threshold in (_COMPILED_ALWAYS, _COMPILED_NEVER):
            monkeypatch.setattr(bm25_module, "COMPILED_FROM_POSTINGS", threshold)
            results.append((index.scores(query), index.scores_for(query, docs), *index.top(query, 10)))
        for compiled, by_numpy in zip(*results, strict=True):
            assert np.array_equal(compiled, by_numpy)  # equal floats, not merely close


def test_counts_are_stored_in_the_smallest_type_and_score_the_same() -> None:
    rng = random.Random(29)
    vocabulary, corpus = _zipf_corpus(rng, 800)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    assert index.tfs.dtype == np.uint8
    # An index written before counts were narrowed holds them as float32: the same scores.
    older = replace(index, tfs=index.tfs.astype(np.float32))
    for _ in range(20):
        query = [rng.choice(vocabulary[:300]) for _ in range(rng.randint(1, 8))]
        assert np.array_equal(older.scores(query), index.scores(query))
        assert np.array_equal(older.top(query, 10)[0], index.top(query, 10)[0])
    repeated = [*corpus[:50], ["w1"] * 300 + ["w2"]]
    wide = build_bm25(repeated, k1=1.5, b=0.75, epsilon=0.25)
    assert wide.tfs.dtype == np.uint16 and int(wide.tfs.max()) == 300
    expected = BM25Okapi(repeated, k1=1.5, b=0.75, epsilon=0.25).get_scores(["w1", "w2"])
    np.testing.assert_allclose(wide.scores(["w1", "w2"]), expected, atol=1e-6)


def test_length_norms_by_code_are_the_norms_themselves() -> None:
    rng = random.Random(5)
    corpus = [["w"] * rng.randint(1, 300) for _ in range(2000)]
    index = build_bm25(corpus, k1=1.2, b=0.75, epsilon=0.25)
    codes, table = index.norms
    lengths = index.doc_lengths.astype(np.float64)
    expected = index.k1 * (1 - index.b + index.b * lengths / index.avgdl)
    assert codes.dtype == np.uint16 and table.shape[0] == len(set(lengths.tolist()))
    assert np.array_equal(table[codes], expected)  # the same floats, not merely close


def _zipf_corpus(rng: random.Random, passages: int) -> tuple[list[str], list[list[str]]]:
    """Word frequencies as skewed as in text, so that pruning has common words to skip."""
    vocabulary = [f"w{i}" for i in range(2000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    return vocabulary, [rng.choices(vocabulary, weights, k=rng.randint(5, 80)) for _ in range(passages)]


def _exhaustive_top(index: Bm25Index, query: list[str], k: int) -> list[int]:
    scores = index.scores(query)
    order = np.lexsort((np.arange(scores.shape[0]), -scores))
    return [int(i) for i in order[:k] if scores[i] > 0]


def _best_among(scores: np.ndarray, k: int, among: np.ndarray | None) -> list[int]:
    """The ``k`` best of ``among`` (None: every passage) with a positive score, from full scores."""
    among = np.arange(scores.shape[0]) if among is None else among
    return sorted((int(i) for i in among if scores[i] > 0), key=lambda i: (-scores[i], i))[:k]


def test_upper_bounds_are_each_terms_largest_contribution() -> None:
    _, corpus = _zipf_corpus(random.Random(3), 400)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    assert index.upper is not None
    for term, number in list(index.vocabulary.items())[:200]:
        contribution = index.scores([term]) / index.idf[number]
        assert index.upper[number] == pytest.approx(np.max(contribution), rel=1e-12)


def test_pruned_top_k_is_the_exhaustive_top_k() -> None:
    rng = random.Random(5)
    vocabulary, corpus = _zipf_corpus(rng, 3000)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    for _ in range(200):
        query = [rng.choice(vocabulary[: rng.choice([20, 200, 2000])]) for _ in range(rng.randint(1, 12))]
        k = rng.choice([1, 10, 100])
        ids, scores = index.top(query, k)
        assert list(ids) == _exhaustive_top(index, query, k)
        # The same float, not just a close one: every scorer adds the terms in the same order.
        np.testing.assert_array_equal(scores, index.scores(query)[ids])
        # Within a large subset (a date filter), pruning skips the passages outside it.
        half = np.flatnonzero(np.random.default_rng(len(query)).random(3000) < 0.5).astype(np.int64)
        scores_all = index.scores(query)
        expected = sorted((int(i) for i in half if scores_all[i] > 0), key=lambda i: (-scores_all[i], i))[:k]
        assert list(index.top(query, k, half)[0]) == expected


def test_top_k_among_a_subset() -> None:
    rng = random.Random(9)
    vocabulary, corpus = _zipf_corpus(rng, 1000)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    for size in (0, 5, 100, 900, 1000):
        among = np.array(sorted(rng.sample(range(1000), size)), dtype=np.int64)
        query = rng.sample(vocabulary[:300], 4)
        ids, _ = index.top(query, 10, among)
        scores = index.scores(query)
        expected = sorted((i for i in among if scores[i] > 0), key=lambda i: (-scores[i], i))[:10]
        assert list(ids) == expected


def test_top_each_is_top_for_each_request() -> None:
    rng = random.Random(17)
    vocabulary, corpus = _zipf_corpus(rng, 2000)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    for _ in range(30):
        query = [rng.choice(vocabulary[:300]) for _ in range(rng.randint(1, 10))]
        subsets = [np.array(sorted(rng.sample(range(2000), size)), dtype=np.int64) for size in (40, 900)]
        requests = [(100, None), (50, subsets[0]), (10, subsets[1]), (2500, None)]
        for count in (1, len(requests)):
            got = index.top_each(query, requests[:count])
            for (ids, scores), (k, among) in zip(got, requests[:count], strict=True):
                expected_ids, expected_scores = index.top(query, k, among)
                assert list(ids) == list(expected_ids)
                np.testing.assert_array_equal(scores, expected_scores)


def test_subsets_in_runs_of_passage_numbers_are_scored_within_them(loops: str) -> None:
    """An outlet's passages are one run of numbers (the build numbers them outlet by outlet): its
    top k comes from its own postings alone, with the same floats as scoring every passage."""
    rng = random.Random(19)
    vocabulary, corpus = _zipf_corpus(rng, 3000)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)

    def runs(*bounds: tuple[int, int]) -> np.ndarray:
        return np.concatenate([np.arange(a, b) for a, b in bounds]).astype(np.int64)

    outlet, other = runs((700, 1150)), runs((1150, 1400))
    spread = runs(*[(i * 40, i * 40 + 7) for i in range(_MAX_RUNS + 5)])  # too many runs: as before
    for _ in range(40):
        query = [rng.choice(vocabulary[: rng.choice([20, 300])]) for _ in range(rng.randint(1, 10))]
        every = index.scores(query)
        requests = [
            (100, np.union1d(outlet, other)),
            (50, outlet),
            (50, other),
            (10, runs((0, 3), (2990, 3000))),
            (5, spread),
        ]
        for k, among in requests:
            ids, scores = index.top(query, k, among)
            assert list(ids) == _best_among(every, k, among)
            np.testing.assert_array_equal(scores, every[ids])
        # All in runs, or beside a request over every passage (a search naming an outlet).
        for each in (requests[:3], [(100, None), *requests[1:3]]):
            for (ids, scores), (k, among) in zip(index.top_each(query, each), each, strict=True):
                assert list(ids) == _best_among(every, k, among)
                np.testing.assert_array_equal(scores, every[ids])
    assert (_runs_of([outlet, other], index) is not None) == (loops == "compiled")
    assert _runs_of([spread], index) is None


def test_pruning_skips_the_common_words_postings() -> None:
    rng = random.Random(13)
    _, corpus = _zipf_corpus(rng, 3000)
    index = build_bm25(corpus, k1=1.5, b=0.75, epsilon=0.25)
    assert index.upper is not None
    query = ["w1999", "w1500", "w0"]  # two rare words and the commonest
    terms, weights = index.query_terms(query)
    assert list(terms) == [index.vocabulary[t] for t in query]  # largest bound first
    candidates, scores = _pruned_candidates(index, terms, weights, 10, np.zeros(0, dtype=bool))
    assert 10 <= candidates.shape[0] < int(np.count_nonzero(index.scores(["w0"])))
    np.testing.assert_array_equal(scores, index.scores(query)[candidates])


def test_distinctive_terms_drop_the_common_ones_but_keep_the_rarest() -> None:
    corpus = [["common", "usual", f"rare{i % 5}", f"unique{i}"] for i in range(100)]
    corpus += [["usual"]] * 100
    index = build_bm25(corpus, k1=1.2, b=0.5, epsilon=0.25)
    # In 50%, 100%, 10% and 0.5% of the 200 passages; "unseen" in none.
    query = ["common", "usual", "rare1", "unique7", "unseen", "rare1", "common"]
    assert index.distinctive(query, 0.2, 0) == ["rare1", "unique7", "rare1"]
    assert index.distinctive(query, 0.2, 3) == ["common", "rare1", "unique7", "rare1", "common"]
    assert index.distinctive(query, 0.001, 1) == ["unique7"]
    assert index.distinctive(query, 1.0, 0) == ["common", "usual", "rare1", "unique7", "rare1", "common"]
    assert index.distinctive(["unseen"], 0.2, 8) == []
