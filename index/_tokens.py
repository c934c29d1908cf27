"""Counting and splitting text in the embedding model's own word pieces."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

_APPROX = re.compile(r"\w+|[^\w\s]")
# Word-piece tokenizers split long or rare words; one piece per four letters overestimates them,
# so an approximate count never lets a chunk exceed the model's window.
_LETTERS_PER_PIECE = 4


class TokenCounter(Protocol):
    """Counts and locates the tokens of texts."""

    name: str

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character offsets of each token of ``text``, special tokens excluded."""
        ...

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """How many tokens each of ``texts`` has, special tokens excluded."""
        ...


class ModelTokenCounter:
    """The model's own tokenizer, read from ``tokenizer.json`` without importing torch."""

    def __init__(self, tokenizer_file: Path, name: str) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.name = name

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return list(self._tokenizer.encode(text, add_special_tokens=False).offsets)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        # One call for many texts, and without offsets (tokenizers 0.21's encode_batch_fast): a build
        # counts every sentence, and one call each took a quarter of a 100k-passage build.
        encode = getattr(self._tokenizer, "encode_batch_fast", self._tokenizer.encode_batch)
        return [len(encoding) for encoding in encode(list(texts), add_special_tokens=False)]


class ApproxTokenCounter:
    """Used when the model's tokenizer is not available (BM25-only builds); errs on the high side."""

    name = "approximate"

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for match in _APPROX.finditer(text):
            start, end = match.span()
            pieces = max(1, math.ceil((end - start) / _LETTERS_PER_PIECE))
            step = math.ceil((end - start) / pieces)
            spans.extend((s, min(s + step, end)) for s in range(start, end, step))
        return spans

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [len(self.token_spans(text)) for text in texts]


def token_counter_for(model_dir: Path | None, name: str) -> TokenCounter:
    if model_dir is not None and (model_dir / "tokenizer.json").is_file():
        return ModelTokenCounter(model_dir / "tokenizer.json", name)
    return ApproxTokenCounter()
