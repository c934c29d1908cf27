"""What an update keeps of an article it has indexed before: its cleaned text, sentences and passages
(and, through :mod:`index._bm25_reuse`, its passages' BM25 postings).

Cleaning, chunking and tokenizing an article depend on nothing but the article as read, the
settings, and the code and libraries that do them. An update therefore takes them from the previous
version for every article whose source hash is unchanged, when that version was built by the same
pipeline (:func:`pipeline_fingerprint`). They were half of what an update spent on its unchanged
articles.
"""

from __future__ import annotations

import ast
import hashlib
import json
import platform
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from index._article import Article, RawArticle

if TYPE_CHECKING:
    from index._reader import IndexReader

SOURCE_HASHES = "source_hashes.npy"
SOURCE_HASH_BYTES = 16
# The modules whose code decides an article's cleaned text, sentences, passages and BM25 tokens, and
# the libraries they call (Python's own too: its Unicode tables normalise the text); a change to any
# of them makes an update clean, chunk and tokenize everything again.
_PIPELINE_MODULES = (
    "_prepare.py",
    "_clean.py",
    "_chunk.py",
    "_sentences.py",
    "_tokens.py",
    "_bm25_tokenizer.py",
)
_PIPELINE_LIBRARIES = ("sentencex", "tokenizers", "PyStemmer")
_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)  # may open with a docstring


@dataclass(frozen=True, slots=True)
class Kept:
    """An unchanged article as the previous version cleaned it, and its number there."""

    article: Article
    number: int


def pipeline_fingerprint(chunking: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(chunking, sort_keys=True).encode())
    here = Path(__file__).parent
    for module in _PIPELINE_MODULES:
        digest.update(_code_of((here / module).read_text(encoding="utf-8")).encode())
    for library in _PIPELINE_LIBRARIES:
        digest.update(f"{library}=={metadata.version(library)}".encode())
    digest.update(f"python=={platform.python_version()}".encode())
    return digest.hexdigest()


def _code_of(source: str) -> str:
    """What a module does, without its comments, docstrings or layout: an edit to those alone must
    not make the next update of a large index clean everything again (at 1M, 439 s against 157)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, _DOCUMENTED) and node.body and _is_docstring(node.body[0]):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def source_hash(raw: RawArticle) -> bytes:
    """What identifies an article as read, before cleaning (its content hash is of the cleaned text)."""
    published = raw.published.isoformat() if raw.published else None
    fields: list[Any] = [raw.doc_id, raw.title, raw.body, raw.source, raw.outlet, published, raw.url]
    fields += [raw.author, raw.block_paragraphs]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).digest()[:SOURCE_HASH_BYTES]


def source_hash_array(hashes: list[bytes]) -> npt.NDArray[np.uint8]:
    joined = np.frombuffer(b"".join(hashes), dtype=np.uint8)
    return joined.reshape(len(hashes), SOURCE_HASH_BYTES)


def kept_articles(
    previous: IndexReader | None, raw: list[RawArticle], hashes: list[bytes], pipeline: str
) -> dict[str, Kept]:
    """By doc_id, every article in ``raw`` that ``previous`` holds as read now, from the same pipeline."""
    if previous is None or previous.manifest.get("pipeline") != pipeline:
        return {}
    stored = previous.source_hashes()
    if stored is None:  # built before round 23
        return {}
    kept = {}
    for item, wanted in zip(raw, hashes, strict=True):
        j = previous.article_index(item.doc_id)
        if j is not None and stored[j].tobytes() == wanted:
            # Near-duplicates are found again among the articles of the new version.
            info = replace(previous.articles[j], near_duplicates=())
            kept[item.doc_id] = Kept(Article(info=info, text=previous.article_text(j)), j)
    return kept


def kept_chunks(
    previous: IndexReader, kept: list[Kept]
) -> Iterator[tuple[list[tuple[int, int]], list[tuple[int, int, int, int]]]]:
    """Each of ``kept``'s sentences and passages, numbered within the article as a build numbers them.

    Read once the near-duplicates are found: at 1M passages these lists are ~700 MB, and held
    through that search they raised an update's peak from 9.1 to 10.1 GB."""
    table = previous.sentences.rows(np.arange(len(previous.sentences), dtype=np.int64))
    for item in kept:
        own, passages = previous.article_sentences(item.number), previous.article_passages(item.number)
        yield (
            [(s, e) for _a, s, e in table[own.start : own.stop].tolist()],
            [
                (s, e, first - own.start, last - own.start)
                for _a, s, e, first, last in previous.passages[passages.start : passages.stop].tolist()
            ],
        )
