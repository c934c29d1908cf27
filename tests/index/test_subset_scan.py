"""The compact copy of the vectors that searches within a subset, outlet by outlet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from config import DenseIndex, Settings
from index import IndexReader, _dense, _subset_scan
from index._dense import build_dense_index
from index._errors import IndexCorruptError
from index._subset_scan import SubsetScan, write_subset_codes
from tests.index.vectors import built_as, clustered

_OUTLETS = 6


def _outlets(count: int) -> npt.NDArray[np.uint8]:
    """Each passage's outlet, in runs of an article's passages, the outlets taking turns unevenly."""
    rng = np.random.default_rng(3)
    return np.repeat(rng.integers(0, _OUTLETS, count // 8 + 1), 8)[:count].astype(np.uint8)


def _scan(tmp_path: Path, vectors: npt.NDArray[np.float16], outlet: npt.NDArray[np.uint8]) -> SubsetScan:
    write_subset_codes(tmp_path, vectors)
    order = np.argsort(outlet, kind="stable").astype(np.int64)
    scan = SubsetScan.load(tmp_path, order, np.searchsorted(outlet[order], np.arange(_OUTLETS + 1)))
    assert scan is not None
    return scan


def _nearest(
    scan: SubsetScan, index: Any, query: npt.NDArray[np.float32], allowed: npt.NDArray[np.int64], outlet: Any
) -> npt.NDArray[np.int64] | None:
    inside = np.zeros(outlet.shape[0], dtype=bool)
    inside[allowed] = True
    chosen = scan.candidates(query, allowed, outlet, inside)
    return None if chosen is None else _dense.rescored(index, query, 10, chosen)[0]


def _exact(vectors: Any, query: npt.NDArray[np.float32], allowed: npt.NDArray[np.int64]) -> set[int]:
    similarity = np.asarray(vectors[allowed], dtype=np.float32) @ query
    return {int(allowed[i]) for i in np.argsort(-similarity, kind="stable")[:10]}


def test_the_copy_is_grouped_by_outlet_and_holds_every_passage(tmp_path: Path) -> None:
    vectors = clustered(3000, 48)
    outlet = _outlets(3000)
    scan = _scan(tmp_path, vectors, outlet)
    assert sorted(scan.passage_of.tolist()) == list(range(3000))
    for o in range(_OUTLETS):
        rows = scan.passage_of[scan.bounds[o] : scan.bounds[o + 1]]
        assert np.array_equal(rows, np.flatnonzero(outlet == o))
    stored = np.load(tmp_path / _subset_scan.SUBSET_CODES)
    assert np.array_equal(scan.codes, stored[scan.passage_of])


@pytest.mark.parametrize("rescored", [_subset_scan.RESCORED, 150])
def test_an_outlets_nearest_passages_are_found_through_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rescored: int
) -> None:
    monkeypatch.setattr(_subset_scan, "RESCORED", rescored)
    vectors = clustered(6000, 48)
    outlet = _outlets(6000)
    scan = _scan(tmp_path, vectors, outlet)
    index = build_dense_index(vectors, DenseIndex.HNSW)
    found = 0
    queries = np.asarray(clustered(40, 48, seed=1), dtype=np.float32)
    for i, query in enumerate(queries):
        allowed = np.flatnonzero(np.isin(outlet, [i % _OUTLETS, (i + 1) % _OUTLETS])).astype(np.int64)
        ids = _nearest(scan, index, query, allowed, outlet)
        assert ids is not None and set(ids.tolist()) <= set(allowed.tolist())
        found += len(set(ids.tolist()) & _exact(vectors, query, allowed))
    # ~2,000 passages a subset: every one rescored at 1000 except the furthest, a few at 150.
    assert found / (10 * len(queries)) >= (0.99 if rescored == _subset_scan.RESCORED else 0.9)


def test_a_subset_thinly_spread_over_the_outlets_is_left_to_faiss(tmp_path: Path) -> None:
    vectors = clustered(3000, 48)
    outlet = _outlets(3000)
    scan = _scan(tmp_path, vectors, outlet)
    index = build_dense_index(vectors, DenseIndex.HNSW)
    query = np.asarray(vectors[5], dtype=np.float32)
    some_days = np.arange(0, 3000, 7, dtype=np.int64)  # every outlet, a seventh of each
    assert _nearest(scan, index, query, some_days, outlet) is None
    whole_outlets = np.flatnonzero(outlet < 2).astype(np.int64)
    assert _nearest(scan, index, query, whole_outlets, outlet) is not None


def test_an_hnsw_build_serves_an_outlets_passages_through_the_copy(
    tmp_path: Path, settings: Settings, embedder: Any
) -> None:
    reader = built_as(DenseIndex.HNSW, tmp_path, settings, embedder)
    assert reader.subset_scan is not None
    assert _subset_scan.SUBSET_CODES in reader.manifest["files"]
    query = reader.passage_rows(np.array([2], dtype=np.int64))[0]
    for outlet in reader.outlets:
        allowed = reader.outlet_passages(outlet)
        ids, scores = reader.dense_search(query, 5, allowed)
        # The bundled corpus's outlets are smaller than RESCORED: every passage is scored exactly.
        expected_ids, expected_scores = _dense.search(reader.dense_index, query, 5, allowed, ef_search=128)
        assert ids.tolist() == expected_ids.tolist()
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)


def test_an_exact_index_has_no_copy(seed_index: Path) -> None:
    reader = IndexReader.open(seed_index)
    assert reader.manifest["dense_index"] == "exact"
    assert reader.subset_scan is None
    assert not (reader.path / _subset_scan.SUBSET_CODES).exists()


def test_a_copy_that_does_not_match_the_index_is_refused(tmp_path: Path) -> None:
    write_subset_codes(tmp_path, clustered(300, 48))
    order = np.arange(299, dtype=np.int64)
    with pytest.raises(IndexCorruptError, match="does not match the index's 299 passages"):
        SubsetScan.load(tmp_path, order, np.array([0, 299], dtype=np.int64))


def test_a_single_vector_has_no_copy(tmp_path: Path) -> None:
    write_subset_codes(tmp_path, clustered(1, 48))
    assert SubsetScan.load(tmp_path, np.zeros(1, dtype=np.int64), np.array([0, 1], dtype=np.int64)) is None
