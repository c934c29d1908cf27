"""An update grows the previous HNSW graph: the new numbering, links to removed passages cut, and
search as good as a graph built whole."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
import pytest

from config import DenseIndex, Settings
from index import BUNDLED_CORPUS, IndexReader, _graph_growth, build_index
from index._dense import build_dense_index, search
from index._graph_growth import can_grow, grow
from tests.index.vectors import clustered


def _links(index: Any) -> list[list[list[int]]]:
    """Each node's neighbour lists, level by level, as FAISS stores them (-1 ends a list)."""
    graph = index.hnsw
    levels = faiss.vector_to_array(graph.levels)
    offsets = faiss.vector_to_array(graph.offsets).astype(np.int64)
    cum = faiss.vector_to_array(graph.cum_nneighbor_per_level)
    flat = faiss.vector_to_array(graph.neighbors)
    return [
        [flat[offsets[i] + cum[level] : offsets[i] + cum[level + 1]].tolist() for level in range(levels[i])]
        for i in range(index.ntotal)
    ]


def _recall(index: Any, vectors: npt.NDArray[np.float16], queries: npt.NDArray[np.float32]) -> float:
    exact = np.asarray(vectors, dtype=np.float32) @ queries.T
    found = 0
    for q, query in enumerate(queries):
        ids, _ = search(index, query, 10, None, ef_search=128)
        found += len(set(ids.tolist()) & set(np.argsort(-exact[:, q])[:10].tolist()))
    return found / (10 * len(queries))


def _update(
    previous: npt.NDArray[np.float16], removed: int, new: npt.NDArray[np.float16], seed: int = 7
) -> tuple[npt.NDArray[np.float16], npt.NDArray[np.int64]]:
    """A new version's vectors: ``previous`` less ``removed`` of them plus ``new``, shuffled as
    outlet-by-outlet numbering shuffles them; and each row's previous number or -1."""
    rng = np.random.default_rng(seed)
    kept = rng.permutation(previous.shape[0])[removed:]
    origin = rng.permutation(np.concatenate([kept, np.full(new.shape[0], -1)]))
    vectors = np.empty((origin.shape[0], previous.shape[1]), dtype=np.float16)
    vectors[origin >= 0] = previous[origin[origin >= 0]]
    vectors[origin < 0] = new
    return vectors, origin.astype(np.int64)


def test_a_grown_graph_holds_the_new_numbering_and_searches_as_well_as_one_built_whole() -> None:
    pool = clustered(7000)  # the same topics before, in the update and in the questions
    previous, new, queries = pool[:6000], pool[6000:6600], np.asarray(pool[6600:], dtype=np.float32)
    vectors, origin = _update(previous, removed=600, new=new)
    grown = grow(build_dense_index(previous, DenseIndex.HNSW), vectors, origin)
    built = build_dense_index(vectors, DenseIndex.HNSW)

    assert grown.ntotal == vectors.shape[0]
    stored = faiss.downcast_index(grown.storage).reconstruct_n(0, grown.ntotal)
    np.testing.assert_array_equal(stored.astype(np.float16), vectors)
    assert _recall(grown, vectors, queries) >= _recall(built, vectors, queries) - 0.01
    own = [search(grown, np.asarray(v, dtype=np.float32), 1, None, 128)[0][0] for v in vectors[::7]]
    assert np.mean(np.asarray(own) == np.arange(0, vectors.shape[0], 7)) >= 0.99


def test_kept_links_are_carried_over_and_links_to_removed_passages_cut() -> None:
    previous = clustered(3000, seed=3)
    old = build_dense_index(previous, DenseIndex.HNSW)
    before = _links(old)
    vectors, origin = _update(previous, removed=150, new=clustered(200, seed=4))
    after = _links(grow(old, vectors, origin))
    renumbered = {int(o): row for row, o in enumerate(origin) if o >= 0}

    carried = total = 0
    for row, o in enumerate(origin):
        for links in after[row]:
            valid = [v for v in links if v >= 0]
            assert links == valid + [-1] * (len(links) - len(valid))  # FAISS stops at the first -1
            assert all(v < len(after) for v in valid)
        if o >= 0:  # a kept node keeps its links to kept passages, renumbered (new ones may push some out)
            for level, links in enumerate(before[o]):
                kept = {renumbered[v] for v in links if v >= 0 and v in renumbered}
                carried += len(kept & set(after[row][level]))
                total += len(kept)
    assert carried > 0.95 * total


def test_removing_the_entry_point_leaves_a_searchable_graph() -> None:
    previous = clustered(2000, seed=5)
    old = build_dense_index(previous, DenseIndex.HNSW)
    entry = int(old.hnsw.entry_point)
    origin = np.asarray([i for i in range(2000) if i != entry] + [-1], dtype=np.int64)
    vectors = np.concatenate([previous[origin[:-1]], clustered(1, seed=6)])
    grown = grow(old, vectors, origin)
    levels = faiss.vector_to_array(grown.hnsw.levels)
    assert grown.hnsw.max_level == levels.max() - 1 == levels[grown.hnsw.entry_point] - 1
    assert search(grown, np.asarray(vectors[-1], dtype=np.float32), 1, None, 128)[0][0] == 1999


@pytest.mark.parametrize(
    ("origin", "message"),
    [([0, 1], "2 origins for 3 vectors"), ([0, 0, -1], "the same previous"), ([0, 9, -1], "outside")],
)
def test_origins_that_do_not_fit_the_graph_are_refused(origin: list[int], message: str) -> None:
    old = build_dense_index(clustered(5), DenseIndex.HNSW)
    with pytest.raises(ValueError, match=message):
        grow(old, clustered(3), np.asarray(origin, dtype=np.int64))


def test_only_a_float16_graph_of_the_passages_can_grow() -> None:
    vectors = clustered(500)
    assert can_grow(build_dense_index(vectors, DenseIndex.HNSW), 500)
    assert not can_grow(build_dense_index(vectors, DenseIndex.HNSW), 499)
    assert not can_grow(build_dense_index(vectors, DenseIndex.COMPACT), 500)
    assert not can_grow(build_dense_index(vectors, DenseIndex.EXACT), 500)


def _hnsw(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"index": settings.index.model_copy(update={"dense_index": DenseIndex.HNSW})}
    )


def _updated(settings: Settings, source: Path, target: Path, embedder: Any) -> tuple[IndexReader, list[str]]:
    said: list[str] = []
    previous = IndexReader.open(target)
    build_index(
        settings, sources=[source], index_dir=target, embedder=embedder, previous=previous, log=said.append
    )
    return IndexReader.open(target), said


def _passages_of(reader: IndexReader, doc_id: str) -> int:
    number = reader.article_index(doc_id)
    assert number is not None
    return len(reader.article_passages(number))


def _finds_each_passage(reader: IndexReader) -> None:
    for p in range(len(reader.passages)):
        ids, _ = reader.dense_search(reader.passage_rows(np.asarray([p]))[0], 1)
        assert ids[0] == p


def test_an_update_grows_the_graph_until_removals_pass_their_share(
    tmp_path: Path, settings: Settings, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hnsw, source, target = _hnsw(settings), tmp_path / "src", tmp_path / "idx"
    shutil.copytree(BUNDLED_CORPUS, source)
    build_index(hnsw, sources=[source], index_dir=target, embedder=embedder)
    assert IndexReader.open(target).manifest["graph_removed"] == 0

    (source / "new.txt").write_text("A new headline\nThe talks resumed on Monday.\n", encoding="utf-8")
    reader, said = _updated(hnsw, source, target, embedder)
    assert "grew the previous version's HNSW graph instead of building it again" in said
    assert reader.manifest["graph_removed"] == 0
    _finds_each_passage(reader)

    monkeypatch.setattr(_graph_growth, "MAX_REMOVED_SHARE", 0.5)
    removed = _passages_of(reader, "new")
    (source / "new.txt").unlink()
    reader, said = _updated(hnsw, source, target, embedder)
    assert any(line.startswith("grew") for line in said)
    assert reader.manifest["graph_removed"] == removed
    _finds_each_passage(reader)

    # Removals count across updates: this edit alone stays under the share, with the last one's over it.
    first = sorted(source.glob("*.txt"))[0]
    edited = _passages_of(reader, first.stem)
    monkeypatch.setattr(_graph_growth, "MAX_REMOVED_SHARE", (removed + edited - 0.5) / len(reader.passages))
    first.write_text(first.read_text(encoding="utf-8").replace("Istanbul", "Istanbul, Turkey"), "utf-8")
    reader, said = _updated(hnsw, source, target, embedder)
    assert not any(line.startswith("grew") for line in said)  # built whole: the count starts again
    assert reader.manifest["graph_removed"] == 0
    _finds_each_passage(reader)


def test_an_exact_index_records_no_graph(seed_index: Path) -> None:
    assert IndexReader.open(seed_index).manifest["graph_removed"] is None
