"""Near-duplicate articles across outlets (wire copies), by shared word 5-grams."""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\w+")
_SHINGLE = 5
# A 5-gram found in more articles than this is a stock phrase, not evidence of copying.
_MAX_POSTINGS = 50


def shingles(text: str) -> npt.NDArray[np.uint32]:
    """The distinct hashes of a text's word 5-grams, sorted (an array: a set of ints costs 12x more)."""
    words = [w.casefold() for w in _WORD.findall(text)]
    grams = (zlib.crc32(" ".join(words[i : i + _SHINGLE]).encode()) for i in range(len(words) - _SHINGLE + 1))
    return np.unique(np.fromiter(grams, dtype=np.uint32, count=max(0, len(words) - _SHINGLE + 1)))


def near_duplicates(texts: Sequence[str], min_containment: float) -> dict[int, list[tuple[int, float]]]:
    """For each article, the others that share at least ``min_containment`` of the smaller one's
    5-grams, most similar first. Postings and pair counts are arrays, not dicts: a million passages
    make a hundred million (5-gram, article) pairs."""
    sets = [shingles(t) for t in texts]
    sizes = np.fromiter((len(g) for g in sets), dtype=np.int64, count=len(sets))
    grams = np.concatenate(sets) if sets else np.zeros(0, dtype=np.uint32)
    docs = np.repeat(np.arange(len(sets), dtype=np.int64), sizes)
    order = np.argsort(grams, kind="stable")  # by 5-gram, then article
    grams, docs = grams[order], docs[order]
    starts = np.flatnonzero(np.concatenate([[grams.size > 0], grams[1:] != grams[:-1]]))
    lengths = np.diff(np.append(starts, grams.size))
    codes = []
    for length in range(2, _MAX_POSTINGS + 1):
        group = starts[lengths == length]
        if not group.size:
            continue
        members = docs[group[:, None] + np.arange(length)]
        first, second = np.triu_indices(length, 1)
        codes.append(members[:, first].ravel() * len(sets) + members[:, second].ravel())
    if not codes:
        return {}
    found: dict[int, list[tuple[int, float]]] = defaultdict(list)
    pairs, shared = np.unique(np.concatenate(codes), return_counts=True)
    a, b = pairs // len(sets), pairs % len(sets)
    containment = shared / np.maximum(1, np.minimum(sizes[a], sizes[b]))
    close = containment >= min_containment
    for x, y, c in zip(a[close].tolist(), b[close].tolist(), containment[close].tolist(), strict=True):
        found[x].append((y, round(c, 3)))
        found[y].append((x, round(c, 3)))
    return {doc: sorted(others, key=lambda o: (-o[1], o[0])) for doc, others in found.items()}
