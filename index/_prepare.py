"""What a build makes of each article before embedding: its cleaned text and metadata, then its
sentences and passages.

Nothing here depends on another article or on a previous version, so an update keeps what this
made of an unchanged article; :mod:`index._reuse` fingerprints this module's code for that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Container
from itertools import islice
from typing import Any

from index._article import Article, ArticleInfo, RawArticle
from index._chunk import chunk_sentences, fit_sentences
from index._clean import clean_paragraphs, normalise
from index._sentences import sentence_spans
from index._tokens import TokenCounter

# Articles whose sentences' tokens are counted in one call (~10,000 sentences at MultiHop-RAG's
# lengths). 2,000 texts a call count as fast as 80,000, which held 200 MB more at a 100k build's peak.
_COUNTED_TOGETHER = 128

# An article's sentences (start, end) and passages (start, end, first sentence, last sentence),
# offsets into its text and sentence numbers within it.
Spans = tuple[list[tuple[int, int]], list[tuple[int, int, int, int]]]


def cleaned_article(raw: RawArticle, chunking: dict[str, Any]) -> Article:
    """``raw`` cleaned: its headline first, its metadata normalised, and the hash an update compares
    to reuse its vectors (of the cleaned text and the ``chunking`` settings)."""
    title = normalise(raw.title).strip() or raw.doc_id
    text = "\n\n".join([title, *clean_paragraphs(raw)])
    outlet = normalise(raw.outlet).strip() if raw.outlet else ""
    fingerprint = json.dumps(
        [text, outlet, raw.url, raw.author, iso_day(raw.published), chunking], ensure_ascii=False
    ).encode()
    info = ArticleInfo(
        doc_id=raw.doc_id,
        title=title,
        source=raw.source,
        outlet=outlet or title,
        outlet_known=bool(outlet),
        published=raw.published,
        url=raw.url,
        author=raw.author,
        content_hash=hashlib.sha256(fingerprint).hexdigest(),
    )
    return Article(info=info, text=text)


def article_spans(
    articles: list[Article], counter: TokenCounter, max_tokens: int, overlap: int, kept: Container[str]
) -> dict[str, Spans]:
    """By doc_id, the sentences and passages of every article not ``kept``."""
    fresh = [article for article in articles if article.info.doc_id not in kept]
    spans: dict[str, Spans] = {}
    for first in range(0, len(fresh), _COUNTED_TOGETHER):
        block = fresh[first : first + _COUNTED_TOGETHER]
        found_in = [sentence_spans(article.text) for article in block]
        texts = [article.text[s:e] for article, found in zip(block, found_in, strict=True) for s, e in found]
        counts = iter(counter.token_counts(texts))
        for article, found in zip(block, found_in, strict=True):
            fitted, fitted_counts = fit_sentences(
                article.text, found, counter, max_tokens, list(islice(counts, len(found)))
            )
            chunks = chunk_sentences(fitted, fitted_counts, max_tokens, overlap)
            spans[article.info.doc_id] = (fitted, [(c.start, c.end, c.first, c.last) for c in chunks])
    return spans


def iso_day(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def passage_context(info: ArticleInfo, start: int) -> str:
    """What is embedded and indexed ahead of a passage; the first passage already holds the headline."""
    parts = [info.outlet] if info.outlet_known else []
    if start > 0:
        parts.append(info.title)
    return "\n".join(parts)


def indexed_text(info: ArticleInfo, text: str, start: int, end: int) -> str:
    """What is embedded and put in BM25 for the passage ``text[start:end]``: its context, then it."""
    context = passage_context(info, start)
    return f"{context}\n{text[start:end]}" if context else text[start:end]
