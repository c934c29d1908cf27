"""The compact copy's scan (_subset_scan), compiled by numba: a passage's score is a product of
128 bytes with the query's weights, which numpy would widen into a float copy of every row first."""

from __future__ import annotations

import numpy as np
from numba import njit


# fastmath: the sum may be reordered, so it runs in vector registers. These scores only choose the
# passages that are then scored exactly.
@njit(cache=True, nogil=True, fastmath=True)
def best_rows(codes, passage_of, starts, stops, inside, weights, keep):  # type: ignore[no-untyped-def]
    """The ``keep`` best-scoring passages of rows ``starts[r]:stops[r]`` that are ``inside``
    (fewer when fewer are), in no order. A min-heap of the best so far: sorting all ~140k
    scores of an outlet to pick them took longer than scoring them."""
    scores = np.empty(keep, np.float32)  # a min-heap: scores[0] is the worst kept
    passages = np.empty(keep, np.int64)
    count = 0
    for r in range(starts.shape[0]):
        for row in range(starts[r], stops[r]):
            passage = passage_of[row]
            if not inside[passage]:
                continue
            score = np.float32(0.0)
            for j in range(codes.shape[1]):
                score += weights[j] * codes[row, j]
            if count < keep:
                at = count
                count += 1
                while at > 0 and scores[(at - 1) // 2] > score:
                    scores[at], passages[at] = scores[(at - 1) // 2], passages[(at - 1) // 2]
                    at = (at - 1) // 2
                scores[at], passages[at] = score, passage
            elif score > scores[0]:
                at = 0
                while True:
                    child = 2 * at + 1
                    if child >= keep:
                        break
                    if child + 1 < keep and scores[child + 1] < scores[child]:
                        child += 1
                    if scores[child] >= score:
                        break
                    scores[at], passages[at] = scores[child], passages[child]
                    at = child
                scores[at], passages[at] = score, passage
    return passages[:count]
