"""Chunks: at most max_tokens model tokens, whole sentences, one sentence of overlap, exact offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from index import IndexReader, _prepare, build_index, model_dir
from index._chunk import chunk_sentences, fit_sentences
from index._sentences import sentence_spans
from index._tokens import ApproxTokenCounter, ModelTokenCounter


def test_seed_index_chunks_respect_the_token_limit_and_offsets(seed_index: Path, settings: Settings) -> None:
    directory = model_dir(settings.model)
    assert directory is not None
    counter = ModelTokenCounter(directory / "tokenizer.json", "m")
    reader = IndexReader.open(seed_index)
    for p in range(reader.passages.shape[0]):
        article, start, end = reader.passage_span(p)
        text = reader.passage_text(p)
        assert text == reader.article_text(article)[start:end] and text == text.strip()
        assert len(counter.token_spans(text)) <= settings.chunk.max_tokens
        sentences = reader.passage_sentences(p)
        assert (
            reader.sentence_span(sentences.start)[1] == start
            and reader.sentence_span(sentences.stop - 1)[2] == end
        )


def test_consecutive_chunks_overlap_by_one_sentence(seed_index: Path) -> None:
    reader = IndexReader.open(seed_index)
    for p in range(reader.passages.shape[0] - 1):
        here, there = reader.passage_sentences(p), reader.passage_sentences(p + 1)
        if reader.passage_span(p)[0] == reader.passage_span(p + 1)[0]:
            assert there.start == here.stop - 1


def test_an_overlong_sentence_is_split_at_token_boundaries(settings: Settings) -> None:
    directory = model_dir(settings.model)
    assert directory is not None
    counter = ModelTokenCounter(directory / "tokenizer.json", "m")
    text = "Headline\n\n" + " ".join(f"word{i}" for i in range(400)) + "."
    found = sentence_spans(text)
    counted = counter.token_counts([text[s:e] for s, e in found])
    spans, counts = fit_sentences(text, found, counter, 50, counted)
    assert max(counts) <= 50 and len(spans) > 2
    chunks = chunk_sentences(spans, counts, 50, 1)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    assert all(len(counter.token_spans(text[c.start : c.end])) <= 50 for c in chunks)


def test_token_counts_are_the_token_spans_counted(settings: Settings) -> None:
    directory = model_dir(settings.model)
    assert directory is not None
    texts = ["", "Talks lasted about an hour.", "Çırağan Palace, İstanbul: 90-minute session!", "x " * 300]
    for counter in (ModelTokenCounter(directory / "tokenizer.json", "m"), ApproxTokenCounter()):
        assert counter.token_counts(texts) == [len(counter.token_spans(t)) for t in texts]


def test_counting_in_blocks_gives_the_same_chunks(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sentences are counted many articles at a time; where the blocks end changes nothing."""
    whole = build_index(settings, index_dir=tmp_path / "whole", embedder=None)
    monkeypatch.setattr(_prepare, "_COUNTED_TOGETHER", 2)  # the five bundled articles in three blocks
    blocks = build_index(settings, index_dir=tmp_path / "blocks", embedder=None)
    for name in ("passages.npy", "sentences.npy", "texts.bin"):
        assert (whole.index_dir / whole.version / name).read_bytes() == (
            blocks.index_dir / blocks.version / name
        ).read_bytes()
