"""Sentence-aware chunks of at most ``max_tokens`` model tokens, overlapping by whole sentences."""

from __future__ import annotations

from dataclasses import dataclass

from index._tokens import TokenCounter


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage: ``text[start:end]`` of its article, made of sentences ``[first, last)``."""

    start: int
    end: int
    first: int
    last: int


def fit_sentences(
    text: str, spans: list[tuple[int, int]], counter: TokenCounter, max_tokens: int, counts: list[int]
) -> tuple[list[tuple[int, int]], list[int]]:
    """Split any sentence longer than ``max_tokens`` at token boundaries; return spans and token counts.

    ``counts`` are the sentences' token counts (``counter.token_counts``, many articles' at once)."""
    fitted: list[tuple[int, int]] = []
    fitted_counts: list[int] = []
    for (start, end), count in zip(spans, counts, strict=True):
        if count <= max_tokens:
            fitted.append((start, end))
            fitted_counts.append(count)
            continue
        tokens = counter.token_spans(text[start:end])
        for i in range(0, len(tokens), max_tokens):
            piece = tokens[i : i + max_tokens]
            fitted.append((start + piece[0][0], start + piece[-1][1]))
            fitted_counts.append(len(piece))
    return fitted, fitted_counts


def chunk_sentences(
    spans: list[tuple[int, int]], counts: list[int], max_tokens: int, overlap: int
) -> list[Chunk]:
    """Greedy packing of whole sentences; each chunk after the first repeats ``overlap`` sentences."""
    chunks: list[Chunk] = []
    first = 0
    while first < len(spans):
        last = first
        total = 0
        # Word-piece tokenizers split on whitespace first, so a chunk's count is the sum of its sentences'.
        while last < len(spans) and total + counts[last] <= max_tokens:
            total += counts[last]
            last += 1
        last = max(last, first + 1)
        chunks.append(Chunk(spans[first][0], spans[last - 1][1], first, last))
        if last >= len(spans):
            break
        first = max(first + 1, last - overlap)
    return chunks
