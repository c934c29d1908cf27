"""BM25 made from the previous version's postings and the new passages' tokens is, array for array,
what a build of the same passages makes."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from config import Settings
from index import BUNDLED_CORPUS, IndexReader, build_index
from index._bm25 import Bm25Index, build_bm25
from index._bm25_reuse import bm25_keeping

_PARAMETERS = {"k1": 1.2, "b": 0.5, "epsilon": 0.25}


def _corpus(count: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    return [rng.choices(words, k=rng.randrange(0, 30)) for _ in range(count)]


def _assert_same(made: Bm25Index | None, built: Bm25Index) -> None:
    assert made is not None
    assert list(made.vocabulary.items()) == list(built.vocabulary.items())
    for name in ("indptr", "docs", "tfs", "idf", "doc_lengths", "upper"):
        expected = getattr(built, name)
        got = getattr(made, name)
        assert got.dtype == expected.dtype, name
        np.testing.assert_array_equal(got, expected, err_msg=name)
    assert made.avgdl == built.avgdl


@pytest.mark.parametrize("shuffled", [False, True])
def test_kept_postings_and_new_tokens_make_what_a_build_makes(shuffled: bool) -> None:
    before = _corpus(400, seed=1)
    previous = build_bm25(before, **_PARAMETERS)
    rng = np.random.default_rng(2)
    kept = np.sort(rng.choice(400, 300, replace=False))  # a quarter removed, with terms only they held
    if shuffled:  # kept passages in another order than before (sources reordered)
        kept = rng.permutation(kept)
    origin = rng.permutation(np.concatenate([kept, np.full(80, -1)]))
    if not shuffled:  # kept passages keep their order, new ones land between them
        origin[origin >= 0] = kept
    fresh = [*_corpus(80, seed=3), ["a-term-no-passage-had"]]
    origin = np.append(origin, -1)
    rows = iter(fresh)
    after = [before[o] if o >= 0 else next(rows) for o in origin]

    made = bm25_keeping(previous, origin, fresh, **_PARAMETERS)
    _assert_same(made, build_bm25(after, **_PARAMETERS))


def test_nothing_new_and_nothing_at_all() -> None:
    before = _corpus(50, seed=4)
    previous = build_bm25(before, **_PARAMETERS)
    origin = np.arange(10, 50)
    _assert_same(bm25_keeping(previous, origin, [], **_PARAMETERS), build_bm25(before[10:], **_PARAMETERS))
    origin = np.random.default_rng(5).permutation(origin)  # sources reordered, nothing new
    after = [before[o] for o in origin]
    _assert_same(bm25_keeping(previous, origin, [], **_PARAMETERS), build_bm25(after, **_PARAMETERS))
    empty = np.asarray([i for i, tokens in enumerate(before) if not tokens] + [-1])
    assert bm25_keeping(previous, empty, [[]], **_PARAMETERS) is None


def test_an_update_with_another_tokenizer_tokenizes_again(tmp_path: Path, settings: Settings) -> None:
    source, target = tmp_path / "src", tmp_path / "idx"
    shutil.copytree(BUNDLED_CORPUS, source)
    build_index(settings, sources=[source], index_dir=target, embedder=None)
    other = settings.model_copy(update={"bm25": settings.bm25.model_copy(update={"stemmer": "none"})})
    said: list[str] = []
    previous = IndexReader.open(target)
    build_index(other, sources=[source], index_dir=target, embedder=None, previous=previous, log=said.append)
    build_index(other, sources=[source], index_dir=tmp_path / "fresh", embedder=None)
    assert not any("BM25" in line for line in said)
    updated, fresh = IndexReader.open(target), IndexReader.open(tmp_path / "fresh")
    assert updated.bm25.vocabulary == fresh.bm25.vocabulary
    np.testing.assert_array_equal(updated.bm25.docs, fresh.bm25.docs)


def test_a_new_passage_repeating_a_word_widens_the_counts_as_a_build_does() -> None:
    before = _corpus(30, seed=6)
    previous = build_bm25(before, **_PARAMETERS)
    assert previous.tfs.dtype == np.uint8
    fresh = [["w1"] * 300]
    origin = np.append(np.arange(30), -1)
    made = bm25_keeping(previous, origin, fresh, **_PARAMETERS)
    _assert_same(made, build_bm25([*before, *fresh], **_PARAMETERS))
    assert made is not None and made.tfs.dtype == np.uint16
