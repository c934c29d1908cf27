"""An update's BM25 index made from the previous version's postings and the new passages' tokens.

Tokenizing every passage again was a quarter of a 1M-passage update. A kept passage's tokens are
what the previous version indexed (the update keeps an article only when the code that cleans,
chunks and tokenizes it is unchanged; see :mod:`index._reuse`), so its postings are read back
from the previous version's, renumbered. The vocabulary is sorted by name and postings by term,
then passage, so the result is, array for array, what :func:`~index._bm25.build_bm25` makes of
the same passages; only term weights and bounds are computed again, over the new whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from index._bm25 import Bm25Index, bm25_of_postings


def bm25_keeping(
    previous: Bm25Index,
    origin: npt.NDArray[np.int64],
    fresh: Iterable[Sequence[str]],
    *,
    k1: float,
    b: float,
    epsilon: float,
) -> Bm25Index | None:
    """The BM25 index of a corpus whose passage ``i`` is ``previous``'s passage ``origin[i]``, or,
    where that is -1, the next of ``fresh`` (its tokens). None when no passage holds a token
    (:func:`~index._bm25.build_bm25` then indexes a placeholder)."""
    kept_rows = np.flatnonzero(origin >= 0)
    renumbered = np.full(previous.size, -1, dtype=np.int32)  # previous passage -> its number now
    renumbered[origin[kept_rows]] = kept_rows
    old_term = np.repeat(np.arange(previous.vocabulary_size, dtype=np.int32), np.diff(previous.indptr))
    old_docs = renumbered[previous.docs]
    held = old_docs >= 0
    old_term, old_docs = old_term[held], old_docs[held]
    old_tfs = np.asarray(previous.tfs)[held].astype(np.uint32)

    lengths = np.zeros(origin.shape[0], dtype=np.float32)
    lengths[kept_rows] = previous.doc_lengths[origin[kept_rows]]
    new_terms: list[str] = []
    new_docs: list[int] = []
    new_tfs: list[int] = []
    for row, tokens in zip(np.flatnonzero(origin < 0).tolist(), fresh, strict=True):
        lengths[row] = len(tokens)
        for token, tf in Counter(tokens).items():
            new_terms.append(token)
            new_docs.append(row)
            new_tfs.append(tf)

    old_names = list(previous.vocabulary)  # in number order: sorted
    present = np.bincount(old_term, minlength=len(old_names)) > 0
    names = sorted({old_names[t] for t in np.flatnonzero(present).tolist()} | set(new_terms))
    if not names:
        return None
    number = {name: i for i, name in enumerate(names)}
    # Names are sorted in both, so a kept term's new number keeps the order of its old one.
    old_to_new = np.asarray([number.get(name, -1) for name in old_names], dtype=np.int64)
    term, docs, tfs = old_to_new[old_term], old_docs, old_tfs
    del old_term, old_docs, old_tfs, held  # a million passages hold ~80 million postings
    if new_terms:
        term, docs, tfs = _merged(
            (term, docs, tfs),
            (
                np.asarray([number[t] for t in new_terms], dtype=np.int64),
                np.asarray(new_docs, dtype=np.int32),
                np.asarray(new_tfs, dtype=np.uint32),
            ),
        )
    elif not _ascending(term, docs):  # kept passages came in another order (sources reordered)
        order = np.lexsort((docs, term))
        term, docs, tfs = term[order], docs[order], tfs[order]
    return bm25_of_postings(names, term, docs, tfs, lengths, k1=k1, b=b, epsilon=epsilon)


Postings = tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.uint32]]


def _merged(kept: Postings, fresh: Postings) -> Postings:
    """Both sets of postings (term, passage, count), sorted by term, then passage."""
    term = np.concatenate([kept[0], fresh[0]])
    docs = np.concatenate([kept[1], fresh[1]])
    tfs = np.concatenate([kept[2], fresh[2]])
    # Stable sorting of int64 runs is a merge when the kept postings are in order already (timsort).
    key = term * (int(docs.max()) + 1) + docs
    order = np.argsort(key, kind="stable")
    return term[order], docs[order], tfs[order]


def _ascending(term: npt.NDArray[np.int64], docs: npt.NDArray[np.int32]) -> bool:
    if term.shape[0] < 2:
        return True
    same = term[1:] == term[:-1]
    return bool(np.all(term[1:] >= term[:-1]) and np.all(docs[1:][same] > docs[:-1][same]))
