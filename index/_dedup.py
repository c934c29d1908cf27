"""Near-duplicate articles across outlets (wire copies), by shared word 5-grams."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\w+")
_SHINGLE = 5
_SEPARATOR = "\x1f"  # a control character, never in a \w word
_BYTE_BASE = np.uint64(0x100000001B3)  # FNV's 64-bit prime: odd, so it has an inverse mod 2**64
_BYTE_BASE_INVERSE = np.uint64(pow(int(_BYTE_BASE), -1, 1 << 64))
_GRAM_BASE = np.uint64(0x9E3779B97F4A7C15)
# A 5-gram found in more articles than this is a stock phrase, not evidence of copying.
_MAX_POSTINGS = 50
# Article pairs counted at a time. A story printed by ~50 outlets makes each of its 5-grams ~1,200
# pairs, so the pairs of every 5-gram at once ran to billions: 23 GB at peak for a corpus of 54
# copies of MultiHop-RAG's articles (454k passages; 5.9 GB for 22 copies, where the rest of the
# build peaked at 1.3). A batch at a time, memory holds one batch and the distinct pairs.
_PAIR_BATCH = 1 << 23
# Above this many pairs, they are counted by a compiled loop (_dedup_kernels) instead: 54 copies
# make 827 million, which numpy counted in 114 s and the loop in 25 (with its preparation). Below
# it numpy's counting is quick and a build of a few articles does not load numba (~0.5 s).
COMPILED_FROM_PAIRS = 1 << 22


def shingles(text: str) -> npt.NDArray[np.uint32]:
    """The distinct hashes of a text's case-folded word 5-grams, sorted (an array: a set of ints
    costs 12x more).

    Hashed by numpy rather than a CRC per 5-gram in Python, which took 53 of a 1M-passage update's
    239 s: each word is a polynomial in its UTF-8 bytes (read off prefix sums), each 5-gram one in
    its words, both mod 2**64, mixed and cut to 32 bits. On a million distinct 5-grams that made
    125 collisions where chance makes 116 (CRC-32: 101)."""
    words = _WORD.findall(text)
    grams = len(words) - _SHINGLE + 1
    if grams <= 0:
        return np.zeros(0, dtype=np.uint32)
    # The words, separated by a byte no word holds, case-folded at once (folding is per character).
    data = np.frombuffer(_SEPARATOR.join(words).casefold().encode(), dtype=np.uint8)
    powers, inverses = _powers(data.size, _BYTE_BASE), _powers(data.size, _BYTE_BASE_INVERSE)
    prefix = np.zeros(data.size + 1, dtype=np.uint64)
    np.cumsum((data.astype(np.uint64) + np.uint64(1)) * powers, out=prefix[1:])
    ends = np.flatnonzero(data == ord(_SEPARATOR))
    starts = np.concatenate(([0], ends + 1))
    ends = np.append(ends, data.size)
    word = _mixed((prefix[ends] - prefix[starts]) * inverses[starts])
    gram = word[:grams].copy()
    for k in range(1, _SHINGLE):
        gram = gram * _GRAM_BASE + word[k : k + grams]
    return np.unique((_mixed(gram) >> np.uint64(32)).astype(np.uint32))


def _mixed(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: every input bit moves every output bit."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def _powers(count: int, base: np.uint64) -> npt.NDArray[np.uint64]:
    """``base`` to the powers 0 to ``count - 1``, mod 2**64."""
    powers = np.full(count, base, dtype=np.uint64)
    powers[0] = 1
    return np.cumprod(powers, dtype=np.uint64)


def near_duplicates(texts: Sequence[str], min_containment: float) -> dict[int, list[tuple[int, float]]]:
    """For each article, the others that share at least ``min_containment`` of the smaller one's
    5-grams, most similar first. Postings and pair counts are arrays, not dicts: a million passages
    make a hundred million (5-gram, article) pairs."""
    sets = [shingles(t) for t in texts]
    sizes = np.fromiter((len(g) for g in sets), dtype=np.int64, count=len(sets))
    grams = np.concatenate(sets) if sets else np.zeros(0, dtype=np.uint32)
    docs = np.repeat(np.arange(len(sets), dtype=np.int64), sizes)
    order = np.argsort(grams, kind="stable")  # by 5-gram, then article
    grams, by_gram = grams[order], docs[order]
    starts = np.flatnonzero(np.concatenate([[grams.size > 0], grams[1:] != grams[:-1]]))
    lengths = np.diff(np.append(starts, grams.size))
    kept = (lengths >= 2) & (lengths <= _MAX_POSTINGS)
    if int((lengths[kept] * (lengths[kept] - 1) // 2).sum()) > COMPILED_FROM_PAIRS:
        a, b, shared = _compiled_pairs(order, starts, lengths, kept, docs, by_gram, len(sets))
    else:
        codes, shared = _counted(_pair_codes(starts, lengths, by_gram, len(sets)))
        a, b = codes // len(sets), codes % len(sets)
    if not a.size:
        return {}
    found: dict[int, list[tuple[int, float]]] = defaultdict(list)
    containment = shared / np.maximum(1, np.minimum(sizes[a], sizes[b]))
    close = containment >= min_containment
    for x, y, c in zip(a[close].tolist(), b[close].tolist(), containment[close].tolist(), strict=True):
        found[x].append((y, round(c, 3)))
        found[y].append((x, round(c, 3)))
    return {doc: sorted(others, key=lambda o: (-o[1], o[0])) for doc, others in found.items()}


def _compiled_pairs(
    order: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    kept: npt.NDArray[np.bool_],
    docs: npt.NDArray[np.int64],
    by_gram: npt.NDArray[np.int64],
    count: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`~index._dedup_kernels.shared_counts` of the ``kept`` 5-grams among ``count``
    articles, from the postings in article order (``docs``, as shingled) and in 5-gram order
    (``by_gram``, ``docs[order]``)."""
    from index._dedup_kernels import shared_counts

    # 32-bit numbers where they fit: a 454k-passage corpus holds 53 million postings.
    renumbered = (np.cumsum(kept) - 1).astype(np.int32)  # a kept 5-gram's number among the kept
    gram = np.empty(order.size, dtype=np.int32)
    gram[order] = np.repeat(np.arange(starts.size, dtype=np.int32), lengths)  # in article order
    held = kept[gram]
    doc_starts = np.concatenate(([0], np.cumsum(np.bincount(docs[held], minlength=count))))
    doc_grams = renumbered[gram[held]]
    del gram, held
    gram_starts = np.concatenate(([0], np.cumsum(lengths[kept])))
    gram_docs = by_gram[np.repeat(kept, lengths)].astype(np.int32)
    return shared_counts(doc_starts, doc_grams, gram_starts, gram_docs)  # type: ignore[no-any-return]


def _pair_codes(
    starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], docs: npt.NDArray[np.int64], count: int
) -> Iterator[npt.NDArray[np.int64]]:
    """For each 5-gram in 2 to :data:`_MAX_POSTINGS` articles (its postings ``docs[start:start +
    length]``), each pair of its articles as ``first * count + second``: at most
    :data:`_PAIR_BATCH` codes at a time."""
    for length in range(2, _MAX_POSTINGS + 1):
        group = starts[lengths == length]
        first, second = np.triu_indices(length, 1)
        step = max(1, _PAIR_BATCH // first.size)
        for at in range(0, group.size, step):
            members = docs[group[at : at + step, None] + np.arange(length)]
            yield members[:, first].ravel() * count + members[:, second].ravel()


def _counted(
    batches: Iterable[npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The distinct codes of ``batches`` (ascending) and how often each occurs, counted a batch at
    a time. The counts so far are merged once they hold twice what the last merge left, so merging
    costs about as much as counting."""
    counted: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    held, limit = 0, _PAIR_BATCH
    for codes in batches:
        counted.append(np.unique(codes, return_counts=True))
        held += counted[-1][0].size
        if held > limit:
            counted = [_merged(counted)]
            held = counted[0][0].size
            limit = max(_PAIR_BATCH, 2 * held)
    if not counted:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return _merged(counted)


def _merged(
    counted: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    if len(counted) == 1:
        return counted[0]
    codes, inverse = np.unique(np.concatenate([c for c, _ in counted]), return_inverse=True)
    times = np.concatenate([t for _, t in counted]).astype(np.float64)  # exact below 2**53
    return codes, np.bincount(inverse, weights=times, minlength=codes.size).astype(np.int64)
