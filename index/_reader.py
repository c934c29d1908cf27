"""Opening an index version: manifest checked, small arrays and BM25's postings memory-mapped;
vectors, sentence spans and texts read from disk on demand."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index import _dense
from index._article import ArticleInfo
from index._bm25 import Bm25Index, term_upper_bounds
from index._bm25_tokenizer import Bm25Tokenizer
from index._errors import IndexCorruptError
from index._reuse import SOURCE_HASH_BYTES, SOURCE_HASHES
from index._rows import RowFile
from index._store import read_manifest, resolve_version, verify_files
from index._subset_scan import SubsetScan

# Article texts decoded and kept at once; answers touch a few dozen articles.
_TEXT_CACHE = 1024
_BM25_UPPER = "bm25_upper.npy"
# Rows of the sentence table read at once when counting each article's sentences (6 MB).
_SENTENCE_BLOCK = 1 << 18


@dataclass(frozen=True)
class StoredVectors:
    """An article's vectors in a version, and its passages' numbers there."""

    passage_rows: range
    passages: npt.NDArray[np.float16]
    sentences: npt.NDArray[np.float16]


class IndexReader:
    """A read-only view of one index version. Cheap to hold: passage texts stay on disk."""

    def __init__(self, version_dir: Path, manifest: dict[str, Any]) -> None:
        self.path = version_dir
        self.version = version_dir.name
        self.manifest = manifest
        self.articles = self._load_articles()
        self._by_id = {a.doc_id: i for i, a in enumerate(self.articles)}
        self.article_offsets = self._array("article_offsets.npy")
        self.passages = self._array("passages.npy")
        # Read, not mapped: an answer reads ~270 scattered spans, and through a map each faulted in
        # the pages around it, all kept: 131 of its 144 MB resident after 200 answers at 1M passages.
        self.sentences = self._rows("sentences.npy")
        self._texts = self._open_texts()
        # A function of the open file, not a bound method: the reader must hold no reference cycle,
        # so that it is freed as soon as a newer version replaces it, even with the cyclic collector
        # told to skip it (``gc.freeze``, as the bot does).
        self._article_text = lru_cache(maxsize=_TEXT_CACHE)(
            partial(_decode_article, self._texts, self.article_offsets, self.path / "texts.bin")
        )
        self._check_shapes()

    @classmethod
    def open(cls, index_dir: Path, *, verify_checksums: bool = True) -> IndexReader:
        """Open the current version under ``index_dir`` (or ``index_dir`` itself if it is a version)."""
        version = resolve_version(index_dir)
        manifest = read_manifest(version)
        verify_files(version, manifest, checksums=verify_checksums)
        reader = cls(version, manifest)
        reader.load_all()
        return reader

    def load_all(self) -> None:
        """Open every file now. A later build may delete this version's directory; what is open or
        memory-mapped stays readable, so a long-running reader never finds a file gone."""
        _ = self.bm25, self.bm25_tokenizer
        if self.has_vectors:
            _ = self.dense_index, self.passage_vectors, self.sentence_vectors, self.subset_scan
            _ = self._stored_passage_vectors

    # --- metadata -------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return str(self.manifest["mode"])

    @property
    def has_vectors(self) -> bool:
        return self.manifest.get("model") is not None

    @property
    def model_name(self) -> str | None:
        model = self.manifest.get("model")
        return None if model is None else str(model["name"])

    @property
    def doc_ids(self) -> list[str]:
        return [a.doc_id for a in self.articles]

    @cached_property
    def outlets(self) -> list[str]:
        return sorted({a.outlet for a in self.articles})

    @cached_property
    def known_outlets(self) -> list[str]:
        """Outlets named by their articles (not guessed from a file name)."""
        return sorted({a.outlet for a in self.articles if a.outlet_known})

    @cached_property
    def _article_sentence_starts(self) -> npt.NDArray[np.int64]:
        """Where each article's sentences begin, then where the last one ends. Counted once, a
        block of rows at a time: an update asks for every article's sentences (73k articles at 1M
        passages), and a search of the table per article read a row per step."""
        articles = len(self.articles)
        counts = np.zeros(articles, dtype=np.int64)
        for start in range(0, len(self.sentences), _SENTENCE_BLOCK):
            owners = self.sentences.range(start, min(start + _SENTENCE_BLOCK, len(self.sentences)))[:, 0]
            if owners.size and (int(owners.min()) < 0 or int(owners.max()) >= articles):
                raise IndexCorruptError(
                    f"{self.path / 'sentences.npy'}: a sentence of no article in 0..{articles - 1}; rebuild"
                )
            counts += np.bincount(owners, minlength=articles)
        return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    @cached_property
    def passage_article(self) -> npt.NDArray[np.int64]:
        return np.ascontiguousarray(self.passages[:, 0])

    def outlet_passages(self, outlet: str) -> npt.NDArray[np.int64]:
        """The passage numbers of one outlet, ascending."""
        return self._passages_by_outlet.get(outlet, np.zeros(0, dtype=np.int64))

    def passages_where(
        self, outlets: Sequence[str] | None, since: dt.date | None, until: dt.date | None
    ) -> npt.NDArray[np.int64]:
        """Passages of articles from one of ``outlets`` (any if None) published within the dates."""
        keep: npt.NDArray[np.bool_] | None = None
        if outlets:
            # Compared per passage, not gathered from an article-level mask: at 1M passages 0.5
            # against 1.5 ms, and most answers name an outlet.
            codes = self._passage_outlet
            keep = np.zeros(len(codes), dtype=bool)
            for code in {self._outlet_codes[o] for o in outlets if o in self._outlet_codes}:
                keep |= codes == code
        if since is not None or until is not None:
            dated = np.ones(len(self.articles), dtype=bool)
            day = self._article_day
            if since is not None:
                dated &= day >= since.toordinal()
            if until is not None:
                dated &= (day >= 0) & (day <= until.toordinal())
            in_dates = dated[self.passage_article]
            keep = in_dates if keep is None else keep & in_dates
        if keep is None:
            return np.arange(len(self.passage_article), dtype=np.int64)
        return np.flatnonzero(keep).astype(np.int64)

    def passage_outlets(self, passages: npt.NDArray[np.int64]) -> list[str]:
        """The outlet of each of ``passages``."""
        names = self.outlets
        return [names[code] for code in self._passage_outlet[passages].tolist()]

    @cached_property
    def _outlet_codes(self) -> dict[str, int]:
        return {outlet: i for i, outlet in enumerate(self.outlets)}

    @cached_property
    def _article_outlet(self) -> npt.NDArray[np.int64]:
        return np.array([self._outlet_codes[a.outlet] for a in self.articles], dtype=np.int64)

    @cached_property
    def _passage_outlet(self) -> npt.NDArray[np.integer[Any]]:
        """Each passage's outlet as its position in :attr:`outlets`, in the smallest type that holds it."""
        codes = self._article_outlet[self.passage_article]
        return codes.astype(np.min_scalar_type(max(len(self.outlets) - 1, 0)))

    @cached_property
    def _article_day(self) -> npt.NDArray[np.int64]:
        """Each article's publication day as a proleptic ordinal; -1 when undated."""
        days = [a.published.toordinal() if a.published else -1 for a in self.articles]
        return np.array(days, dtype=np.int64)

    @cached_property
    def _passages_by_outlet(self) -> dict[str, npt.NDArray[np.int64]]:
        order, bounds = self._outlet_order
        return {name: order[bounds[i] : bounds[i + 1]] for i, name in enumerate(self.outlets)}

    @cached_property
    def _outlet_order(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The passage numbers grouped by outlet (in :attr:`outlets` order, ascending within each),
        and where each outlet's begin."""
        outlet = self._passage_outlet
        order = np.argsort(outlet, kind="stable").astype(np.int64)
        return order, np.searchsorted(outlet[order], np.arange(len(self.outlets) + 1)).astype(np.int64)

    # --- texts ----------------------------------------------------------------------------------

    def article_text(self, article: int) -> str:
        text: str = self._article_text(article)
        return text

    def passage_span(self, passage: int) -> tuple[int, int, int]:
        """``(article, start, end)`` of a passage."""
        row = self.passages[passage]
        return int(row[0]), int(row[1]), int(row[2])

    def passage_text(self, passage: int) -> str:
        article, start, end = self.passage_span(passage)
        return self.article_text(article)[start:end]

    def passage_sentences(self, passage: int) -> range:
        row = self.passages[passage]
        return range(int(row[3]), int(row[4]))

    def passage_sentence_bounds(
        self, passages: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """:meth:`passage_sentences` of many passages: their first sentences and the ends."""
        rows = self.passages[passages]
        return rows[:, 3].astype(np.int64), rows[:, 4].astype(np.int64)

    def sentence_span(self, sentence: int) -> tuple[int, int, int]:
        """``(article, start, end)`` of a sentence."""
        return self.sentence_spans([sentence])[0]

    def sentence_spans(self, sentences: Sequence[int]) -> list[tuple[int, int, int]]:
        """:meth:`sentence_span` of many sentences, in one read per run of consecutive ones."""
        rows = self.sentences.rows(np.asarray(sentences, dtype=np.int64).reshape(-1))
        return [(a, s, e) for a, s, e in rows.tolist()]

    def article_sentences(self, article: int) -> range:
        """The global sentence numbers of one article (sentences are stored article by article)."""
        starts = self._article_sentence_starts
        if not 0 <= article < len(self.articles):
            edge = int(starts[0 if article < 0 else -1])
            return range(edge, edge)
        return range(int(starts[article]), int(starts[article + 1]))

    def article_passages(self, article: int) -> range:
        """The passage numbers of one article (passages are stored article by article)."""
        owners = self.passage_article
        first = int(np.searchsorted(owners, article, side="left"))
        return range(first, int(np.searchsorted(owners, article, side="right")))

    # --- search ---------------------------------------------------------------------------------

    @cached_property
    def bm25(self) -> Bm25Index:
        vocabulary = json.loads((self.path / "bm25_vocab.json").read_text(encoding="utf-8"))
        params = self.manifest["bm25"]
        index = Bm25Index(
            vocabulary={term: i for i, term in enumerate(vocabulary)},
            indptr=self._array("bm25_indptr.npy"),
            docs=self._array("bm25_docs.npy"),
            tfs=self._array("bm25_tfs.npy"),
            idf=self._array("bm25_idf.npy"),
            doc_lengths=self._array("bm25_doclen.npy"),
            avgdl=float(params["avgdl"]),
            k1=float(params["k1"]),
            b=float(params["b"]),
        )
        # Versions built before the bounds were stored compute them once here.
        upper = self._array(_BM25_UPPER) if (self.path / _BM25_UPPER).is_file() else term_upper_bounds(index)
        return replace(index, upper=upper)

    @cached_property
    def bm25_tokenizer(self) -> Bm25Tokenizer:
        return Bm25Tokenizer.from_settings(self.manifest["bm25"]["tokenizer"])

    @cached_property
    def dense_index(self) -> Any:
        import faiss

        path = self.path / "dense.faiss"
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorruptError(f"{path}: unreadable FAISS index ({exc}); rebuild the index") from None
        _dense.back_graph_with_huge_pages(index)
        return index

    @cached_property
    def sentence_vectors(self) -> RowFile:
        """float16 rows, read on demand (see _rows: a memory map would keep every page read)."""
        return self._rows("sentence_vectors.npy")

    @cached_property
    def passage_vectors(self) -> RowFile:
        """float16 rows, read on demand."""
        return self._rows("passage_vectors.npy")

    def sentence_rows(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """Sentence vectors ``rows``, as float32."""
        return _dense.as_float32(self.sentence_vectors.rows(rows))

    def passage_rows(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """Passage vectors ``rows``, as float32: from the FAISS index's own copy where it holds them
        exactly (already in memory), else read from the file."""
        stored = self._stored_passage_vectors
        if stored is None:
            return _dense.as_float32(self.passage_vectors.rows(rows))
        if rows.shape[0] and (int(rows.min()) < 0 or int(rows.max()) >= stored.shape[0]):
            raise IndexError(f"passages outside 0..{stored.shape[0] - 1} of {self.path}")
        return _dense.widened(stored[rows])

    @cached_property
    def _stored_passage_vectors(self) -> npt.NDArray[np.float16] | npt.NDArray[np.float32] | None:
        # A search reads ~200 scattered passage vectors, one positioned read each: ~1.6 ms of a
        # 1M-passage search, where the graph's storage holds the same float16 values in memory.
        stored = _dense.stored_vectors(self.dense_index) if self.has_vectors else None
        expected = self.passage_vectors.shape
        if stored is not None and stored.shape != expected:
            raise IndexCorruptError(
                f"{self.path / 'dense.faiss'}: {stored.shape[0]} vectors of {stored.shape[1]} where "
                f"passage_vectors.npy has {expected[0]} of {expected[1]}; rebuild the index"
            )
        return stored

    def dense_search(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        allowed: npt.NDArray[np.int64] | None = None,
        *,
        ef_search: int = 128,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The ``k`` passages nearest to ``query`` (inner product), optionally only among ``allowed``;
        ``ef_search`` is how wide an HNSW index searches (ignored by an exact one). A subset is
        searched through :attr:`subset_scan` when the index has one and the subset fills the
        outlets it touches."""
        if allowed is not None and self.subset_scan is not None:
            inside = np.zeros(len(self.passage_article), dtype=bool)
            inside[allowed] = True
            chosen = self.subset_scan.candidates(query, allowed, self._passage_outlet, inside)
            if chosen is not None:
                return _dense.rescored(self.dense_index, query, k, chosen)
        return _dense.search(self.dense_index, query, k, allowed, ef_search)

    @cached_property
    def subset_scan(self) -> SubsetScan | None:
        """The compact copy of the passage vectors, grouped by outlet (see _subset_scan); None for
        an index built without one (exact vectors, or before round 15)."""
        return SubsetScan.load(self.path, *self._outlet_order)

    def vectors_for(self, info: ArticleInfo) -> StoredVectors | None:
        """An unchanged article's passage and sentence vectors, for an update to reuse."""
        i = self._by_id.get(info.doc_id)
        if i is None or self.articles[i].content_hash != info.content_hash or not self.has_vectors:
            return None
        rows = self.article_passages(i)
        sentences = self.article_sentences(i)
        return StoredVectors(
            rows,
            self.passage_vectors.range(rows.start, rows.stop),
            self.sentence_vectors.range(sentences.start, sentences.stop),
        )

    def article_index(self, doc_id: str) -> int | None:
        return self._by_id.get(doc_id)

    def source_hashes(self) -> npt.NDArray[np.uint8] | None:
        """Each article's source hash, for an update (see _reuse); None for an index built before them."""
        if SOURCE_HASHES not in self.manifest.get("files", {}):
            return None
        hashes: npt.NDArray[np.uint8] = self._array(SOURCE_HASHES)
        if hashes.shape != (len(self.articles), SOURCE_HASH_BYTES):
            raise IndexCorruptError(
                f"{self.path / SOURCE_HASHES}: shape {hashes.shape} for {len(self.articles)} articles; "
                "rebuild the index"
            )
        return hashes

    # --- loading --------------------------------------------------------------------------------

    def _array(self, name: str) -> Any:
        path = self.path / name
        try:
            # A plain array over the map: np.memmap's per-item overhead is 20x a row read.
            return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"{path}: unreadable array ({exc}); rebuild the index") from None

    def _load_articles(self) -> list[ArticleInfo]:
        path = self.path / "articles.jsonl"
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            return [ArticleInfo.from_json(json.loads(line)) for line in lines if line.strip()]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(
                f"{path}: unreadable article metadata ({exc}); rebuild the index"
            ) from None

    def _rows(self, name: str) -> RowFile:
        try:
            return RowFile(self.path / name)
        except OSError as exc:
            raise IndexCorruptError(f"{self.path / name}: unreadable ({exc}); rebuild the index") from None

    def _open_texts(self) -> Any:
        # Read with pread, not mapped, for the reason _rows gives: mapped pages stay resident.
        return (self.path / "texts.bin").open("rb", buffering=0)

    def _check_shapes(self) -> None:
        counts = self.manifest["counts"]
        expected = {
            "articles.jsonl": (len(self.articles), counts["articles"]),
            "passages.npy": (self.passages.shape[0], counts["passages"]),
            "sentences.npy": (self.sentences.shape[0], counts["sentences"]),
            "article_offsets.npy": (self.article_offsets.shape[0], counts["articles"]),
        }
        for name, (found, wanted) in expected.items():
            if found != wanted:
                raise IndexCorruptError(
                    f"{self.path / name}: {found} rows where the manifest says {wanted}; rebuild"
                )


def _decode_article(texts: Any, offsets: npt.NDArray[np.int64], path: Path, article: int) -> str:
    start, end = (int(x) for x in offsets[article])
    data = os.pread(texts.fileno(), end - start, start)
    try:
        if len(data) != end - start:
            raise IndexCorruptError(f"{path}: ends inside article {article}; rebuild")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IndexCorruptError(f"{path}: not UTF-8 at article {article}; rebuild") from exc
