"""An update's BM25 index made from the previous version's postings and the new passages' tokens.

Tokenizing every passage again was a quarter of a 1M-passage update. A kept passage's tokens are
what the previous version indexed (the update keeps an article only when the code that cleans,
chunks and tokenizes it is unchanged; see :mod:`index._reuse`), so its postings are read back
from the previous version's, renumbered. The vocabulary is sorted by name and postings by term,
then passage, so the result is, array for array, what :func:`~index._bm25.build_bm25` makes of
the same passages; only term weights and bounds are computed again, over the new whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from index._bm25 import Bm25Index, bm25_of_postings, counted_postings


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
    fresh_rows = np.flatnonzero(origin < 0)
    seen, fresh_term, fresh_docs, fresh_tfs, fresh_lengths = counted_postings(fresh)
    if fresh_lengths.shape[0] != fresh_rows.shape[0]:
        raise ValueError(
            f"{fresh_lengths.shape[0]} new passages' tokens for {fresh_rows.shape[0]} new passages"
        )
    lengths[fresh_rows] = fresh_lengths

    old_names = list(previous.vocabulary)  # in number order: sorted
    present = np.bincount(old_term, minlength=len(old_names)) > 0
    names = sorted({old_names[t] for t in np.flatnonzero(present).tolist()} | set(seen))
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
    if not fresh_term.shape[0]:
        return bm25_of_postings(names, df, old_docs, old_tfs, lengths, k1=k1, b=b, epsilon=epsilon)
    term = np.asarray([number[t] for t in seen], dtype=np.int64)[fresh_term]
    df += np.bincount(term, minlength=len(names))
    rows = fresh_rows[fresh_docs]  # the new passages' numbers among all
    fresh_key = term * width + rows
    order = np.argsort(fresh_key)
    # Inserted in place: the kept postings are in order, and a (term, passage) is never in both.
    at = np.searchsorted(key, fresh_key[order])
    del key
    docs = np.insert(old_docs, at, rows[order].astype(np.int32))
    fresh_tfs = fresh_tfs[order]
    wide = np.promote_types(old_tfs.dtype, np.min_scalar_type(int(fresh_tfs.max())))
    tfs = np.insert(old_tfs.astype(wide, copy=False), at, fresh_tfs.astype(wide))
    return bm25_of_postings(names, df, docs, tfs, lengths, k1=k1, b=b, epsilon=epsilon)
