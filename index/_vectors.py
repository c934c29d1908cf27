"""Embedding a build's passages and sentences into float16 files, a block of articles at a time.

A block's texts are embedded in length order (less padding) and its vectors appended to the files
in article order, so a build holds one block's texts and vectors, not every sentence's: at a million
passages the six million sentence vectors alone are 4.6 GB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from config import DenseIndex
from index import _graph_growth
from index._article import ArticleInfo
from index._dense import build_dense_index
from index._embed import Embedder
from index._errors import BuildError
from index._subset_scan import write_subset_codes

if TYPE_CHECKING:
    from index._reader import IndexReader, StoredVectors

PASSAGE_VECTORS = "passage_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
# Texts embedded per call: large enough for the model's own batching, small enough for a live bar.
_EMBED_STEP = 256
# Texts per block (see above): enough for length order to matter, a few MB of vectors.
_BLOCK_TEXTS = 16_384
# The manifest's count of passages removed from the HNSW graph since it was last built whole.
GRAPH_REMOVED = "graph_removed"


@dataclass(frozen=True)
class WrittenVectors:
    """What :func:`write_vectors` reused."""

    reused: set[str]  # articles whose vectors were copied from the previous version
    grown: bool  # whether the HNSW graph was grown from the previous version's (see _graph_growth)
    graph_removed: int | None  # passages removed from the graph since it was built whole; None: no graph


class Chunks(Protocol):
    """One article as the build chunked it: its spans, and the texts embedded for them."""

    @property
    def info(self) -> ArticleInfo: ...

    @property
    def passages(self) -> Sequence[Any]: ...

    @property
    def sentences(self) -> Sequence[Any]: ...

    def passage_texts(self) -> list[str]: ...

    def sentence_texts(self) -> list[str]: ...


def write_vectors(
    building: Path,
    chunked: Sequence[Chunks],
    embedder: Embedder,
    kind: DenseIndex,
    previous: IndexReader | None,
    progress: bool,
) -> WrittenVectors:
    """Passage and sentence vectors (float16 files) and the FAISS index over the passages; an
    unchanged article's vectors are copied from ``previous``, and ``previous``'s HNSW graph grown
    where it can be."""
    import faiss
    from tqdm import tqdm

    counts = [(len(c.passages), len(c.sentences)) for c in chunked]
    reused: set[str] = set()
    # Each passage's number in ``previous`` where its vector is copied from there, else -1.
    origin = np.full(sum(p for p, _ in counts), -1, dtype=np.int64)
    dimension = embedder.dimension
    total = sum(p + s for p, s in counts)
    with (
        _RowWriter(building / PASSAGE_VECTORS, sum(p for p, _ in counts), dimension) as passages,
        _RowWriter(building / SENTENCE_VECTORS, sum(s for _, s in counts), dimension) as sentences,
        tqdm(total=total, desc="embedding", unit="text", disable=not progress or not total) as bar,
    ):
        for block in _blocks(chunked, counts):
            kept = [_reusable_rows(previous, chunked[i], counts[i]) for i in block]
            texts = [
                text
                for i, old in zip(block, kept, strict=True)
                if old is None
                for text in chunked[i].passage_texts() + chunked[i].sentence_texts()
            ]
            fresh = _encode_sorted(embedder, texts, bar.update)
            cursor = 0
            for i, old in zip(block, kept, strict=True):
                if old is not None:
                    origin[passages.written : passages.written + len(old.passage_rows)] = old.passage_rows
                    passages.write(old.passages)
                    sentences.write(old.sentences)
                    reused.add(chunked[i].info.doc_id)
                    bar.update(sum(counts[i]))
                    continue
                p, s = counts[i]
                passages.write(fresh[cursor : cursor + p])
                sentences.write(fresh[cursor + p : cursor + p + s])
                cursor += p + s
    stored = np.load(building / PASSAGE_VECTORS, mmap_mode="r")
    removed = _removed(previous, origin)
    graph = _growable_graph(previous, kind, origin, removed)
    if graph is not None:
        index = _graph_growth.grow(graph, stored, origin)
    else:
        index = build_dense_index(stored, kind)
    faiss.write_index(index, str(building / "dense.faiss"))
    if kind is DenseIndex.HNSW:  # exact scans a subset as cheaply; compact is for a small memory
        write_subset_codes(building, stored)
    if kind is not DenseIndex.HNSW:
        return WrittenVectors(reused, grown=False, graph_removed=None)
    if graph is None:
        return WrittenVectors(reused, grown=False, graph_removed=0)
    return WrittenVectors(reused, grown=True, graph_removed=removed)


def _removed(previous: IndexReader | None, origin: npt.NDArray[np.int64]) -> int:
    """Passages removed from ``previous``'s graph since it was built whole, counting this update's."""
    if previous is None:
        return 0
    before = int(previous.manifest.get(GRAPH_REMOVED) or 0)  # none recorded: built whole
    return before + len(previous.passages) - int((origin >= 0).sum())


def _growable_graph(
    previous: IndexReader | None, kind: DenseIndex, origin: npt.NDArray[np.int64], removed: int
) -> Any:
    """``previous``'s HNSW graph, read afresh, where this update grows it rather than build one:
    the same kind of graph (:func:`can_grow`), some of its passages kept, and not too many
    (``removed``) removed since it was built whole (:data:`index._graph_growth.MAX_REMOVED_SHARE`).
    Else None."""
    import faiss

    if previous is None or kind is not DenseIndex.HNSW or previous.manifest.get("dense_index") != kind.value:
        return None
    limit = _graph_growth.MAX_REMOVED_SHARE * origin.shape[0]
    if not (origin >= 0).any() or removed > limit:
        return None
    try:
        graph = faiss.read_index(str(previous.path / "dense.faiss"))
    except RuntimeError:  # then the graph is built whole, as a build does
        return None
    return graph if _graph_growth.can_grow(graph, len(previous.passages)) else None


def _blocks(chunked: Sequence[Chunks], counts: list[tuple[int, int]]) -> Iterator[list[int]]:
    """Consecutive articles holding about _BLOCK_TEXTS texts together."""
    block: list[int] = []
    size = 0
    for i in range(len(chunked)):
        block.append(i)
        size += sum(counts[i])
        if size >= _BLOCK_TEXTS:
            yield block
            block, size = [], 0
    if block:
        yield block


def _reusable_rows(
    previous: IndexReader | None, item: Chunks, count: tuple[int, int]
) -> StoredVectors | None:
    old = previous.vectors_for(item.info) if previous is not None else None
    if old is None or (old.passages.shape[0], old.sentences.shape[0]) != count:
        return None
    return old


def _encode_sorted(
    embedder: Embedder, texts: list[str], advance: Callable[[int], Any]
) -> npt.NDArray[np.float16]:
    """``texts`` embedded in length order (less padding), returned in their own order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float16)
    for lo in range(0, len(order), _EMBED_STEP):
        rows = order[lo : lo + _EMBED_STEP]
        out[rows] = embedder.encode([texts[i] for i in rows]).astype(np.float16)
        advance(len(rows))
    return out


class _RowWriter:
    """Rows appended to a ``.npy`` file whose shape is known in advance (written sequentially, so
    the rows go to the page cache, not into this process's memory)."""

    def __init__(self, path: Path, rows: int, dimension: int) -> None:
        self._path = path
        self._expected = rows
        self.written = 0
        self._file = path.open("wb")
        header = {"descr": np.dtype(np.float16).str, "fortran_order": False, "shape": (rows, dimension)}
        np.lib.format.write_array_header_1_0(self._file, header)

    def write(self, rows: npt.NDArray[Any]) -> None:
        self._file.write(np.ascontiguousarray(rows, dtype=np.float16).tobytes())
        self.written += int(rows.shape[0])

    def __enter__(self) -> _RowWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._file.close()
        if kind is None and self.written != self._expected:
            raise BuildError(f"{self._path}: wrote {self.written} rows, expected {self._expected}")
