"""The loops over BM25 postings, compiled by numba: numpy needs several passes and temporary arrays
per term (gather, divide, scatter), which at a million passages cost more than the scoring itself.

Every function adds a term's contribution with the same expression, in the order of ``terms``, so
a passage's score is the same float however it was reached: walked, looked up or scored whole.
``nogil`` lets concurrent questions score on both cores. Compiled code is cached beside this file
(numba's ``cache=True``), so only the first run after installing pays for compiling.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Passages scored at once by add_terms_within: their float64 scores (512 KB) and length codes (128 KB) fit
# in one core's 1 MB L2 cache on this machine's EPYC.
SCORE_BLOCK = 1 << 16


@njit(inline="always")
def _contribution(weight, tf, norm, k1):  # type: ignore[no-untyped-def]
    """One occurrence count's share of a passage's score: the one expression every scorer uses."""
    tf = np.float64(tf)
    return weight * (tf * (k1 + 1.0) / (tf + norm))


@njit(cache=True, nogil=True)
def add_terms(scores, indptr, docs, tfs, codes, norms, terms, weights, k1):  # type: ignore[no-untyped-def]
    """Add each term's contribution to ``scores`` (one per passage) for every passage it occurs in;
    passage ``d``'s length normalisation is ``norms[codes[d]]``."""
    whole = np.array([0, scores.shape[0]], dtype=np.int64)
    add_terms_within(scores, 0, whole[:1], whole[1:], indptr, docs, tfs, codes, norms, terms, weights, k1)


@njit(cache=True, nogil=True)
def add_terms_within(scores, offset, starts, stops, indptr, docs, tfs, codes, norms, terms, weights, k1):  # type: ignore[no-untyped-def]
    """:func:`add_terms` for the passages in ``starts[r] <= d < stops[r]`` only (ascending, disjoint
    runs), passage ``d``'s score at ``scores[d - offset]``: a few runs need an array only as long
    as they span. Each term's postings are entered by galloping to the run.

    Passages are taken :data:`SCORE_BLOCK` at a time, every term's postings within the block
    before the next, so the block's scores and codes stay in the core's own cache. Term by term
    over all passages, each term swept 8 MB of scores at 1M passages through the cache the two
    cores share. A passage's terms are still added in the order of ``terms``: the same floats."""
    cursors = np.empty(terms.shape[0], dtype=np.int64)
    for j in range(terms.shape[0]):
        cursors[j] = indptr[terms[j]]
    for r in range(starts.shape[0]):
        for start in range(starts[r], stops[r], SCORE_BLOCK):
            stop = min(start + SCORE_BLOCK, stops[r])
            for j in range(terms.shape[0]):
                weight, end = weights[j], indptr[terms[j] + 1]
                i = _gallop(docs, start, cursors[j], end)
                while i < end and docs[i] < stop:
                    doc = docs[i]
                    scores[doc - offset] += _contribution(weight, tfs[i], norms[codes[doc]], k1)
                    i += 1
                cursors[j] = i


@njit(cache=True, nogil=True)
def consecutive_runs(among, limit):  # type: ignore[no-untyped-def]
    """The runs of consecutive numbers in ``among`` (ascending) as starts and stops, or two empty
    arrays once there are more than ``limit``: a subset of scattered passages stops early."""
    starts = np.empty(limit, dtype=np.int64)
    stops = np.empty(limit, dtype=np.int64)
    if among.shape[0] == 0 or limit < 1:
        return starts[:0], stops[:0]
    count = 0
    starts[0] = among[0]
    for i in range(1, among.shape[0]):
        if among[i] != among[i - 1] + 1:
            stops[count] = among[i - 1] + 1
            count += 1
            if count == limit:
                return starts[:0], stops[:0]
            starts[count] = among[i]
    stops[count] = among[among.shape[0] - 1] + 1
    return starts[: count + 1], stops[: count + 1]


@njit(cache=True, nogil=True)
def add_terms_for(scores, candidates, indptr, docs, tfs, codes, norms, terms, weights, k1):  # type: ignore[no-untyped-def]
    """:func:`add_terms` for ``candidates`` only (ascending; ``scores[i]`` is ``candidates[i]``'s).
    Both lists are sorted, so each is searched from where the last match left off, by galloping
    through the longer one: the cost grows with the shorter list, not the postings."""
    count = candidates.shape[0]
    for j in range(terms.shape[0]):
        term, weight = terms[j], weights[j]
        lo, hi = indptr[term], indptr[term + 1]
        if hi - lo <= count:
            at = 0
            for i in range(lo, hi):
                doc = docs[i]
                at = _gallop(candidates, doc, at, count)
                if at == count:
                    break
                if candidates[at] == doc:
                    scores[at] += _contribution(weight, tfs[i], norms[codes[doc]], k1)
        else:
            i = lo
            for at in range(count):
                doc = candidates[at]
                i = _gallop(docs, doc, i, hi)
                if i == hi:
                    break
                if docs[i] == doc:
                    scores[at] += _contribution(weight, tfs[i], norms[codes[doc]], k1)


@njit(cache=True, nogil=True)
def saturations_for(table, candidates, indptr, docs, tfs, codes, norms, terms, k1):  # type: ignore[no-untyped-def]
    """``table[j, i]``: term ``terms[j]``'s :func:`_contribution` at weight 1 in ``candidates[i]``
    (ascending), left 0 where it does not occur: :func:`add_terms_for` into a row of zeros."""
    one = np.ones(1)
    for j in range(terms.shape[0]):
        add_terms_for(table[j], candidates, indptr, docs, tfs, codes, norms, terms[j : j + 1], one, k1)


@njit(cache=True, nogil=True)
def add_saturations(scores, table, queries, rows, weights):  # type: ignore[no-untyped-def]
    """``scores[queries[n]] += weights[n] * table[rows[n]]`` for each ``n`` in turn: each query's
    terms added in its own order, each as :func:`_contribution`. A passage a term misses gains
    ``weight * 0.0``, which leaves its score as it was."""
    for n in range(queries.shape[0]):
        query, row, weight = queries[n], rows[n], weights[n]
        for at in range(scores.shape[1]):
            scores[query, at] += weight * table[row, at]


@njit(cache=True, nogil=True)
def _gallop(values, target, start, stop):  # type: ignore[no-untyped-def]
    """The first position in ``values[start:stop]`` (ascending) holding ``target`` or more, or
    ``stop``: steps of 1, 2, 4, ... ahead, then a binary search within the last step."""
    if start >= stop or values[start] >= target:
        return start
    low, step = start, 1
    while low + step < stop and values[low + step] < target:
        low += step
        step *= 2
    high = min(low + step, stop)  # values[low] < target <= values[high] (or high == stop)
    while high - low > 1:
        middle = (low + high) // 2
        if values[middle] < target:
            low = middle
        else:
            high = middle
    return high


@njit(cache=True, nogil=True)
def pruned_candidates(  # type: ignore[no-untyped-def]
    indptr, docs, tfs, codes, norms, terms, weights, bounds, k1, k, allowed, floor_pool, max_running, rounding
):
    """Top-k candidates and their full scores, MaxScore style (see _bm25_top for the reasoning).

    ``terms`` come largest bound first; ``allowed`` is a mask over passages, or empty for all.
    Terms are walked into partial scores. Walking stops early once the bounds of the terms left
    (``left``) cannot lift an unseen passage to the floor and about ``max_running`` passages at
    most can still reach it; the terms left are then looked up for those passages only. Either
    way the candidates are the passages whose partial score, plus ``left``, reaches the floor.

    The floor is the k-th best partial score among ``floor_pool`` allowed passages taken from the
    postings of the rarest terms first: a subset's k-th best is never above the whole's, so it is
    safe, and those passages hold the best ones. Before the walked terms' bounds exceed ``left``
    no floor can be above ``left``, so it is not computed then."""
    size = codes.shape[0]
    partial = np.zeros(size)
    pool = _pool(indptr, docs, terms, allowed, floor_pool, size)
    left = bounds.sum()
    walked_bounds = 0.0
    walked = terms.shape[0]
    for j in range(terms.shape[0]):
        add_terms(partial, indptr, docs, tfs, codes, norms, terms[j : j + 1], weights[j : j + 1], k1)
        left -= bounds[j]
        walked_bounds += bounds[j]
        if j == terms.shape[0] - 1 or left >= walked_bounds * (1 - rounding):
            continue
        values = partial[pool]
        floor = _kth_best(values, k)
        if floor <= 0 or left >= floor * (1 - rounding):
            continue
        if _count_reaching(partial, floor * (1 - rounding) - left, allowed) <= max_running:
            walked = j + 1
            break
    if walked == terms.shape[0]:
        left = 0.0
    floor = _kth_best(partial[pool], k)
    cut = floor * (1 - rounding) - left if floor > 0 else 0.0
    candidates = _reaching(partial, cut, allowed)
    scores = partial[candidates]
    add_terms_for(scores, candidates, indptr, docs, tfs, codes, norms, terms[walked:], weights[walked:], k1)
    return candidates, scores


@njit(cache=True, nogil=True)
def _pool(indptr, docs, terms, allowed, floor_pool, size):  # type: ignore[no-untyped-def]
    """Up to ``floor_pool`` distinct allowed passages, from the postings of ``terms`` in order."""
    filtered = allowed.shape[0] > 0
    seen = np.zeros(size, np.bool_)
    pool = np.empty(floor_pool, np.int64)
    count = 0
    for j in range(terms.shape[0]):
        for i in range(indptr[terms[j]], indptr[terms[j] + 1]):
            doc = docs[i]
            if not seen[doc] and (not filtered or allowed[doc]):
                seen[doc] = True
                pool[count] = doc
                count += 1
                if count == floor_pool:
                    return pool
    return pool[:count]


@njit(cache=True, nogil=True)
def _kth_best(values, k):  # type: ignore[no-untyped-def]
    """The k-th largest of ``values``, or 0 when there are fewer than k."""
    if values.shape[0] < k:
        return 0.0
    return np.partition(values, values.shape[0] - k)[values.shape[0] - k]


@njit(cache=True, nogil=True)
def _count_reaching(partial, cut, allowed):  # type: ignore[no-untyped-def]
    """How many allowed passages have a partial score above 0 and at least ``cut``. The tests are
    combined with ``&``, not ``and``: without branches the loop is vectorised (1M passages: 0.3 ->
    0.15 ms)."""
    count = 0
    if allowed.shape[0] > 0:
        for doc in range(partial.shape[0]):
            count += (partial[doc] > 0) & (partial[doc] >= cut) & allowed[doc]
    else:
        for doc in range(partial.shape[0]):
            count += (partial[doc] > 0) & (partial[doc] >= cut)
    return count


@njit(cache=True, nogil=True)
def _reaching(partial, cut, allowed):  # type: ignore[no-untyped-def]
    """The allowed passages :func:`_count_reaching` counts, in ascending order. Every passage is
    written at the next free place, which only a passage that qualifies keeps: no branch to
    mispredict (1M passages: 2.4 -> 0.8 ms, the same passages)."""
    found = _count_reaching(partial, cut, allowed)
    chosen = np.empty(found + 1, np.int64)  # + 1: the place written after the last one kept
    count = 0
    if allowed.shape[0] > 0:
        for doc in range(partial.shape[0]):
            chosen[count] = doc
            count += (partial[doc] > 0) & (partial[doc] >= cut) & allowed[doc]
    else:
        for doc in range(partial.shape[0]):
            chosen[count] = doc
            count += (partial[doc] > 0) & (partial[doc] >= cut)
    return chosen[:found]


@njit(cache=True, nogil=True)
def reaching_floor(scores, indptr, docs, terms, k, floor_pool):  # type: ignore[no-untyped-def]
    """The passages whose (complete) score reaches the k-th best of a pool taken from the rarest
    terms' postings, as in :func:`pruned_candidates`: a superset of the top k, found in one pass
    instead of a partition of every score."""
    unfiltered = np.zeros(0, np.bool_)
    pool = _pool(indptr, docs, terms, unfiltered, floor_pool, scores.shape[0])
    floor = _kth_best(scores[pool], k)
    return _reaching(scores, floor, unfiltered)


@njit(cache=True, nogil=True)
def reaching_kth_among(scores, among, k):  # type: ignore[no-untyped-def]
    """The passages of ``among`` whose positive score reaches the k-th best positive score among
    them (all positive ones when fewer than k), in ``among``'s order: a superset of their top k,
    ties included. One pass with a heap of k scores, instead of gathering every score of a large
    subset and partitioning it."""
    heap = np.empty(max(k, 1), np.float64)  # a min-heap: heap[0] is the k-th best so far
    count = 0
    for i in range(among.shape[0]):
        score = scores[among[i]]
        if score <= 0:
            continue
        if count < k:
            at = count
            heap[at] = score
            count += 1
            while at > 0 and heap[(at - 1) // 2] > heap[at]:
                parent = (at - 1) // 2
                heap[at], heap[parent] = heap[parent], heap[at]
                at = parent
        elif score > heap[0]:
            heap[0] = score
            at = 0
            while True:
                left, smallest = 2 * at + 1, at
                if left < k and heap[left] < heap[smallest]:
                    smallest = left
                if left + 1 < k and heap[left + 1] < heap[smallest]:
                    smallest = left + 1
                if smallest == at:
                    break
                heap[at], heap[smallest] = heap[smallest], heap[at]
                at = smallest
    if count == 0:
        return np.zeros(0, np.int64)
    floor = heap[0] if count == k else 0.0
    chosen = np.empty(among.shape[0], np.int64)
    found = 0
    for i in range(among.shape[0]):
        score = scores[among[i]]
        if score > 0 and score >= floor:
            chosen[found] = among[i]
            found += 1
    return chosen[:found]
