"""Near-duplicate detection's pair counting, compiled by numba for corpora with many copies of a
story (see ``_dedup``): numpy counts pairs by sorting every pair each shared 5-gram makes, ~827
million for 54 copies of MultiHop-RAG's articles, where the distinct pairs are 1.35 million.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def shared_counts(doc_starts, doc_grams, gram_starts, gram_docs):  # type: ignore[no-untyped-def]
    """Every pair of articles ``a < b`` sharing a 5-gram, as ``(a, b, how many)``, ascending by
    ``(a, b)``. Article ``a``'s 5-grams are ``doc_grams[doc_starts[a]:doc_starts[a + 1]]``; 5-gram
    ``g``'s articles are ``gram_docs[gram_starts[g]:gram_starts[g + 1]]``, ascending. Article by
    article, each of its 5-grams adds one to every later article holding it, in an array as long as
    the articles (the sparse product of the article-by-5-gram table with itself, row by row)."""
    count = doc_starts.shape[0] - 1
    shared = np.zeros(count, np.int64)
    touched = np.empty(count, np.int64)
    firsts = np.empty(1 << 16, np.int64)
    seconds = np.empty(1 << 16, np.int64)
    times = np.empty(1 << 16, np.int64)
    found = 0
    for a in range(count):
        reached = 0
        for i in range(doc_starts[a], doc_starts[a + 1]):
            gram = doc_grams[i]
            at, stop = gram_starts[gram], gram_starts[gram + 1]
            while at < stop and gram_docs[at] <= a:
                at += 1
            for j in range(at, stop):
                b = gram_docs[j]
                if shared[b] == 0:
                    touched[reached] = b
                    reached += 1
                shared[b] += 1
        if reached == 0:
            continue
        if found + reached > firsts.shape[0]:
            size = max(2 * firsts.shape[0], found + reached)
            firsts, seconds, times = _grown(firsts, size), _grown(seconds, size), _grown(times, size)
        for b in np.sort(touched[:reached]):
            firsts[found], seconds[found], times[found] = a, b, shared[b]
            shared[b] = 0
            found += 1
    return firsts[:found], seconds[:found], times[:found]


@njit(cache=True, nogil=True)
def _grown(values, size):  # type: ignore[no-untyped-def]
    bigger = np.empty(size, values.dtype)
    bigger[: values.shape[0]] = values
    return bigger
