"""The FAISS index over passage vectors: its kind chosen by size, and searching it, optionally within
a subset of passages."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from config import DenseIndex
from index._huge_pages import back_with_huge_pages

# Graph degree of HNSW: FAISS's usual 32 links per vector (recall above 0.95 at efSearch 128).
HNSW_LINKS = 32
# Vectors the 8-bit quantiser learns each dimension's range from.
_TRAINING_SAMPLE = 100_000
# A subset of at most this share of the passages is searched by scanning its stored vectors (FAISS
# skips the others by a bitmap): exact, and at 1M passages cheaper than a filtered graph walk up to
# about a fifth of them (scan 7 ms at 99k passages, 12 ms at 177k; the walk 19 and 11 ms).
EXACT_SUBSET_SHARE = 0.2
# See _filtered_ef.
_FILTERED_EF_FACTOR = 2

_FACTORY = {
    DenseIndex.EXACT: "Flat",
    DenseIndex.HNSW: f"HNSW{HNSW_LINKS},SQfp16",
    DenseIndex.COMPACT: f"HNSW{HNSW_LINKS},SQ8",
}


def chosen_kind(requested: DenseIndex, passages: int, hnsw_min_passages: int) -> DenseIndex:
    if requested is not DenseIndex.AUTO:
        return requested
    return DenseIndex.HNSW if passages >= hnsw_min_passages else DenseIndex.EXACT


def build_dense_index(vectors: npt.NDArray[np.float16], kind: DenseIndex) -> Any:
    """An inner-product FAISS index of ``kind`` (not AUTO) holding ``vectors`` in order."""
    import faiss

    dimension = int(vectors.shape[1])
    index = faiss.index_factory(dimension, _FACTORY[kind], faiss.METRIC_INNER_PRODUCT)
    if not vectors.shape[0]:
        return index
    if not index.is_trained:
        sample = np.random.default_rng(0).permutation(vectors.shape[0])[:_TRAINING_SAMPLE]
        index.train(np.asarray(vectors[np.sort(sample)], dtype=np.float32))
    block = 65_536  # converted to float32 a block at a time, not all at once
    for start in range(0, vectors.shape[0], block):
        index.add(np.asarray(vectors[start : start + block], dtype=np.float32))
    return index


def _filtered_ef(ef: int, total: int, allowed: npt.NDArray[np.int64] | None) -> int:
    """How wide to walk the graph so that about ``ef`` of the nodes reached are ``allowed``.

    FAISS filters HNSW results, not the walk: with ``ef`` 128 and a subset of 15% of the
    passages, some 20 of the nodes reached were in it, and an outlet's top 30 overlapped the exact
    one by 0.28 (MultiHop-RAG, real vectors). Widening by the subset's share, twice over, brought
    the overlap to 0.99 on average (0.78 at worst) across its outlets."""
    if allowed is None or not len(allowed):
        return ef
    return int(min(total, ef * _FILTERED_EF_FACTOR * total / len(allowed)))


def search(
    index: Any,
    query: npt.NDArray[np.float32],
    k: int,
    allowed: npt.NDArray[np.int64] | None,
    ef_search: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The ``k`` passages nearest ``query`` by inner product, optionally only among ``allowed``."""
    import faiss

    k = min(k, index.ntotal if allowed is None else len(allowed))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    params: Any
    scanned = allowed is not None and len(allowed) <= EXACT_SUBSET_SHARE * index.ntotal
    if scanned:
        # A small subset is scanned in the graph's own flat storage, vector by vector: numpy
        # converting the float16 file's rows took 10x as long.
        index = _stored(index)
    if hasattr(index, "hnsw"):
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # absent from faiss's stubs
        params.efSearch = _filtered_ef(max(ef_search, k), index.ntotal, allowed)
    else:
        params = faiss.SearchParameters()
    # A bitmap, not IDSelectorBatch: building Batch's hash set of a 150k-passage subset took
    # 13 ms of a 1M-passage search, the bitmap 0.3 ms. Both are held in locals as well: SWIG's
    # params.sel keeps neither alive.
    bits = selector = None
    if allowed is not None:
        mask = np.zeros(index.ntotal, dtype=bool)
        mask[allowed] = True
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(index.ntotal, faiss.swig_ptr(bits))
        params.sel = selector
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
    keep = ids[0] >= 0
    return ids[0][keep].astype(np.int64), scores[0][keep]


def rescored(
    index: Any, query: npt.NDArray[np.float32], k: int, passages: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The ``k`` of ``passages`` (ascending) nearest ``query``, scored from the vectors the index
    stores, as its own search would score them."""
    if not passages.shape[0]:
        return passages, np.zeros(0, dtype=np.float32)
    # Rows of the stored vectors viewed in place where possible: reconstruct_batch decodes them one
    # call at a time, 2.4 ms for 1000 where this takes a fraction of one.
    stored = stored_vectors(index)
    vectors = widened(stored[passages]) if stored is not None else _stored(index).reconstruct_batch(passages)
    scores = vectors @ query.astype(np.float32)
    order = np.lexsort((passages, -scores))[:k]
    return passages[order], scores[order].astype(np.float32)


def stored_vectors(index: Any) -> npt.NDArray[np.float16] | npt.NDArray[np.float32] | None:
    """The vectors ``index`` stores, viewed in place, where they are the passage vectors exactly:
    float16 in an HNSW graph's storage, float32 in a flat index. None where they are not (8-bit,
    compact) or the index is empty. The view keeps ``index`` alive."""
    import faiss

    storage = _stored(index)
    count = int(storage.ntotal)
    if not count:
        return None
    if isinstance(storage, faiss.IndexScalarQuantizer) and storage.sq.qtype == faiss.ScalarQuantizer.QT_fp16:
        codes = faiss.rev_swig_ptr(storage.codes.data(), count * storage.code_size)
        halves: npt.NDArray[np.float16] = _owned_by(index, codes.view(np.float16).reshape(count, -1))
        return halves
    if isinstance(storage, faiss.IndexFlat):
        floats: npt.NDArray[np.float32] = faiss.rev_swig_ptr(storage.get_xb(), count * storage.d)
        floats = _owned_by(index, floats.reshape(count, -1))
        return floats
    return None


def back_graph_with_huge_pages(index: Any) -> int:
    """An HNSW index's links and stored vectors backed with huge pages (:mod:`index._huge_pages`),
    the memory its graph walk reads at random; the bytes collapsed. Other kinds are left as they are."""
    import faiss

    if not isinstance(index, faiss.IndexHNSW) or not index.ntotal:
        return 0
    storage = _stored(index)
    graph: Any = index.hnsw  # the SWIG object; its typing lacks the links
    links = graph.neighbors
    regions = [faiss.rev_swig_ptr(links.data(), links.size())]
    if isinstance(storage, faiss.IndexScalarQuantizer):
        regions.append(faiss.rev_swig_ptr(storage.codes.data(), int(storage.ntotal) * storage.code_size))
    return sum(back_with_huge_pages(region) for region in regions)


class _Owned:
    """An array's memory, exposed with a reference to the object that owns it."""

    def __init__(self, owner: Any, view: npt.NDArray[Any]) -> None:
        self.owner = owner
        self.__array_interface__ = view.__array_interface__


def _owned_by(owner: Any, view: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``view``, keeping ``owner`` alive: rev_swig_ptr's arrays point into memory SWIG frees with
    the index (read after the index went, they held zeros). Read-only: the index searches it."""
    owned = np.asarray(_Owned(owner, view))
    owned.flags.writeable = False
    return owned


def widened(rows: npt.NDArray[np.float16] | npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Rows of :func:`stored_vectors` as float32 (a flat index's already are)."""
    if rows.dtype == np.float16:
        return as_float32(rows.view(np.float16))
    return rows.view(np.float32)


def _stored(index: Any) -> Any:
    """The flat index of the vectors ``index`` searches: an HNSW graph's storage (float16, or 8-bit
    when compact), or ``index`` itself when it is flat."""
    import faiss

    return faiss.downcast_index(index.storage) if hasattr(index, "hnsw") else index


def as_float32(rows: npt.NDArray[np.float16]) -> npt.NDArray[np.float32]:
    """Stored float16 vectors widened to float32 by FAISS's vectorised decoder: the same values,
    faster than numpy's ``astype`` (1,352 sentence vectors: 0.43 ms on the one OpenMP thread
    answering gives it, 0.21 on two, against 0.64)."""
    if rows.shape[0] == 0:
        return rows.astype(np.float32)
    codes = np.ascontiguousarray(rows, dtype=np.float16).view(np.uint8)
    decoded: npt.NDArray[np.float32] = _half_decoder(int(rows.shape[1])).decode(codes)
    return decoded


@cache
def _half_decoder(dimension: int) -> Any:
    import faiss

    return faiss.ScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16)
