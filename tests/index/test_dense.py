"""The FAISS index kinds: chosen by size, close to exact search, and searchable within a subset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from config import DenseIndex, Settings
from index import IndexCorruptError, IndexReader, _dense
from index._dense import EXACT_SUBSET_SHARE, build_dense_index, chosen_kind, search
from index._huge_pages import HUGE_PAGE
from tests.index.vectors import built_as, clustered


def _exact(vectors: Any, query: npt.NDArray[np.float32], k: int) -> list[int]:
    similarity = np.asarray(vectors, dtype=np.float32) @ query
    return [int(i) for i in np.argsort(-similarity, kind="stable")[:k]]


def test_auto_is_exact_below_the_threshold_and_hnsw_from_it() -> None:
    assert chosen_kind(DenseIndex.AUTO, 199_999, 200_000) is DenseIndex.EXACT
    assert chosen_kind(DenseIndex.AUTO, 200_000, 200_000) is DenseIndex.HNSW
    assert chosen_kind(DenseIndex.COMPACT, 10, 200_000) is DenseIndex.COMPACT


@pytest.mark.parametrize(
    ("kind", "recall"), [(DenseIndex.EXACT, 1.0), (DenseIndex.HNSW, 0.95), (DenseIndex.COMPACT, 0.9)]
)
def test_each_kind_finds_the_nearest_passages(kind: DenseIndex, recall: float) -> None:
    vectors = clustered(5000)
    index = build_dense_index(vectors, kind)
    queries = np.asarray(clustered(50, seed=1), dtype=np.float32)
    found = 0
    for query in queries:
        ids, _ = search(index, query, 10, None, ef_search=128)
        found += len(set(ids.tolist()) & set(_exact(vectors, query, 10)))
    assert found / (10 * len(queries)) >= recall


@pytest.mark.parametrize("kind", [DenseIndex.EXACT, DenseIndex.HNSW])
@pytest.mark.parametrize("share", [0.01, EXACT_SUBSET_SHARE, 0.4])
def test_search_within_a_subset_stays_in_it(kind: DenseIndex, share: float) -> None:
    vectors = clustered(5000, dimension=16)
    index = build_dense_index(vectors, kind)
    size = int(share * vectors.shape[0])
    allowed = np.sort(np.random.default_rng(2).choice(vectors.shape[0], size, replace=False)).astype(np.int64)
    query = np.asarray(vectors[int(allowed[0])], dtype=np.float32)
    ids, scores = search(index, query, 10, allowed, ef_search=128)
    assert len(ids) == 10 and set(ids.tolist()) <= set(allowed.tolist())
    assert ids[0] == allowed[0] and list(scores) == sorted(scores, reverse=True)
    if kind is DenseIndex.EXACT or share <= EXACT_SUBSET_SHARE:  # scanned: exact
        subset = {int(i): j for j, i in enumerate(allowed)}
        expected = _exact(vectors[allowed], query, 10)
        assert [subset[int(i)] for i in ids] == expected


def test_a_filtered_graph_search_finds_the_subsets_nearest(monkeypatch: pytest.MonkeyPatch) -> None:
    # FAISS filters HNSW's results, not its walk; without widening the walk by the subset's share,
    # a 5% subset kept a fraction of its true nearest neighbours.
    monkeypatch.setattr(_dense, "EXACT_SUBSET_SHARE", 0)
    vectors = clustered(20_000)
    index = build_dense_index(vectors, DenseIndex.HNSW)
    rng = np.random.default_rng(4)
    found = expected = 0
    for query in np.asarray(clustered(30, seed=5), dtype=np.float32):
        allowed = np.sort(rng.choice(vectors.shape[0], 1000, replace=False)).astype(np.int64)
        ids, _ = search(index, query, 10, allowed, ef_search=128)
        exact = {int(allowed[i]) for i in _exact(vectors[allowed], query, 10)}
        found += len(exact & set(ids.tolist()))
        expected += len(exact)
    assert found / expected >= 0.9


@pytest.fixture(scope="module")
def reader_of(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, embedder: Any, seed_index: Path
) -> Callable[[DenseIndex], IndexReader]:
    """The bundled corpus's index with each kind of dense index, each built once for this module
    (the session's seed index is the exact one)."""
    readers: dict[DenseIndex, IndexReader] = {}

    def of(kind: DenseIndex) -> IndexReader:
        if kind not in readers:
            readers[kind] = (
                IndexReader.open(seed_index)
                if kind is DenseIndex.EXACT
                else built_as(kind, tmp_path_factory.mktemp(kind.value), settings, embedder)
            )
        return readers[kind]

    return of


def test_the_build_records_and_serves_the_chosen_kind(
    reader_of: Callable[[DenseIndex], IndexReader],
) -> None:
    reader = reader_of(DenseIndex.COMPACT)
    assert reader.manifest["dense_index"] == "compact"
    assert hasattr(reader.dense_index, "hnsw")
    passage = reader.passage_rows(np.array([3], dtype=np.int64))[0]
    ids, _ = reader.dense_search(passage, 5)
    assert ids[0] == 3


def test_stored_vectors_widen_to_the_same_float32_values() -> None:
    half = clustered(300, dimension=384)
    np.testing.assert_array_equal(_dense.as_float32(half), half.astype(np.float32))
    assert _dense.as_float32(half[:0]).shape == (0, 384)


@pytest.mark.parametrize("kind", [DenseIndex.EXACT, DenseIndex.HNSW, DenseIndex.COMPACT])
def test_the_index_lends_its_vectors_only_where_it_holds_them_exactly(kind: DenseIndex) -> None:
    vectors = clustered(500, dimension=16)
    stored = _dense.stored_vectors(build_dense_index(vectors, kind))
    if kind is DenseIndex.COMPACT:  # 8-bit codes: near the vectors, not them
        assert stored is None
        return
    assert stored is not None
    np.testing.assert_array_equal(_dense.widened(stored), vectors.astype(np.float32))
    assert not stored.flags.writeable
    assert _dense.stored_vectors(build_dense_index(vectors[:0], kind)) is None


@pytest.mark.parametrize("kind", [DenseIndex.EXACT, DenseIndex.HNSW, DenseIndex.COMPACT])
def test_huge_pages_back_only_a_graph_and_change_nothing_it_finds(kind: DenseIndex) -> None:
    vectors = clustered(12_000, dimension=384)  # an HNSW index's vectors span several huge pages
    index = build_dense_index(vectors, kind)
    queries = np.asarray(clustered(20, seed=1, dimension=384), dtype=np.float32)
    before = [search(index, query, 10, None, ef_search=128) for query in queries]
    collapsed = _dense.back_graph_with_huge_pages(index)
    assert collapsed % HUGE_PAGE == 0
    if kind is DenseIndex.EXACT:  # scanned in order: no graph to walk
        assert collapsed == 0
    after = [search(index, query, 10, None, ef_search=128) for query in queries]
    for (ids, scores), (ids_after, scores_after) in zip(before, after, strict=True):
        np.testing.assert_array_equal(ids, ids_after)
        np.testing.assert_array_equal(scores, scores_after)


@pytest.mark.parametrize("kind", [DenseIndex.EXACT, DenseIndex.HNSW, DenseIndex.COMPACT])
def test_passage_rows_are_the_files_rows_from_wherever_they_are_read(
    kind: DenseIndex, reader_of: Callable[[DenseIndex], IndexReader]
) -> None:
    reader = reader_of(kind)
    assert reader.manifest["dense_index"] == kind.value
    assert (reader._stored_passage_vectors is None) == (kind is DenseIndex.COMPACT)
    rows = np.array([0, 2, 3, 7, len(reader.passage_article) - 1], dtype=np.int64)
    from_file = _dense.as_float32(reader.passage_vectors.rows(rows))
    np.testing.assert_array_equal(reader.passage_rows(rows), from_file)
    assert reader.passage_rows(rows[:0]).shape == (0, from_file.shape[1])
    for outside in (-1, len(reader.passage_article)):
        with pytest.raises(IndexError):
            reader.passage_rows(np.array([1, outside], dtype=np.int64))


def test_a_faiss_index_that_does_not_hold_the_passage_vectors_is_reported(
    reader_of: Callable[[DenseIndex], IndexReader],
) -> None:
    built = reader_of(DenseIndex.EXACT)
    count, dimension = built.passage_vectors.shape
    reader = IndexReader(built.path, built.manifest)  # not loaded yet
    reader.__dict__["dense_index"] = build_dense_index(clustered(count - 1, dimension), DenseIndex.EXACT)
    said = rf"dense\.faiss: {count - 1} vectors .* has {count} .* rebuild"
    with pytest.raises(IndexCorruptError, match=said):
        reader.load_all()


@pytest.mark.parametrize("kind", [DenseIndex.EXACT, DenseIndex.HNSW, DenseIndex.COMPACT])
def test_chosen_passages_are_rescored_as_the_index_scores_them(kind: DenseIndex) -> None:
    vectors = clustered(2000, dimension=16)
    index = build_dense_index(vectors, kind)
    chosen = np.arange(0, 2000, 3, dtype=np.int64)
    query = np.asarray(vectors[9], dtype=np.float32)
    ids, scores = _dense.rescored(index, query, 10, chosen)
    expected_ids, expected_scores = search(index, query, 10, chosen, ef_search=128)  # a scan: exact
    assert ids.tolist() == expected_ids.tolist()
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-6)
