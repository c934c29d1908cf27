"""Building an index version: read, clean, chunk, embed, index, publish."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from config import Settings
from index._article import Article, ArticleInfo, Problem
from index._bm25 import Bm25Index, build_bm25, term_upper_bounds
from index._bm25_reuse import bm25_keeping
from index._bm25_tokenizer import Bm25Tokenizer
from index._dedup import near_duplicates
from index._dense import chosen_kind
from index._embed import Embedder, model_dir
from index._errors import BuildError
from index._prepare import Spans, article_spans, cleaned_article, indexed_text, iso_day
from index._readers import discover, read_articles
from index._reuse import (
    SOURCE_HASHES,
    Kept,
    kept_articles,
    kept_chunks,
    pipeline_fingerprint,
    source_hash,
    source_hash_array,
)
from index._store import FORMAT_NAME, FORMAT_VERSION, new_building_dir, publish, writer_lock
from index._tokens import token_counter_for
from index._vectors import GRAPH_REMOVED, write_vectors

if TYPE_CHECKING:
    from index._reader import IndexReader

BUNDLED_CORPUS = Path(__file__).parent / "corpus"


@dataclass
class BuildReport:
    """What a build or update did."""

    index_dir: Path
    version: str
    articles: int
    passages: int
    sentences: int
    outlets: int
    mode: str
    embedded_articles: int
    reused_articles: int
    removed_articles: int
    seconds: float
    skipped: list[Problem] = field(default_factory=list)
    model_problem: str | None = None


@dataclass
class _Chunked:
    article: Article
    sentences: list[tuple[int, int]]
    passages: list[tuple[int, int, int, int]]  # start, end, first sentence, last sentence (article-local)

    @property
    def info(self) -> ArticleInfo:
        return self.article.info

    def passage_texts(self) -> list[str]:
        return [
            indexed_text(self.info, self.article.text, start, end) for start, end, _f, _l in self.passages
        ]

    def sentence_texts(self) -> list[str]:
        return [self.article.text[start:end] for start, end in self.sentences]


def default_sources(settings: Settings) -> list[Path]:
    return list(settings.index.sources) or [BUNDLED_CORPUS]


def build_index(
    settings: Settings,
    *,
    sources: Sequence[Path] | None = None,
    index_dir: Path | None = None,
    embedder: Embedder | None,
    model_problem: str | None = None,
    previous: IndexReader | None = None,
    progress: bool = False,
    log: Callable[[str], None] = lambda _m: None,
) -> BuildReport:
    """Build a complete new version from ``sources`` and make it current.

    With ``previous`` (an update), articles whose content hash and settings are unchanged keep their
    vectors instead of being embedded again; articles no longer in the sources are dropped.
    """
    started = time.perf_counter()
    target = index_dir or settings.index.dir
    sources = list(sources or default_sources(settings))
    paths, problems = discover(sources)
    raw, unreadable = read_articles(paths)
    problems += unreadable
    if not raw:
        detail = "; ".join(str(p) for p in problems[:5]) or "no .txt, .md, .html, .json or .jsonl files"
        raise BuildError(f"no readable article in {', '.join(map(str, sources))}: {detail}")

    counter = token_counter_for(model_dir(settings.model), settings.model.name)
    chunking = {
        "max_tokens": settings.chunk.max_tokens,
        "overlap_sentences": settings.chunk.overlap_sentences,
        "tokenizer": counter.name,
    }
    pipeline = pipeline_fingerprint(chunking)
    hashes = [source_hash(r) for r in raw]
    kept = kept_articles(previous, raw, hashes, pipeline)
    if kept:
        log(f"kept the cleaned text and chunks of {len(kept)} unchanged article(s)")
    cleaned = [kept[r.doc_id].article if r.doc_id in kept else cleaned_article(r, chunking) for r in raw]
    articles = _with_duplicates(cleaned, settings.index.duplicate_containment)
    # Numbered outlet by outlet (stable: each outlet's articles in source order), so an outlet's
    # passages are one run of passage numbers, which BM25 scores through each term's postings in
    # that range alone (see index._bm25_top).
    articles.sort(key=lambda article: article.info.outlet)
    fresh = article_spans(
        articles, counter, settings.chunk.max_tokens, settings.chunk.overlap_sentences, kept
    )
    chunked = _in_order(articles, fresh, kept, previous)

    dense = embedder is not None
    if embedder is not None:
        embedder.warm_up()
    model_info = {"name": embedder.name, "dimension": embedder.dimension} if embedder is not None else None
    reusable = _reusable(previous, model_info, chunking)
    with writer_lock(target):
        building = new_building_dir(target)
        _write_texts_and_spans(building, chunked)
        by_id = {r.doc_id: h for r, h in zip(raw, hashes, strict=True)}
        np.save(building / SOURCE_HASHES, source_hash_array([by_id[a.info.doc_id] for a in articles]))
        reused_ids: set[str] = set()
        graph_removed = None
        passages = sum(len(c.passages) for c in chunked)
        kind = chosen_kind(settings.index.dense_index, passages, settings.index.hnsw_min_passages)
        if embedder is not None:
            written = write_vectors(building, chunked, embedder, kind, reusable, progress)
            reused_ids, graph_removed = written.reused, written.graph_removed
            if reused_ids:
                log(f"reused the vectors of {len(reused_ids)} unchanged article(s)")
            if written.grown:
                log("grew the previous version's HNSW graph instead of building it again")
        tokenizer = Bm25Tokenizer.from_settings(settings.bm25.model_dump())
        bm25 = _write_bm25(building, chunked, tokenizer, settings, previous, kept, log)
        dates = sorted(a.info.published for a in articles if a.info.published)
        removed = sorted(set(previous.doc_ids) - {a.info.doc_id for a in articles}) if previous else []
        manifest: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "quotedesk_version": _version(),
            "sources": [str(p) for p in sources],
            "mode": "hybrid" if dense else "bm25",
            "model": model_info,
            "dense_index": kind.value if dense else None,
            GRAPH_REMOVED: graph_removed,
            "model_problem": None if dense else model_problem,
            "chunking": chunking,
            "pipeline": pipeline,
            "embedded_text": "outlet (when known) and headline, then the passage",
            "bm25": {
                "k1": bm25.k1,
                "b": bm25.b,
                "epsilon": settings.bm25.epsilon,
                "avgdl": bm25.avgdl,
                "tokenizer": tokenizer.settings(),
            },
            "counts": {
                "articles": len(articles),
                "outlets": len({a.info.outlet for a in articles}),
                "passages": sum(len(c.passages) for c in chunked),
                "sentences": sum(len(c.sentences) for c in chunked),
            },
            "dates": {
                "first": iso_day(dates[0]) if dates else None,
                "last": iso_day(dates[-1]) if dates else None,
            },
            "articles": {a.info.doc_id: a.info.content_hash for a in articles},
            "skipped": [{"where": p.where, "reason": p.reason} for p in problems],
        }
        version = publish(target, building, manifest)
    counts = manifest["counts"]
    return BuildReport(
        index_dir=target,
        version=version,
        articles=counts["articles"],
        passages=counts["passages"],
        sentences=counts["sentences"],
        outlets=counts["outlets"],
        mode=manifest["mode"],
        embedded_articles=len(articles) - len(reused_ids) if dense else 0,
        reused_articles=len(reused_ids),
        removed_articles=len(removed),
        seconds=time.perf_counter() - started,
        skipped=problems,
        model_problem=manifest["model_problem"],
    )


def _with_duplicates(articles: list[Article], containment: float) -> list[Article]:
    pairs = near_duplicates([a.text for a in articles], containment)
    if not pairs:
        return articles
    result = []
    for i, article in enumerate(articles):
        others = tuple(articles[j].info.doc_id for j, _ in sorted(pairs.get(i, []), key=lambda p: -p[1]))
        info = article.info
        if others:
            info = replace(info, near_duplicates=others)
        result.append(Article(info=info, text=article.text))
    return result


def _in_order(
    articles: list[Article], spans: dict[str, Spans], kept: dict[str, Kept], previous: IndexReader | None
) -> list[_Chunked]:
    """Every article's chunks in ``articles``' order; ``kept`` ones read from ``previous``."""
    held = [a.info.doc_id for a in articles if a.info.doc_id in kept]
    if held:
        assert previous is not None
        spans.update(zip(held, kept_chunks(previous, [kept[d] for d in held]), strict=True))
    return [_Chunked(a, *spans[a.info.doc_id]) for a in articles]


def _write_texts_and_spans(building: Path, chunked: list[_Chunked]) -> None:
    offsets = np.zeros((len(chunked), 2), dtype=np.int64)
    passages: list[tuple[int, int, int, int, int]] = []
    sentences: list[tuple[int, int, int]] = []
    with (building / "texts.bin").open("wb") as texts, (building / "articles.jsonl").open("w") as meta:
        position = 0
        for a, item in enumerate(chunked):
            data = item.article.text.encode("utf-8")
            texts.write(data)
            offsets[a] = (position, position + len(data))
            position += len(data)
            meta.write(json.dumps(item.article.info.to_json(), ensure_ascii=False) + "\n")
            base = len(sentences)
            sentences.extend((a, s, e) for s, e in item.sentences)
            passages.extend((a, s, e, base + f, base + last) for s, e, f, last in item.passages)
    np.save(building / "article_offsets.npy", offsets)
    np.save(building / "passages.npy", np.asarray(passages, dtype=np.int64).reshape(-1, 5))
    np.save(building / "sentences.npy", np.asarray(sentences, dtype=np.int64).reshape(-1, 3))


def _reusable(
    previous: IndexReader | None, model_info: dict[str, Any] | None, chunking: dict[str, Any]
) -> IndexReader | None:
    if previous is None or model_info is None or not previous.has_vectors:
        return None
    if previous.manifest.get("model") != model_info or previous.manifest.get("chunking") != chunking:
        return None
    return previous


def _write_bm25(
    building: Path,
    chunked: list[_Chunked],
    tokenizer: Bm25Tokenizer,
    settings: Settings,
    previous: IndexReader | None,
    kept: dict[str, Kept],
    log: Callable[[str], None],
) -> Any:
    bm25 = _kept_bm25(chunked, tokenizer, settings, previous, kept)
    if bm25 is not None:
        log(f"read the BM25 postings of {len(kept)} unchanged article(s) from the previous version")
    else:
        corpus = (tokenizer(text) for item in chunked for text in item.passage_texts())
        bm25 = build_bm25(corpus, k1=settings.bm25.k1, b=settings.bm25.b, epsilon=settings.bm25.epsilon)
    vocabulary = sorted(bm25.vocabulary, key=bm25.vocabulary.__getitem__)
    (building / "bm25_vocab.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    np.save(building / "bm25_indptr.npy", bm25.indptr)
    np.save(building / "bm25_docs.npy", bm25.docs)
    np.save(building / "bm25_tfs.npy", bm25.tfs)
    np.save(building / "bm25_idf.npy", bm25.idf)
    np.save(building / "bm25_doclen.npy", bm25.doc_lengths)
    np.save(building / "bm25_upper.npy", bm25.upper if bm25.upper is not None else term_upper_bounds(bm25))
    return bm25


def _kept_bm25(
    chunked: list[_Chunked],
    tokenizer: Bm25Tokenizer,
    settings: Settings,
    previous: IndexReader | None,
    kept: dict[str, Kept],
) -> Bm25Index | None:
    """BM25 from ``previous``'s postings for the ``kept`` articles' passages (their indexed texts and
    tokenizer unchanged) and the others' tokens; None where that cannot be (a full build)."""
    if previous is None or not kept or previous.manifest["bm25"]["tokenizer"] != tokenizer.settings():
        return None
    old = previous.bm25
    if "\x00" in old.vocabulary:  # a placeholder for a corpus without a token (see build_bm25)
        return None
    parts = []
    for c in chunked:
        if c.info.doc_id in kept:
            rows = previous.article_passages(kept[c.info.doc_id].number)
            parts.append(np.arange(rows.start, rows.stop, dtype=np.int64))
        else:
            parts.append(np.full(len(c.passages), -1, dtype=np.int64))
    origin = np.concatenate(parts)
    fresh = (tokenizer(text) for c in chunked if c.info.doc_id not in kept for text in c.passage_texts())
    bm = settings.bm25
    return bm25_keeping(old, origin, fresh, k1=bm.k1, b=bm.b, epsilon=bm.epsilon)


def _version() -> str:
    try:
        return metadata.version("quotedesk")
    except metadata.PackageNotFoundError:
        return "0+unknown"
