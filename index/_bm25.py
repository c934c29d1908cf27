"""BM25 (Okapi, as rank-bm25 defines it) stored as plain arrays: a term-major inverted index.

rank-bm25 computes the statistics at build time; queries are scored from the arrays, which gives
rank-bm25's scores without holding a Python dict per passage in memory.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\w+")
# English function words; kept short so that words which carry meaning in news ("after", "over",
# "against") still count.
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "ours",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
    ]
)


@dataclass(frozen=True)
class Bm25Tokenizer:
    """Lower-cased word tokens, optionally without stop words and Snowball-stemmed."""

    stemmer: str | None = "english"
    stopwords: bool = True

    @classmethod
    def from_settings(cls, data: dict[str, Any]) -> Bm25Tokenizer:
        stemmer = data.get("stemmer")
        return cls(
            stemmer=None if stemmer in (None, "none") else str(stemmer), stopwords=bool(data["stopwords"])
        )

    def settings(self) -> dict[str, Any]:
        return {
            "lowercase": True,
            "pattern": _WORD.pattern,
            "stemmer": self.stemmer,
            "stopwords": self.stopwords,
        }

    @cached_property
    def _stem(self) -> Any:
        if self.stemmer is None:
            return None
        import Stemmer

        return Stemmer.Stemmer(self.stemmer)

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if not (self.stopwords and w in ENGLISH_STOPWORDS)]
        stem = self._stem
        return list(stem.stemWords(words)) if stem is not None else words


@dataclass(frozen=True)
class Bm25Index:
    """Postings of term ``t`` are ``docs[indptr[t]:indptr[t+1]]`` with frequencies ``tfs[...]``."""

    vocabulary: dict[str, int]
    indptr: npt.NDArray[np.int64]
    docs: npt.NDArray[np.int32]
    tfs: npt.NDArray[np.float32]
    idf: npt.NDArray[np.float64]
    doc_lengths: npt.NDArray[np.float32]
    avgdl: float
    k1: float
    b: float

    @property
    def size(self) -> int:
        return int(self.doc_lengths.shape[0])

    def scores(self, query_tokens: Sequence[str]) -> npt.NDArray[np.float64]:
        """rank-bm25's ``get_scores``: every query token counts, repeats included."""
        scores = np.zeros(self.size, dtype=np.float64)
        norm: npt.NDArray[np.float64] | None = None
        for token, repeats in Counter(query_tokens).items():
            term = self.vocabulary.get(token)
            if term is None:
                continue
            if norm is None:
                norm = self.k1 * (1 - self.b + self.b * self.doc_lengths.astype(np.float64) / self.avgdl)
            lo, hi = int(self.indptr[term]), int(self.indptr[term + 1])
            docs = self.docs[lo:hi]
            tf = self.tfs[lo:hi].astype(np.float64)
            scores[docs] += repeats * self.idf[term] * (tf * (self.k1 + 1) / (tf + norm[docs]))
        return scores

    def scores_for(self, query_tokens: Sequence[str], docs: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """:meth:`scores` of ``docs`` only (ascending passage numbers), without touching the rest:
        each term's postings are sorted by passage, so a binary search finds the candidates in them."""
        scores = np.zeros(docs.shape[0], dtype=np.float64)
        if not docs.shape[0]:
            return scores
        norm = self.k1 * (1 - self.b + self.b * self.doc_lengths[docs].astype(np.float64) / self.avgdl)
        for token, repeats in Counter(query_tokens).items():
            term = self.vocabulary.get(token)
            if term is None:
                continue
            lo, hi = int(self.indptr[term]), int(self.indptr[term + 1])
            if hi == lo:
                continue
            postings = self.docs[lo:hi]
            at = np.minimum(np.searchsorted(postings, docs), hi - lo - 1)
            present = postings[at] == docs
            tf = np.where(present, self.tfs[lo:hi][at], 0.0).astype(np.float64)
            scores += repeats * self.idf[term] * (tf * (self.k1 + 1) / (tf + norm))
        return scores


def build_bm25(corpus: Sequence[Sequence[str]], *, k1: float, b: float, epsilon: float) -> Bm25Index:
    """Statistics from rank-bm25's ``BM25Okapi`` (idf with its epsilon floor), stored as arrays."""
    from rank_bm25 import BM25Okapi

    # rank-bm25 divides by zero on an empty corpus or one whose passages have no tokens at all.
    safe = [list(doc) for doc in corpus] if any(corpus) else [["\x00"] for _ in corpus]
    if not safe:
        return _empty(k1, b)
    reference = BM25Okapi(safe, k1=k1, b=b, epsilon=epsilon)
    vocabulary = {term: i for i, term in enumerate(sorted(reference.idf))}
    postings: list[list[tuple[int, int]]] = [[] for _ in vocabulary]
    for doc, freqs in enumerate(reference.doc_freqs):
        for term, tf in freqs.items():
            postings[vocabulary[term]].append((doc, tf))
    lengths = np.fromiter((len(p) for p in postings), dtype=np.int64, count=len(postings))
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    docs = np.fromiter((d for p in postings for d, _ in p), dtype=np.int32, count=int(indptr[-1]))
    tfs = np.fromiter((t for p in postings for _, t in p), dtype=np.float32, count=int(indptr[-1]))
    idf = np.array([reference.idf[t] for t in vocabulary], dtype=np.float64)
    return Bm25Index(
        vocabulary=vocabulary,
        indptr=indptr,
        docs=docs,
        tfs=tfs,
        idf=idf,
        doc_lengths=np.asarray(reference.doc_len, dtype=np.float32),
        avgdl=float(reference.avgdl),
        k1=k1,
        b=b,
    )


def _empty(k1: float, b: float) -> Bm25Index:
    return Bm25Index(
        vocabulary={},
        indptr=np.zeros(1, dtype=np.int64),
        docs=np.zeros(0, dtype=np.int32),
        tfs=np.zeros(0, dtype=np.float32),
        idf=np.zeros(0, dtype=np.float64),
        doc_lengths=np.zeros(0, dtype=np.float32),
        avgdl=1.0,
        k1=k1,
        b=b,
    )
