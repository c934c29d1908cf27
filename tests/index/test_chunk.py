"""Chunks: at most max_tokens model tokens, whole sentences, one sentence of overlap, exact offsets."""

from __future__ import annotations

from pathlib import Path

from config import Settings
from index import IndexReader, model_dir
from index._chunk import chunk_sentences, fit_sentences
from index._sentences import sentence_spans
from index._tokens import ModelTokenCounter


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
    spans, counts = fit_sentences(text, sentence_spans(text), counter, 50)
    assert max(counts) <= 50 and len(spans) > 2
    chunks = chunk_sentences(spans, counts, 50, 1)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    assert all(len(counter.token_spans(text[c.start : c.end])) <= 50 for c in chunks)
