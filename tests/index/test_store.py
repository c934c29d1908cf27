"""The index directory: atomic swap, failed builds, corruption, locking, model mismatch, update."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from config import Settings, load_settings
from index import (
    BuildError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexReader,
    _vectors,
    build_index,
    current_version_name,
)
from index._prepare import indexed_text
from index._store import writer_lock
from retrieval import Retriever


class CountingEmbedder:
    """The real model, counting what it is asked to embed."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dimension, self.texts = inner, inner.name, inner.dimension, 0

    def warm_up(self) -> None:
        self.inner.warm_up()

    def encode(self, texts: Any, *, progress: bool = False) -> Any:
        self.texts += len(texts)
        return self.inner.encode(texts)

    def batches(self, texts: Any, ways: int = 1) -> Any:
        return self.inner.batches(texts, ways)


def _articles(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"a{i}.txt").write_text(
            f"Headline {i}\nArticle {i} says the meeting lasted {i + 1} hours.\n", encoding="utf-8"
        )
    return folder


def test_rebuild_swaps_current_and_keeps_one_previous(
    tmp_path: Path, settings: Settings, embedder: Any
) -> None:
    source, target = _articles(tmp_path / "src", 2), tmp_path / "idx"
    names = [
        build_index(settings, sources=[source], index_dir=target, embedder=embedder).version for _ in range(3)
    ]
    assert current_version_name(target) == names[-1]
    assert sorted(p.name for p in target.glob("v-*")) == sorted(names[-2:])
    assert not list(target.glob(".building-*"))


def test_failed_build_leaves_last_good_index_serving(
    tmp_path: Path, settings: Settings, embedder: Any
) -> None:
    target = tmp_path / "idx"
    good = build_index(
        settings, sources=[_articles(tmp_path / "src", 2)], index_dir=target, embedder=embedder
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.json").write_text("{", encoding="utf-8")
    with pytest.raises(BuildError, match=r"x\.json: malformed JSON"):
        build_index(settings, sources=[broken], index_dir=target, embedder=embedder)
    assert current_version_name(target) == good.version
    assert IndexReader.open(target).manifest["counts"]["articles"] == 2


def test_stale_building_directory_is_invisible_and_cleaned(tmp_path: Path, settings: Settings) -> None:
    target = tmp_path / "idx"
    build_index(settings, sources=[_articles(tmp_path / "src", 1)], index_dir=target, embedder=None)
    stale = target / ".building-dead"
    stale.mkdir()
    (stale / "manifest.json").write_text("half", encoding="utf-8")
    assert IndexReader.open(target).manifest["counts"]["articles"] == 1
    build_index(settings, sources=[tmp_path / "src"], index_dir=target, embedder=None)
    assert not stale.exists()


@pytest.mark.parametrize(
    "victim", ["passages.npy", "texts.bin", "bm25_idf.npy", "dense.faiss", "articles.jsonl"]
)
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corruption_is_detected_naming_the_file(
    tmp_path: Path, seed_index: Path, victim: str, damage: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(seed_index, copy)
    path = next(copy.glob("v-*")) / victim
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=victim.replace(".", r"\.")):
        IndexReader.open(copy)


def test_missing_index_and_bad_pointer(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="quotedesk index build"):
        IndexReader.open(tmp_path / "nothing")
    (tmp_path / "CURRENT").write_text("v-does-not-exist\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="CURRENT"):
        IndexReader.open(tmp_path)


def test_second_writer_is_refused(tmp_path: Path, settings: Settings) -> None:
    target = tmp_path / "idx"
    with writer_lock(target), pytest.raises(BuildError, match="another build"):
        build_index(settings, sources=[_articles(tmp_path / "src", 1)], index_dir=target, embedder=None)


def test_index_from_another_model_is_refused(seed_index: Path) -> None:
    other = load_settings(model={"name": "some/other-model"})
    with pytest.raises(IndexMismatchError, match="built with the model"):
        Retriever.load(seed_index, settings=other)


def test_update_embeds_only_new_or_changed_and_drops_removed(
    tmp_path: Path, settings: Settings, embedder: Any
) -> None:
    source, target = _articles(tmp_path / "src", 3), tmp_path / "idx"
    build_index(settings, sources=[source], index_dir=target, embedder=embedder)
    first = IndexReader.open(target)
    old_vectors = first.passage_vectors.range(0, len(first.passage_vectors))
    old_sentence_vectors = first.sentence_vectors.range(0, len(first.sentence_vectors))

    (source / "a0.txt").write_text(
        "Headline 0\nArticle 0 now says the meeting lasted ninety minutes.\n", encoding="utf-8"
    )
    (source / "a2.txt").unlink()
    (source / "a3.txt").write_text("Headline 3\nA new article.\n", encoding="utf-8")
    counting = CountingEmbedder(embedder)
    report = build_index(settings, sources=[source], index_dir=target, embedder=counting, previous=first)
    assert (report.reused_articles, report.embedded_articles, report.removed_articles) == (1, 2, 1)
    updated = IndexReader.open(target)
    assert sorted(updated.doc_ids) == ["a0", "a1", "a3"]
    # Only a0 and a3 were embedded: their passages and sentences, nothing of a1.
    expected = sum(
        len(updated.article_passages(updated.article_index(d)))  # type: ignore[arg-type]
        + len(updated.article_sentences(updated.article_index(d)))  # type: ignore[arg-type]
        for d in ("a0", "a3")
    )
    assert counting.texts == expected
    a1_old, a1_new = first.article_index("a1"), updated.article_index("a1")
    assert a1_old is not None and a1_new is not None
    new_rows, old_rows = updated.article_passages(a1_new), first.article_passages(a1_old)
    np.testing.assert_array_equal(
        updated.passage_vectors.range(new_rows.start, new_rows.stop),
        old_vectors[old_rows.start : old_rows.stop],
    )
    new_sentences, old_sentences = updated.article_sentences(a1_new), first.article_sentences(a1_old)
    assert len(new_sentences) == len(old_sentences) > 0
    np.testing.assert_array_equal(
        updated.sentence_vectors.range(new_sentences.start, new_sentences.stop),
        old_sentence_vectors[old_sentences.start : old_sentences.stop],
    )


@pytest.mark.parametrize("block", [1, 5, 16_384])
def test_each_vector_row_is_its_own_texts_whatever_the_blocks(
    tmp_path: Path, settings: Settings, embedder: Any, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(_vectors, "_BLOCK_TEXTS", block)
    target = tmp_path / "idx"
    build_index(settings, sources=[_articles(tmp_path / "src", 4)], index_dir=target, embedder=embedder)
    reader = IndexReader.open(target)
    texts, stored = [], []
    for a, info in enumerate(reader.articles):
        text = reader.article_text(a)
        for p in reader.article_passages(a):
            texts.append(indexed_text(info, text, *reader.passage_span(p)[1:]))
            stored.append(reader.passage_vectors.range(p, p + 1)[0])
        for s in reader.article_sentences(a):
            texts.append(text[slice(*reader.sentence_span(s)[1:])])
            stored.append(reader.sentence_vectors.range(s, s + 1)[0])
    expected = embedder.encode(texts)
    similarity = np.sum(np.asarray(stored, dtype=np.float32) * expected, axis=1)
    assert len(texts) > 8 and np.min(similarity) > 0.99


def test_manifest_records_what_the_issue_asks(seed_index: Path) -> None:
    manifest = json.loads((next(seed_index.glob("v-*")) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == 2
    assert manifest["model"]["dimension"] == 384
    assert manifest["chunking"]["max_tokens"] == 200 and manifest["chunking"]["overlap_sentences"] == 1
    assert manifest["bm25"]["tokenizer"]["stemmer"] == "english"
    assert len(manifest["articles"]) == 5 and all(len(h) == 64 for h in manifest["articles"].values())
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())
    assert manifest["created_at"]


def test_an_open_version_keeps_serving_after_its_directory_is_deleted(
    tmp_path: Path, seed_index: Path, settings: Settings
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(seed_index, copy)
    retriever = Retriever.load(copy, settings=settings)
    retriever.index_dir = None  # pin this version: no refresh
    shutil.rmtree(next(copy.glob("v-*")))
    assert retriever.ask("How long did the talks last?").answered
    assert retriever.search("Ciragan Palace", k=1, mode="bm25")[0].text


def test_an_index_of_an_older_format_asks_for_a_rebuild(tmp_path: Path, seed_index: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(seed_index, copy)
    manifest_path = next(copy.glob("v-*")) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["format_version"] = 1
    del manifest["manifest_sha256"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="format 1 is not the supported 2"):
        IndexReader.open(copy)


def test_passages_where_and_passage_outlets_agree_with_the_articles(seed_index: Path) -> None:
    reader = IndexReader.open(seed_index)
    every = np.arange(len(reader.passage_article))
    article_of = [reader.articles[int(a)] for a in reader.passage_article]
    assert reader.passage_outlets(every) == [a.outlet for a in article_of]
    dates = sorted({a.published for a in reader.articles if a.published})
    assert dates, "the seeds should have dated articles"
    first, second = reader.outlets[:2]
    cases: list[tuple[list[str] | None, Any, Any]] = [
        (None, None, None),
        ([first], None, None),
        ([first, second, "no such outlet"], None, None),
        (None, dates[0], None),
        (None, None, dates[0]),
        ([second], dates[0], dates[-1]),
    ]
    for outlets, since, until in cases:
        expected = [
            pid
            for pid, info in enumerate(article_of)
            if (not outlets or info.outlet in outlets)
            and (since is None or (info.published is not None and info.published >= since))
            and (until is None or (info.published is not None and info.published <= until))
        ]
        got = reader.passages_where(outlets, since, until)
        assert got.dtype == np.int64 and got.tolist() == expected, (outlets, since, until)


def test_each_outlets_passages_are_one_run_of_passage_numbers(tmp_path: Path, settings: Settings) -> None:
    """The build numbers articles outlet by outlet, keeping the sources' order within each, so
    BM25 can score an outlet through its own range of each term's postings."""
    source = tmp_path / "src"
    source.mkdir()
    for i, outlet in enumerate(["Kyiv Post", "Anadolu", "Kyiv Post", "TASS", "Anadolu", "Kyiv Post"]):
        sentences = " ".join(f"Report {i} on the talks, sentence {j}." for j in range(60))
        (source / f"a{i}.txt").write_text(
            f"---\noutlet: {outlet}\n---\nTalks report {i}\n{sentences}\n", encoding="utf-8"
        )
    build_index(settings, sources=[source], index_dir=tmp_path / "idx", embedder=None, model_problem="test")
    reader = IndexReader.open(tmp_path / "idx")
    assert [a.outlet for a in reader.articles] == sorted(a.outlet for a in reader.articles)
    kyiv = [a.title for a in reader.articles if a.outlet == "Kyiv Post"]
    assert kyiv == ["Talks report 0", "Talks report 2", "Talks report 5"]
    for outlet in reader.outlets:
        passages = reader.outlet_passages(outlet)
        assert passages.shape[0] >= 3 and np.all(np.diff(passages) == 1), outlet


def test_sentence_spans_and_article_ranges_are_the_stored_tables_read_not_mapped(seed_index: Path) -> None:
    reader = IndexReader.open(seed_index)
    table = np.load(reader.path / "sentences.npy")
    passages = np.load(reader.path / "passages.npy")
    every = range(len(table))
    assert reader.sentence_spans(every) == [tuple(row) for row in table.tolist()]
    assert reader.sentence_spans([3, 0, 3]) == [tuple(table[i].tolist()) for i in (3, 0, 3)]
    assert reader.sentence_span(len(table) - 1) == tuple(table[-1].tolist())
    for article in range(len(reader.articles)):
        sentences = np.flatnonzero(table[:, 0] == article)
        assert reader.article_sentences(article) == range(sentences[0], sentences[-1] + 1)
        owned = np.flatnonzero(passages[:, 0] == article)
        assert reader.article_passages(article) == range(owned[0], owned[-1] + 1)
    assert reader.article_sentences(len(reader.articles)) == range(len(table), len(table))
    assert str(reader.path / "sentences.npy") not in Path("/proc/self/maps").read_text()


def test_a_sentence_of_no_article_is_reported_when_sentences_are_counted(
    tmp_path: Path, seed_index: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(seed_index, copy)
    path = next(copy.glob("v-*")) / "sentences.npy"
    table = np.load(path)
    table[-1, 0] = 999
    np.save(path, table)
    reader = IndexReader.open(copy, verify_checksums=False)
    with pytest.raises(IndexCorruptError, match=r"sentences\.npy: a sentence of no article"):
        reader.article_sentences(0)
