"""``build_index`` on a large corpus: wall time, passages per second, peak RSS and size on disk.

    python bench/build_scaled.py --corpus /tmp/corpus-1m --index /tmp/idx-1m \\
        [--vectors random|model] [--json FILE]
    python bench/build_scaled.py --update --corpus /tmp/corpus-1m --corpus /tmp/corpus-new \\
        --index /tmp/idx-1m [--json FILE]

``--vectors random`` (the default) stands random unit vectors in for the model's: embedding a
million passages and six million sentences with all-MiniLM-L6-v2 on two cores would take days, and
searching does not care what the vectors mean. The index still records the configured model, so
questions are embedded by the real model when it is searched. Everything else (reading, cleaning,
sentences, chunking, BM25, the FAISS index, writing) is the shipped pipeline.

``--update`` is ``quotedesk index update``: it opens the index's current version, keeps the vectors
of every article whose text and settings are unchanged, embeds only the new ones and publishes the
result as the next version (``--corpus`` may be given once per source). ``--whole-graph`` makes it
build the HNSW graph whole, as updates did before round 24, to measure what growing it buys.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from _results import write_json  # bench/ is on sys.path when a script in it runs

from config import load_settings
from index import IndexReader, _graph_growth, build_index, embedder_for, index_stats
from index._embed import Embedder

_DIMENSION = 384  # all-MiniLM-L6-v2's


class RandomEmbedder:
    """Unit vectors drawn at random, under the configured model's name."""

    def __init__(self, name: str, dimension: int = _DIMENSION) -> None:
        self.name = name
        self.dimension = dimension
        self._rng = np.random.default_rng(0)

    def warm_up(self) -> None:
        return None

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        vectors = self._rng.standard_normal((len(texts), self.dimension), dtype=np.float32)
        unit: npt.NDArray[np.float32] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return unit

    def batches(self, texts: Sequence[str], ways: int = 1) -> list[list[int]]:
        return [list(range(len(texts)))] if texts else []


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--vectors", choices=("random", "model"), default="random")
    parser.add_argument("--update", action="store_true", help="update the index instead of building it")
    parser.add_argument("--whole-graph", action="store_true", help="with --update: never grow the graph")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.whole_graph:
        _graph_growth.MAX_REMOVED_SHARE = -1.0  # any update "removed too much": the graph is built whole
    settings = load_settings()
    embedder: Embedder = (
        RandomEmbedder(settings.model.name) if args.vectors == "random" else embedder_for(settings.model)
    )
    started = time.perf_counter()
    previous = IndexReader.open(args.index, verify_checksums=False) if args.update else None
    said: list[str] = []
    report = build_index(
        settings,
        sources=args.corpus,
        index_dir=args.index,
        embedder=embedder,
        previous=previous,
        log=said.append,
    )
    wall = time.perf_counter() - started
    built = IndexReader.open(args.index, verify_checksums=False)  # hashing GBs would add minutes
    result = {
        "corpus": [str(c) for c in args.corpus],
        "vectors": args.vectors,
        "update": args.update,
        "whole_graph": args.whole_graph,
        "log": said,
        "articles": report.articles,
        "embedded_articles": report.embedded_articles,
        "reused_articles": report.reused_articles,
        "passages": report.passages,
        "sentences": report.sentences,
        "seconds": round(wall, 1),
        "passages_per_second": round(report.passages / wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "disk_mb": round(index_stats(built)["bytes_on_disk"] / 2**20),
    }
    print(json.dumps(result, indent=2))
    write_json(args.json, result)


if __name__ == "__main__":
    main()
