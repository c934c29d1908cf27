"""An update's HNSW graph grown from the previous version's instead of built again.

Building the graph was the largest part of a 1M-passage update (30% of round 22's, more once
cleaning and chunking were kept). An HNSW graph is built by inserting vectors one after another, so
inserting the new passages into the previous graph makes the same kind of graph. Two things stand in
the way, and are handled here:

- Passages are numbered outlet by outlet, so new articles land between old ones, and FAISS only
  appends. The graph is permuted so that the kept passages come first in their new order, the new
  ones are appended, and the whole is permuted into the new numbering.
- Passages of removed or changed articles leave the graph. Links to them are dropped, which FAISS
  cannot do: they are cut out of each neighbour list here. A node that lost links does not get
  them back, so removals are counted across updates and the graph is built whole once they pass
  :data:`MAX_REMOVED_SHARE` of the passages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from index._dense import HNSW_LINKS, stored_vectors

# Removed passages, summed over the updates since the graph was last built whole, as a share of the
# passages, above which an update builds it whole again (the nodes that lost links keep fewer). On
# MultiHop-RAG's sentence vectors, ten days' updates removing 20% of the rows kept recall@10 against
# exact search at 0.9937 against 0.9942 built whole; removing 43% lowered it to 0.9918 against 0.9952
# (bench/graph_growth.py).
MAX_REMOVED_SHARE = 0.2
_ADD_BLOCK = 65_536  # vectors converted to float32 and inserted at a time


def can_grow(index: Any, passages: int) -> bool:
    """Whether ``index`` is a graph this module grows: HNSW over float16 vectors, FAISS's usual
    links, holding ``passages`` vectors."""
    import faiss

    if not isinstance(index, faiss.IndexHNSW) or index.ntotal != passages or not passages:
        return False
    stored = stored_vectors(index)
    graph: Any = index.hnsw  # the SWIG object; faiss's stubs lack its methods
    return stored is not None and stored.dtype == np.float16 and graph.nb_neighbors(1) == HNSW_LINKS


def grow(index: Any, vectors: npt.NDArray[np.float16], origin: npt.NDArray[np.int64]) -> Any:
    """``index`` (a graph :func:`can_grow`), changed in place to hold ``vectors`` in order: row ``i``
    is the previous passage ``origin[i]``, whose vector the graph holds already (the same values),
    or new where that is -1. Previous passages that no row names are removed. Returns ``index``."""
    if origin.shape[0] != vectors.shape[0]:
        raise ValueError(f"{origin.shape[0]} origins for {vectors.shape[0]} vectors")
    kept_rows = np.flatnonzero(origin >= 0)
    kept_old = origin[kept_rows]
    previous = int(index.ntotal)
    if kept_old.shape[0] and (int(kept_old.min()) < 0 or int(kept_old.max()) >= previous):
        raise ValueError(f"origins outside the previous graph's {previous} passages")
    if np.unique(kept_old).shape[0] != kept_old.shape[0]:
        raise ValueError("two rows name the same previous passage")
    removed_old = np.setdiff1d(np.arange(previous, dtype=np.int64), kept_old, assume_unique=True)
    # New node i = old node order[i]: the kept ones first, in their new order; then the removed.
    index.permute_entries(np.concatenate([kept_old, removed_old]))
    _truncate(index, kept_rows.shape[0])
    fresh_rows = np.flatnonzero(origin < 0)
    for start in range(0, fresh_rows.shape[0], _ADD_BLOCK):
        index.add(np.asarray(vectors[fresh_rows[start : start + _ADD_BLOCK]], dtype=np.float32))
    # Where each row's node is now: kept rows in order, then new rows in order.
    where = np.empty(vectors.shape[0], dtype=np.int64)
    where[kept_rows] = np.arange(kept_rows.shape[0])
    where[fresh_rows] = kept_rows.shape[0] + np.arange(fresh_rows.shape[0])
    index.permute_entries(where)
    return index


def _truncate(index: Any, keep: int) -> None:
    """The graph cut to its first ``keep`` nodes: the others' links removed from every list."""
    import faiss

    graph: Any = index.hnsw
    levels = faiss.vector_to_array(graph.levels)[:keep]
    offsets = faiss.vector_to_array(graph.offsets)[: keep + 1].astype(np.int64)
    graph.levels.resize(keep)
    graph.offsets.resize(keep + 1)
    graph.neighbors.resize(int(offsets[-1]))
    links = faiss.rev_swig_ptr(graph.neighbors.data(), int(offsets[-1]))  # a view: edited in place
    cum = faiss.vector_to_array(graph.cum_nneighbor_per_level)
    gone = links >= keep
    links[gone] = -1
    if gone.any():
        owners = np.unique(np.searchsorted(offsets, np.flatnonzero(gone), side="right") - 1)
        for level in range(int(levels.max())):
            nodes = owners[levels[owners] > level]
            starts = offsets[nodes] + int(cum[level])
            _close_gaps(links, starts, int(cum[level + 1] - cum[level]))
    storage: Any = faiss.downcast_index(index.storage)
    storage.codes.resize(keep * storage.code_size)  # the kept vectors, already first
    storage.ntotal = index.ntotal = keep
    if keep and graph.entry_point >= keep:
        graph.entry_point = int(np.argmax(levels))
    if keep:
        graph.max_level = int(levels[graph.entry_point]) - 1
    else:
        graph.entry_point, graph.max_level = -1, -1


def _close_gaps(links: npt.NDArray[np.int32], starts: npt.NDArray[np.int64], width: int) -> None:
    """Each list of ``width`` links from ``starts`` with its -1s moved to its end: FAISS reads a
    list up to its first -1."""
    for first in range(0, starts.shape[0], _ADD_BLOCK):
        at = starts[first : first + _ADD_BLOCK, None] + np.arange(width)
        rows = links[at]
        order = np.argsort(rows < 0, axis=1, kind="stable")
        links[at] = np.take_along_axis(rows, order, axis=1)
