"""``index build`` against the raw model's ``encode`` on the same texts, in the same run.

    python bench/build_throughput.py --corpus corpus.json [--articles 60] [--json FILE]

The build is timed end to end (reading, cleaning, chunking, embedding, BM25, writing, publishing);
the texts it hands the model are recorded and then encoded again by the bare sentence-transformers
model with the same batch size. The ratio raw-encode time / build time is the pipeline's share of
the hardware the model alone would get (1.0: no overhead).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _results import write_json  # bench/ is on sys.path when a script in it runs

from config import load_settings
from index import SentenceTransformerEmbedder, build_index, model_dir


class RecordingEmbedder:
    """The real embedder, remembering what it was asked to encode."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.texts: list[str] = []
        self.seconds = 0.0

    def warm_up(self) -> None:
        self.inner.warm_up()
        self.dimension = self.inner.dimension

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        started = time.perf_counter()
        self.texts.extend(texts)
        vectors = self.inner.encode(texts)
        self.seconds += time.perf_counter() - started
        return vectors

    def batches(self, texts: Sequence[str], ways: int = 1) -> list[list[int]]:
        return self.inner.batches(texts, ways)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True, help="a MultiHop-RAG-shaped corpus.json")
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.model)
    embedder.warm_up()
    recording = RecordingEmbedder(embedder)
    articles = json.loads(args.corpus.read_text(encoding="utf-8"))[: args.articles]
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "corpus.json"
        source.write_text(json.dumps(articles), encoding="utf-8")
        started = time.perf_counter()
        report = build_index(
            settings, sources=[source], index_dir=Path(scratch) / "index", embedder=recording
        )
        build_seconds = time.perf_counter() - started
    from sentence_transformers import SentenceTransformer

    model: Any = SentenceTransformer(str(model_dir(settings.model)), device="cpu", local_files_only=True)
    model.encode(recording.texts[:64], batch_size=settings.model.batch_size)  # warm, as the build's was
    started = time.perf_counter()
    model.encode(recording.texts, batch_size=settings.model.batch_size, normalize_embeddings=True)
    raw_seconds = time.perf_counter() - started
    texts = len(recording.texts)
    result = {
        "articles": report.articles,
        "passages": report.passages,
        "sentences": report.sentences,
        "texts_embedded": texts,
        "build_seconds": round(build_seconds, 2),
        "embedding_inside_build_seconds": round(recording.seconds, 2),
        "raw_encode_seconds": round(raw_seconds, 2),
        "build_texts_per_second": round(texts / build_seconds, 1),
        "raw_texts_per_second": round(texts / raw_seconds, 1),
        "build_vs_raw": round(raw_seconds / build_seconds, 3),
    }
    width = max(map(len, result))
    print("\n".join(f"{name:{width}}  {value}" for name, value in result.items()))
    write_json(args.json, result)


if __name__ == "__main__":
    main()
