"""Embedding a build's passages and sentences into float16 files, a block of articles at a time.

A block's texts are embedded in length order (less padding) and its vectors appended to the files
in article order, so a build holds one block's texts and vectors, not every sentence's: at a million
passages the six million sentence vectors alone are 4.6 GB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from config import DenseIndex
from index._article import ArticleInfo
from index._dense import build_dense_index
from index._embed import Embedder
from index._errors import BuildError
from index._subset_scan import write_subset_codes

if TYPE_CHECKING:
    from index._reader import IndexReader

PASSAGE_VECTORS = "passage_vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
# Texts embedded per call: large enough for the model's own batching, small enough for a live bar.
_EMBED_STEP = 256
# Texts per block (see above): enough for length order to matter, a few MB of vectors.
_BLOCK_TEXTS = 16_384


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
) -> set[str]:
    """Passage and sentence vectors (float16 files) and the FAISS index over the passages; an
    unchanged article's vectors are copied from ``previous``. Returns the reused articles' ids."""
    import faiss
    from tqdm import tqdm

    counts = [(len(c.passages), len(c.sentences)) for c in chunked]
    reused: set[str] = set()
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
                    passages.write(old[0])
                    sentences.write(old[1])
                    reused.add(chunked[i].info.doc_id)
                    bar.update(sum(counts[i]))
                    continue
                p, s = counts[i]
                passages.write(fresh[cursor : cursor + p])
                sentences.write(fresh[cursor + p : cursor + p + s])
                cursor += p + s
    stored = np.load(building / PASSAGE_VECTORS, mmap_mode="r")
    faiss.write_index(build_dense_index(stored, kind), str(building / "dense.faiss"))
    if kind is DenseIndex.HNSW:  # exact scans a subset as cheaply; compact is for a small memory
        write_subset_codes(building, stored)
    return reused


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
) -> tuple[npt.NDArray[np.float16], npt.NDArray[np.float16]] | None:
    old = previous.vectors_for(item.info) if previous is not None else None
    if old is None or (old[0].shape[0], old[1].shape[0]) != count:
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
        self._written = 0
        self._file = path.open("wb")
        header = {"descr": np.dtype(np.float16).str, "fortran_order": False, "shape": (rows, dimension)}
        np.lib.format.write_array_header_1_0(self._file, header)

    def write(self, rows: npt.NDArray[Any]) -> None:
        self._file.write(np.ascontiguousarray(rows, dtype=np.float16).tobytes())
        self._written += int(rows.shape[0])

    def __enter__(self) -> _RowWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._file.close()
        if kind is None and self._written != self._expected:
            raise BuildError(f"{self._path}: wrote {self._written} rows, expected {self._expected}")
