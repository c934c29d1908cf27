"""BM25 (Okapi, as rank-bm25 defines it) stored as plain arrays: a term-major inverted index.

rank-bm25 computes the statistics at build time; queries are scored from the arrays, which gives
rank-bm25's scores without holding a Python dict per passage in memory.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

# An index with more postings than this is scored by the loops numba compiles (_bm25_kernels);
# a smaller one by numpy (_bm25_numpy), which never imports numba (about 0.5 s a process). At this
# size (some 2,000 passages) numpy scores a question in about a millisecond.
COMPILED_FROM_POSTINGS = 1 << 18


@dataclass(frozen=True)
class Bm25Index:
    """Postings of term ``t`` are ``docs[indptr[t]:indptr[t+1]]`` with frequencies ``tfs[...]``."""

    vocabulary: dict[str, int]
    indptr: npt.NDArray[np.int64]
    docs: npt.NDArray[np.int32]
    tfs: npt.NDArray[Any]  # the smallest unsigned type that holds them (float32 in older indexes)
    idf: npt.NDArray[np.float64]
    doc_lengths: npt.NDArray[np.float32]
    avgdl: float
    k1: float
    b: float
    # Per term, see :func:`term_upper_bounds`; None until known (computed on first pruned search).
    upper: npt.NDArray[np.float64] | None = field(default=None, compare=False)

    @property
    def size(self) -> int:
        return int(self.doc_lengths.shape[0])

    @property
    def vocabulary_size(self) -> int:
        return int(self.indptr.shape[0]) - 1

    def top(
        self, query_tokens: Sequence[str], k: int, among: npt.NDArray[np.int64] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The ``k`` best passages with a positive score and those scores, by score, then passage
        number: the same as sorting :meth:`scores`, without scoring every passage (see _bm25_top)."""
        from index._bm25_top import top_k

        return top_k(self, query_tokens, k, among)

    def top_each(
        self,
        query_tokens: Sequence[str],
        requests: Sequence[tuple[int, npt.NDArray[np.int64] | None]],
    ) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """:meth:`top` for each ``(k, among)`` in ``requests``. Several at once are picked from one
        scoring of every passage: at 1M passages, a question's top 100 and its named outlets' top 50s
        took 7 ms so, against 16 ms as pruned searches one by one. When every request is a subset in
        a few runs of passage numbers (outlets), only the passages in those runs are scored."""
        from index._bm25_top import top_k_each

        return top_k_each(self, query_tokens, requests)

    @property
    def compiled(self) -> bool:
        """Whether this index is large enough to be scored by compiled loops (and pruned)."""
        return int(self.docs.shape[0]) > COMPILED_FROM_POSTINGS

    def _loops(self) -> ModuleType:
        if self.compiled:
            from index import _bm25_kernels

            return _bm25_kernels
        from index import _bm25_numpy

        return _bm25_numpy

    @cached_property
    def norms(self) -> tuple[npt.NDArray[np.unsignedinteger[Any]], npt.NDArray[np.float64]]:
        """Per passage, rank-bm25's length normalisation ``k1 (1 - b + b len / avgdl)``, as a code
        per passage into a table of the values its distinct lengths give. The scorers look a
        passage's norm up for every posting: 2 bytes a passage stay in cache where 8 did not (1M
        passages: full scoring 3.5 -> 2.7 ms p50, the same floats)."""
        distinct, codes = np.unique(self.doc_lengths, return_inverse=True)
        table = self.k1 * (1 - self.b + self.b * distinct.astype(np.float64) / self.avgdl)
        return codes.astype(np.uint16 if table.shape[0] <= 1 << 16 else np.uint32), table

    def query_terms(
        self, query_tokens: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The query's known terms and weights (idf times repeats) in the order every scorer adds
        them: largest bound first (pruning walks them so), then term number."""
        counts = Counter(self.vocabulary[t] for t in query_tokens if t in self.vocabulary)
        terms = np.fromiter(counts, dtype=np.int64, count=len(counts))
        weights = np.array([counts[t] for t in counts], dtype=np.float64) * self.idf[terms]
        bounds = weights * self.upper[terms] if self.upper is not None else np.zeros_like(weights)
        order = np.lexsort((terms, -bounds))
        return terms[order], weights[order]

    def distinctive(self, query_tokens: Sequence[str], max_share: float, at_least: int) -> list[str]:
        """``query_tokens`` (repeats and order kept) without the terms found in more than ``max_share``
        of the passages, unless the term is among the ``at_least`` rarest of the query's known terms.
        Unknown tokens are dropped: they score nothing."""
        frequency = {
            token: int(self.indptr[term + 1] - self.indptr[term])
            for token in set(query_tokens)
            if (term := self.vocabulary.get(token)) is not None
        }
        rarest = sorted(frequency, key=lambda token: (frequency[token], token))
        kept = set(rarest[:at_least]) | {t for t in rarest if frequency[t] <= max_share * self.size}
        return [token for token in query_tokens if token in kept]

    def scores(self, query_tokens: Sequence[str]) -> npt.NDArray[np.float64]:
        """rank-bm25's ``get_scores``: every query token counts, repeats included."""
        scores = np.zeros(self.size, dtype=np.float64)
        terms, weights = self.query_terms(query_tokens)
        if terms.shape[0]:
            self._loops().add_terms(
                scores, self.indptr, self.docs, self.tfs, *self.norms, terms, weights, self.k1
            )
        return scores

    def scores_for(self, query_tokens: Sequence[str], docs: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """:meth:`scores` of ``docs`` only (ascending passage numbers), without touching the rest."""
        scores = np.zeros(docs.shape[0], dtype=np.float64)
        terms, weights = self.query_terms(query_tokens)
        if docs.shape[0] and terms.shape[0]:
            candidates = np.ascontiguousarray(docs, dtype=np.int64)
            self._loops().add_terms_for(
                scores, candidates, self.indptr, self.docs, self.tfs, *self.norms, terms, weights, self.k1
            )
        return scores

    def scores_for_each(
        self, queries: Sequence[Sequence[str]], docs: npt.NDArray[np.int64]
    ) -> list[npt.NDArray[np.float64]]:
        """:meth:`scores_for` of each query, each term looked up in ``docs`` once for all of them:
        a question's clauses share its terms, so scoring them one by one looked most terms up
        twice (1M passages, ~100 candidates, a question and its clauses: 0.8 ms)."""
        each = [self.query_terms(tokens) for tokens in queries]
        if not each:
            return []
        used = np.concatenate([terms for terms, _ in each])
        distinct, row = np.unique(used, return_inverse=True)
        table = np.zeros((distinct.shape[0], docs.shape[0]), dtype=np.float64)
        scores = np.zeros((len(each), docs.shape[0]), dtype=np.float64)
        if docs.shape[0] and distinct.shape[0]:
            loops = self._loops()
            candidates = np.ascontiguousarray(docs, dtype=np.int64)
            loops.saturations_for(
                table, candidates, self.indptr, self.docs, self.tfs, *self.norms, distinct, self.k1
            )
            query = np.repeat(np.arange(len(each), dtype=np.int64), [terms.shape[0] for terms, _ in each])
            weights = np.concatenate([weights for _, weights in each])
            loops.add_saturations(scores, table, query, row.astype(np.int64), weights)
        return list(scores)


def build_bm25(corpus: Iterable[Sequence[str]], *, k1: float, b: float, epsilon: float) -> Bm25Index:
    """rank-bm25's ``BM25Okapi`` statistics (idf with its epsilon floor), computed as arrays.

    ``corpus`` is read once, so it may be a generator: a million passages' tokens are never all in
    memory. rank-bm25 keeps a dict per passage, several GB at that size; this keeps one array of
    postings. tests/index/test_bm25.py checks the scores against rank-bm25 itself."""
    seen, terms, docs, tfs, lengths = counted_postings(corpus)
    size = lengths.shape[0]
    if not size:
        return _empty(k1, b)
    if not seen:
        # rank-bm25 divides by zero on a corpus whose passages have no tokens at all; it sees one
        # placeholder token per passage instead, and so do we.
        return build_bm25([["\x00"]] * size, k1=k1, b=b, epsilon=epsilon)
    by_name = sorted(range(len(seen)), key=seen.__getitem__)
    names = [seen[i] for i in by_name]
    rank = np.empty(len(names), dtype=np.int64)
    rank[by_name] = np.arange(len(names))
    term = rank[terms]
    order = np.argsort(term, kind="stable")  # by term, then passage (passages were appended in order)
    return bm25_of_postings(
        names,
        np.bincount(term, minlength=len(names)),
        docs[order],
        tfs[order],
        lengths,
        k1=k1,
        b=b,
        epsilon=epsilon,
    )


def counted_postings(
    corpus: Iterable[Sequence[str]],
) -> tuple[
    list[str], npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.uint32], npt.NDArray[np.float32]
]:
    """The distinct tokens of ``corpus`` in the order first seen, and its postings in passage order:
    each one's term (a number into those tokens), passage and count; then each passage's length."""
    first_seen: dict[str, int] = {}
    terms, docs, tfs, lengths = array("i"), array("i"), array("I"), array("f")
    for doc, tokens in enumerate(corpus):
        lengths.append(len(tokens))
        for token, tf in Counter(tokens).items():
            terms.append(first_seen.setdefault(token, len(first_seen)))
            docs.append(doc)
            tfs.append(tf)
    return (
        list(first_seen),
        np.frombuffer(terms, dtype=np.int32),
        np.frombuffer(docs, dtype=np.int32),
        np.frombuffer(tfs, dtype=np.uint32),
        np.frombuffer(lengths, dtype=np.float32),
    )


def bm25_of_postings(
    names: list[str],
    df: npt.NDArray[np.int64],
    docs: npt.NDArray[np.int32],
    tfs: npt.NDArray[Any],
    doc_lengths: npt.NDArray[np.float32],
    *,
    k1: float,
    b: float,
    epsilon: float,
) -> Bm25Index:
    """The index of postings ``(docs, tfs)`` sorted by term, then passage; term ``i`` is
    ``names[i]`` (sorted) and holds ``df[i]`` of them."""
    size = int(doc_lengths.shape[0])
    idf = np.log(size - df + 0.5) - np.log(df + 0.5)
    idf[idf < 0] = epsilon * float(idf.mean())
    index = Bm25Index(
        vocabulary={name: i for i, name in enumerate(names)},
        indptr=np.concatenate([[0], np.cumsum(df)]).astype(np.int64),
        docs=docs,
        tfs=_smallest_unsigned(tfs),
        idf=idf,
        doc_lengths=doc_lengths,
        avgdl=float(doc_lengths.astype(np.float64).sum() / size),
        k1=k1,
        b=b,
    )
    return replace(index, upper=term_upper_bounds(index))


def _smallest_unsigned(values: npt.NDArray[np.uint32]) -> npt.NDArray[Any]:
    """``values`` in the smallest unsigned type that holds them. Occurrence counts in a passage of
    a few hundred words fit a byte: at 1M passages the postings' counts take 81 MB, not 323 MB,
    and a loaded index touches a quarter of the pages to score them."""
    largest = int(values.max()) if values.shape[0] else 0
    for kind in (np.uint8, np.uint16):
        if largest <= np.iinfo(kind).max:
            return values.astype(kind)
    return values


def term_upper_bounds(index: Bm25Index) -> npt.NDArray[np.float64]:
    """Per term, the most one occurrence of it adds to any passage's score, before its idf:
    the maximum of ``tf (k1 + 1) / (tf + norm)`` over its postings. Pruned top-k search needs them."""
    upper = np.zeros(index.vocabulary_size, dtype=np.float64)
    norm = index.k1 * (1 - index.b + index.b * index.doc_lengths.astype(np.float64) / index.avgdl)
    # A block of terms at a time keeps memory flat on a large index.
    block = 1 << 22
    term = 0
    while term < index.vocabulary_size:
        lo = int(index.indptr[term])
        last = int(np.searchsorted(index.indptr, lo + block, side="right")) - 1
        last = max(last, term + 1)
        hi = int(index.indptr[last])
        tf = index.tfs[lo:hi].astype(np.float64)
        gain = tf * (index.k1 + 1) / (tf + norm[index.docs[lo:hi]])
        starts = index.indptr[term:last] - lo
        nonempty = starts < (index.indptr[term + 1 : last + 1] - lo)
        if hi > lo:
            upper[term:last][nonempty] = np.maximum.reduceat(gain, starts[nonempty])
        term = last
    return upper


def _empty(k1: float, b: float) -> Bm25Index:
    return Bm25Index(
        vocabulary={},
        indptr=np.zeros(1, dtype=np.int64),
        docs=np.zeros(0, dtype=np.int32),
        tfs=np.zeros(0, dtype=np.uint8),
        idf=np.zeros(0, dtype=np.float64),
        doc_lengths=np.zeros(0, dtype=np.float32),
        avgdl=1.0,
        k1=k1,
        b=b,
    )
