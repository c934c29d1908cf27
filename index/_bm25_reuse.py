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
    (:func:`~index._bm25.build_bm25` then indexes a placeholder), or the previous counts are not
    integers (older indexes stored them as floats)."""
    if previous.tfs.dtype.kind != "u":
        return None
    kept_rows = np.flatnonzero(origin >= 0)
    renumbered = np.full(previous.size, -1, dtype=np.int32)  # previous passage -> its number now
    renumbered[origin[kept_rows]] = kept_rows
    old_term = np.repeat(np.arange(previous.vocabulary_size, dtype=np.int32), np.diff(previous.indptr))
    old_docs = renumbered[previous.docs]
    held = old_docs >= 0
    old_term, old_docs = old_term[held], old_docs[held]
    old_tfs = np.asarray(previous.tfs)[held]  # in the smallest type that holds them (see _bm25)

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
    kept_term = old_to_new[old_term]
    del old_term, held  # a million passages hold ~80 million postings
    df = np.bincount(kept_term, minlength=len(names))
    width = origin.shape[0]
    key = kept_term * width + old_docs  # by term, then passage
    del kept_term
    if key.shape[0] > 1 and not bool(np.all(key[1:] > key[:-1])):  # sources reordered
        order = np.argsort(key, kind="stable")
        key, old_docs, old_tfs = key[order], old_docs[order], old_tfs[order]
        del order
    if not new_terms:
        return bm25_of_postings(names, df, old_docs, old_tfs, lengths, k1=k1, b=b, epsilon=epsilon)
    fresh_term = np.asarray([number[t] for t in new_terms], dtype=np.int64)
    df += np.bincount(fresh_term, minlength=len(names))
    fresh_key = fresh_term * width + np.asarray(new_docs, dtype=np.int64)
    order = np.argsort(fresh_key)
    # Inserted in place: the kept postings are in order, and a (term, passage) is never in both.
    at = np.searchsorted(key, fresh_key[order])
    del key
    docs = np.insert(old_docs, at, np.asarray(new_docs, dtype=np.int32)[order])
    fresh_tfs = np.asarray(new_tfs, dtype=np.uint32)[order]
    wide = np.promote_types(old_tfs.dtype, np.min_scalar_type(int(fresh_tfs.max())))
    tfs = np.insert(old_tfs.astype(wide, copy=False), at, fresh_tfs.astype(wide))
    return bm25_of_postings(names, df, docs, tfs, lengths, k1=k1, b=b, epsilon=epsilon)
