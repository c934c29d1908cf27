"""Building and storing quotedesk indexes: articles in, a versioned index directory out.

An index directory holds immutable versions and a ``CURRENT`` pointer swapped atomically, so a
reader never sees half an index and the last good version keeps serving when a build fails.
"""

from index._article import Article, ArticleInfo, Problem, RawArticle
from index._backends import embedder_for
from index._bm25 import Bm25Index, build_bm25
from index._bm25_tokenizer import Bm25Tokenizer
from index._build import BUNDLED_CORPUS, BuildReport, build_index, default_sources
from index._embed import Embedder, SentenceTransformerEmbedder, model_dir
from index._errors import (
    BuildError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    ModelUnavailableError,
)
from index._onnx import OnnxEmbedder
from index._onnx_export import export_onnx_int8
from index._prepare import passage_context
from index._priority import lower_build_priority
from index._reader import IndexReader
from index._readers import discover, read_articles
from index._stats import index_stats
from index._store import current_version_name

__all__ = [
    "BUNDLED_CORPUS",
    "Article",
    "ArticleInfo",
    "Bm25Index",
    "Bm25Tokenizer",
    "BuildError",
    "BuildReport",
    "Embedder",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexReader",
    "ModelUnavailableError",
    "OnnxEmbedder",
    "Problem",
    "RawArticle",
    "SentenceTransformerEmbedder",
    "build_bm25",
    "build_index",
    "current_version_name",
    "default_sources",
    "discover",
    "embedder_for",
    "export_onnx_int8",
    "index_stats",
    "lower_build_priority",
    "model_dir",
    "passage_context",
    "read_articles",
]
