"""The array scorer returns rank-bm25's scores on the same tokens."""

from __future__ import annotations

import random

import numpy as np
from rank_bm25 import BM25Okapi

from index import Bm25Tokenizer, build_bm25


def test_scores_match_rank_bm25() -> None:
    rng = random.Random(7)
    vocabulary = [f"t{i}" for i in range(300)]
    corpus = [
        [rng.choice(vocabulary[: rng.randint(5, 300)]) for _ in range(rng.randint(1, 60))]
        for _ in range(2000)
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


def test_tokenizer_stems_and_drops_stopwords() -> None:
    assert Bm25Tokenizer()("How long did the talks LAST? They lasted") == ["long", "talk", "last", "last"]
    assert Bm25Tokenizer(stemmer=None, stopwords=False)("The talks") == ["the", "talks"]
