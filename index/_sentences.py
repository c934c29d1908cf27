"""Sentence spans with sentencex, paragraph by paragraph, located exactly in the text."""

from __future__ import annotations

import re

from sentencex import segment

_PARAGRAPH = re.compile(r"[^\n]+")
_LANGUAGE = "en"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of each sentence; sentences never cross a line break."""
    spans: list[tuple[int, int]] = []
    for paragraph in _PARAGRAPH.finditer(text):
        base = paragraph.start()
        block = paragraph.group()
        cursor = 0
        for piece in segment(_LANGUAGE, block):
            sentence = piece.strip()
            found = block.find(sentence, cursor) if sentence else -1
            if found < 0:
                continue
            end = found + len(sentence)
            spans.append((base + found, base + end))
            cursor = end
        if cursor < len(block.rstrip()):
            # Should the splitter drop or rewrite a tail, every character of the paragraph stays quotable.
            start = len(block) - len(block[cursor:].lstrip())
            spans.append((base + start, base + len(block.rstrip())))
    return spans
