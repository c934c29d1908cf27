"""Vectors and indexes the dense-search tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from config import DenseIndex, Settings
from index import IndexReader, build_index


def clustered(count: int, dimension: int = 48, seed: int = 0) -> npt.NDArray[np.float16]:
    """Unit vectors around a few hundred centres, as topics cluster real passages."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, dimension))
    vectors = centres[rng.integers(0, 200, count)] + 0.4 * rng.standard_normal((count, dimension))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float16)


def built_as(kind: DenseIndex, directory: Path, settings: Settings, embedder: Any) -> IndexReader:
    """The bundled corpus built into ``directory`` with a dense index of ``kind``, opened."""
    chosen = settings.model_copy(update={"index": settings.index.model_copy(update={"dense_index": kind})})
    build_index(chosen, index_dir=directory, embedder=embedder)
    return IndexReader.open(directory)
