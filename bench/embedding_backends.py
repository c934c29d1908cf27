"""The onnx-int8 embedding backend against PyTorch ``encode`` on the same texts, in the same run.

    python bench/embedding_backends.py --corpus corpus.json [--articles 40] [--turns 1] [--json FILE]

The texts are what an index build embeds for the first ``--articles`` articles: each passage with
its outlet and headline, and every sentence. Both backends encode them with the same batch size;
the table gives texts per second, the speed-up, and how close the vectors are (cosine). ONNX
runs twice a turn: as a build runs it (a session per core, batches side by side) and with one
session sharing each batch between the cores, as before round 21. ``--turns`` repeats the three
runs in turn; the table gives each one's median. Run ``quotedesk model export`` first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from _timing import seconds  # bench/ is on sys.path when a script in it runs
from build_throughput import RecordingEmbedder

from config import load_settings
from index import OnnxEmbedder, SentenceTransformerEmbedder, _onnx, build_index


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--turns", type=int, default=1)
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
    runs: dict[str, Callable[[], object]] = {
        "torch": lambda: torch_model.encode(texts),
        "onnx_int8": lambda: onnx_model.encode(texts),
        "onnx_int8_one_session": lambda: _one_session(lambda: onnx_model.encode(texts)),
    }
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.turns):
        for name, run in runs.items():
            timings[name].append(round(seconds(run), 2))
    took = {name: statistics.median(values) for name, values in timings.items()}
    onnx = onnx_model.encode(texts)
    cosine = np.sum(torch_model.encode(texts) * onnx, axis=1)
    shared = _one_session(lambda: onnx_model.encode(texts))
    result = {
        "texts": len(texts),
        **{f"{name}_seconds": round(value, 2) for name, value in took.items()},
        "torch_texts_per_second": round(len(texts) / took["torch"], 1),
        "onnx_int8_texts_per_second": round(len(texts) / took["onnx_int8"], 1),
        "speed_up": round(took["torch"] / took["onnx_int8"], 2),
        "speed_up_one_session": round(took["torch"] / took["onnx_int8_one_session"], 2),
        "side_by_side_ratio": round(took["onnx_int8"] / took["onnx_int8_one_session"], 2),
        "cosine_mean": round(float(cosine.mean()), 4),
        "cosine_min": round(float(cosine.min()), 4),
        "side_by_side_cosine_min": round(float(np.min(np.sum(onnx * shared, axis=1))), 6),
        "turns": timings,
    }
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


@contextmanager
def _sessions_at_most(count: int) -> Iterator[None]:
    kept = _onnx.SIDE_BY_SIDE_MAX_SESSIONS
    _onnx.SIDE_BY_SIDE_MAX_SESSIONS = count
    try:
        yield
    finally:
        _onnx.SIDE_BY_SIDE_MAX_SESSIONS = kept


def _one_session(call: Callable[[], np.ndarray]) -> np.ndarray:
    """``call`` with every batch shared by the cores in one session, as before round 21."""
    with _sessions_at_most(1):
        return call()


if __name__ == "__main__":
    main()
