"""Near-duplicate articles across outlets (wire copies), by shared word 5-grams."""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence

_WORD = re.compile(r"\w+")
_SHINGLE = 5
# A 5-gram found in more articles than this is a stock phrase, not evidence of copying.
_MAX_POSTINGS = 50


def shingles(text: str) -> set[int]:
    words = [w.casefold() for w in _WORD.findall(text)]
    return {zlib.crc32(" ".join(words[i : i + _SHINGLE]).encode()) for i in range(len(words) - _SHINGLE + 1)}


def near_duplicates(texts: Sequence[str], min_containment: float) -> dict[int, list[tuple[int, float]]]:
    """For each article, the others that share at least ``min_containment`` of the smaller one's 5-grams."""
    sets = [shingles(t) for t in texts]
    postings: dict[int, list[int]] = defaultdict(list)
    for doc, grams in enumerate(sets):
        for gram in grams:
            postings[gram].append(doc)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in postings.values():
        if 1 < len(docs) <= _MAX_POSTINGS:
            for i, a in enumerate(docs):
                for b in docs[i + 1 :]:
                    shared[(a, b)] += 1
    found: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (a, b), count in shared.items():
        containment = count / max(1, min(len(sets[a]), len(sets[b])))
        if containment >= min_containment:
            found[a].append((b, round(containment, 3)))
            found[b].append((a, round(containment, 3)))
    return dict(found)
