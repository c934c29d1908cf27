"""Sentence spans with pysbd, paragraph by paragraph, located exactly in the text."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

_PARAGRAPH = re.compile(r"[^\n]+")


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of each sentence; sentences never cross a line break."""
    spans: list[tuple[int, int]] = []
    for paragraph in _PARAGRAPH.finditer(text):
        base = paragraph.start()
        block = paragraph.group()
        cursor = 0
        for piece in _segmenter().segment(block):
            found = block.find(piece.strip(), cursor)
            if found < 0 or not piece.strip():
                continue
            end = found + len(piece.strip())
            spans.append((base + found, base + end))
            cursor = end
        if cursor < len(block.rstrip()):
            # pysbd may drop or rewrite a tail; keep every character of the paragraph quotable.
            start = len(block) - len(block[cursor:].lstrip())
            spans.append((base + start, base + len(block.rstrip())))
    return spans
