"""Searching the vectors within a subset of passages (an answer limited to the outlets it names)
through a compact copy of them, read outlet by outlet.

FAISS searches a subset by walking the whole index behind a bitmap and reading each chosen vector
where it lies. At 1M passages an outlet's vectors are scattered, and each cost ~200 ns against ~38
read in order: 13 ms of an answer's 33 on its caller's chain. This copy holds each passage vector
projected onto its :data:`DIMENSIONS` principal components at 8 bits (128 bytes against 768), and
is held grouped by outlet, so an outlet's passages are read in order. Its best :data:`RESCORED`
are then scored exactly from the index's own vectors. On MultiHop-RAG's real vectors (55k
sentences as the collection, 300 questions), that kept 0.9995 of the exact top 100 on average
(0.97 at worst); the top 500 rescored kept 0.9966.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index._errors import IndexCorruptError

SUBSET_CODES = "subset_codes.npy"
# The projection onto the principal components, then one more row: each component's code step.
SUBSET_PROJECTION = "subset_projection.npy"
DIMENSIONS = 128
# Passages rescored exactly: at least RESCORED, and RESCORED_SHARE of a large subset's. On the 55k
# vectors above the share of the exact top 100 kept fell with the share rescored: 0.9995 at 1.8%,
# 0.9966 at 0.9%, 0.9685 at 0.4%.
RESCORED = 1000
RESCORED_SHARE = 0.01
# Vectors the projection and the code ranges are learned from.
_SAMPLE = 100_000
_BLOCK = 65_536
# The compact scan reads every passage of the outlets a subset touches. Past this many of those
# per passage in the subset (a subset of a few days across outlets), FAISS's bitmap search reads
# less.
_ROWS_PER_CHOSEN = 2


def write_subset_codes(directory: Path, vectors: npt.NDArray[np.float16]) -> None:
    """The compact copy of ``vectors`` (passage order) and its projection, written to ``directory``;
    nothing for fewer than two vectors, which have no components to learn."""
    if vectors.shape[0] < 2:
        return
    dimension = int(vectors.shape[1])
    kept = min(DIMENSIONS, dimension)
    sample = np.sort(np.random.default_rng(0).permutation(vectors.shape[0])[:_SAMPLE])
    learned = np.asarray(vectors[sample], dtype=np.float32)
    # Centring does not change the ranking: it adds the same amount to every passage's score.
    _, axes = np.linalg.eigh(np.cov(learned, rowvar=False))
    projection = np.ascontiguousarray(axes[:, ::-1][:, :kept], dtype=np.float32)
    projected = learned @ projection
    low, high = projected.min(axis=0), projected.max(axis=0)
    step = np.maximum(high - low, 1e-12) / 255
    codes = np.lib.format.open_memmap(
        directory / SUBSET_CODES, mode="w+", dtype=np.uint8, shape=(vectors.shape[0], kept)
    )
    for start in range(0, vectors.shape[0], _BLOCK):
        block = np.asarray(vectors[start : start + _BLOCK], dtype=np.float32) @ projection
        codes[start : start + _BLOCK] = np.clip(np.rint((block - low) / step), 0, 255)
    codes.flush()
    del codes
    np.save(directory / SUBSET_PROJECTION, np.vstack([projection, step]).astype(np.float32))


@dataclass(frozen=True)
class SubsetScan:
    """The compact copy in outlet order: ``codes[i]`` is passage ``passage_of[i]``'s, and outlet
    ``o``'s rows are ``bounds[o]:bounds[o + 1]``."""

    codes: npt.NDArray[np.uint8]
    passage_of: npt.NDArray[np.int64]
    bounds: npt.NDArray[np.int64]
    projection: npt.NDArray[np.float32]
    step: npt.NDArray[np.float32]

    @classmethod
    def load(
        cls, directory: Path, passage_of: npt.NDArray[np.int64], bounds: npt.NDArray[np.int64]
    ) -> SubsetScan | None:
        """The copy in ``directory`` regrouped into the order ``passage_of`` gives (every passage,
        grouped by outlet; outlet ``o``'s from ``bounds[o]``), or None for an index built without one."""
        if not (directory / SUBSET_CODES).exists():
            return None
        try:
            stored = np.load(directory / SUBSET_CODES, mmap_mode="r", allow_pickle=False)
            matrix = np.load(directory / SUBSET_PROJECTION, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"{directory}: unreadable subset vectors ({exc}); rebuild the index"
            ) from None
        if stored.ndim != 2 or stored.shape[0] != passage_of.shape[0] or matrix.shape[1:] != stored.shape[1:]:
            raise IndexCorruptError(
                f"{directory / SUBSET_CODES}: shape {stored.shape} does not match the index's "
                f"{passage_of.shape[0]} passages and the projection's {matrix.shape}; rebuild the index"
            )
        codes = np.empty(stored.shape, dtype=np.uint8)
        for start in range(0, stored.shape[0], _BLOCK):
            codes[start : start + _BLOCK] = stored[passage_of[start : start + _BLOCK]]
        return cls(codes, passage_of, bounds, matrix[:-1], matrix[-1])

    def candidates(
        self,
        query: npt.NDArray[np.float32],
        allowed: npt.NDArray[np.int64],
        passage_outlet: npt.NDArray[np.integer[Any]],
        inside: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.int64] | None:
        """Up to :data:`RESCORED` passages of ``allowed`` (``inside`` its mask) nearest ``query`` by
        the compact copy (more for a large subset, see :data:`RESCORED_SHARE`), or None when
        reading the outlets it touches would read too much."""
        touched = np.flatnonzero(np.bincount(passage_outlet[allowed], minlength=self.bounds.shape[0] - 1))
        starts, stops = self.bounds[touched], self.bounds[touched + 1]
        if int((stops - starts).sum()) > _ROWS_PER_CHOSEN * allowed.shape[0]:
            return None
        from index._subset_kernels import best_rows

        weights = (query @ self.projection) * self.step
        keep = max(RESCORED, int(RESCORED_SHARE * allowed.shape[0]))
        return np.sort(best_rows(self.codes, self.passage_of, starts, stops, inside, weights, keep))
