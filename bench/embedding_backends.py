"""The onnx-int8 embedding backend against PyTorch ``encode`` on the same texts, in the same run.

    python bench/embedding_backends.py --corpus corpus.json [--articles 40] [--turns 1] [--json FILE]

The texts are what an index build embeds for the first ``--articles`` articles: each passage with
its outlet and headline, and every sentence. Both backends encode them with the same batch size;
the table gives texts per second, the speed-up, and how close the vectors are (cosine). ONNX
runs twice a turn: as a build runs it (a session per core, batches side by side, at most
``MAX_BATCH_TOKENS`` a batch) and as before round 21 (one session sharing each batch between the
cores, batches of up to ``batch_size`` texts however long). ``--turns`` repeats the three
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
from _results import write_json
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
    # Round 20's batching in an embedder of its own: an embedder keeps the sessions it first made.
    round_20 = OnnxEmbedder(settings.model)
    onnx_model.encode(texts[:64])  # first-call set-up out of the timing, as for PyTorch above
    _as_round_20(lambda: round_20.encode(texts[:64]))
    runs: dict[str, Callable[[], object]] = {
        "torch": lambda: torch_model.encode(texts),
        "onnx_int8": lambda: onnx_model.encode(texts),
        "onnx_int8_round20": lambda: _as_round_20(lambda: round_20.encode(texts)),
    }
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.turns):
        for name, run in runs.items():
            timings[name].append(round(seconds(run), 2))
    took = {name: statistics.median(values) for name, values in timings.items()}
    onnx = onnx_model.encode(texts)
    cosine = np.sum(torch_model.encode(texts) * onnx, axis=1)
    before = _as_round_20(lambda: round_20.encode(texts))
    result = {
        "texts": len(texts),
        **{f"{name}_seconds": round(value, 2) for name, value in took.items()},
        "torch_texts_per_second": round(len(texts) / took["torch"], 1),
        "onnx_int8_texts_per_second": round(len(texts) / took["onnx_int8"], 1),
        "speed_up": round(took["torch"] / took["onnx_int8"], 2),
        "speed_up_round20": round(took["torch"] / took["onnx_int8_round20"], 2),
        "ratio_to_round20": round(took["onnx_int8"] / took["onnx_int8_round20"], 2),
        "cosine_mean": round(float(cosine.mean()), 4),
        "cosine_min": round(float(cosine.min()), 4),
        "cosine_to_round20_min": round(float(np.min(np.sum(onnx * before, axis=1))), 4),
        "turns": timings,
    }
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:{width}}  {value}")
    write_json(args.json, result)


@contextmanager
def _patched(**values: int) -> Iterator[None]:
    kept = {name: getattr(_onnx, name) for name in values}
    for name, value in values.items():
        setattr(_onnx, name, value)
    try:
        yield
    finally:
        for name, value in kept.items():
            setattr(_onnx, name, value)


def _as_round_20(call: Callable[[], np.ndarray]) -> np.ndarray:
    """``call`` as round 20 ran it: every batch shared by the cores in one session, and a batch
    as many texts as the batch size, however long."""
    with _patched(SIDE_BY_SIDE_MAX_SESSIONS=1, MAX_BATCH_TOKENS=2**62):
        return call()


if __name__ == "__main__":
    main()
