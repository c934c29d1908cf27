"""The onnx-int8 embedding backend against PyTorch ``encode`` on the same texts, in the same run.

    python bench/embedding_backends.py --corpus corpus.json [--articles 40] [--json FILE]

The texts are what an index build embeds for the first ``--articles`` articles: each passage with
its outlet and headline, and every sentence. Both backends encode them with the same batch size;
the table gives texts per second, the speed-up, and how close the vectors are (cosine). Run
``quotedesk model export`` first.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from _timing import seconds  # bench/ is on sys.path when a script in it runs
from build_throughput import RecordingEmbedder

from config import load_settings
from index import OnnxEmbedder, SentenceTransformerEmbedder, build_index


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = load_settings()
    torch_model = SentenceTransformerEmbedder(settings.model)
    onnx_model = OnnxEmbedder(settings.model)
    torch_model.warm_up()
    onnx_model.warm_up()
    with tempfile.TemporaryDirectory() as scratch:
        articles = json.loads(args.corpus.read_text(encoding="utf-8"))[: args.articles]
        subset = Path(scratch) / "corpus.json"
        subset.write_text(json.dumps(articles), encoding="utf-8")
        recorder = RecordingEmbedder(torch_model)
        build_index(settings, sources=[subset], index_dir=Path(scratch) / "index", embedder=recorder)
    texts = recorder.texts
    onnx_model.encode(texts[:64])  # first-call set-up out of the timing, as for PyTorch above
    torch_seconds = seconds(lambda: torch_model.encode(texts))
    onnx_seconds = seconds(lambda: onnx_model.encode(texts))
    cosine = np.sum(torch_model.encode(texts) * onnx_model.encode(texts), axis=1)
    result = {
        "texts": len(texts),
        "torch_seconds": round(torch_seconds, 2),
        "onnx_int8_seconds": round(onnx_seconds, 2),
        "torch_texts_per_second": round(len(texts) / torch_seconds, 1),
        "onnx_int8_texts_per_second": round(len(texts) / onnx_seconds, 1),
        "speed_up": round(torch_seconds / onnx_seconds, 2),
        "cosine_mean": round(float(cosine.mean()), 4),
        "cosine_min": round(float(cosine.min()), 4),
    }
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
