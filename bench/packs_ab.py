"""Warm ``Retriever.search`` (or ``ask``) with the question's parts planned for one thread against
two (``Embedder.batches(texts, ways)``), whatever the retriever would choose, the two taking turns
question by question in one process. With the onnx-int8 export's packed graph, a plan is packs of
about equal tokens, each one pass; other embedders ignore the plan, and the sides then match.

    QUOTEDESK_MODEL_BACKEND=onnx-int8 python bench/packs_ab.py --index DIR \\
        --queries MultiHopRAG.json [--call search|ask] [--mode hybrid] [--rounds 3] [--json FILE]

Prints p50/p95/p99 in milliseconds for each side, the CPU a call used, and their ratio.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import _turns as turns  # bench/ is on sys.path when a script in it runs
import numpy as np
import numpy.typing as npt

from retrieval import Retriever


class PlannedFor:
    """An embedder whose batches are planned for ``ways`` threads, whatever its caller asks."""

    def __init__(self, inner: Any, ways: int) -> None:
        self.inner, self.ways = inner, ways
        self.name, self.dimension = inner.name, inner.dimension

    def warm_up(self) -> None:
        self.inner.warm_up()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        vectors: npt.NDArray[np.float32] = self.inner.encode(texts, progress=progress)
        return vectors

    def batches(self, texts: Sequence[str], ways: int = 1) -> list[list[int]]:
        batches: list[list[int]] = self.inner.batches(texts, self.ways)
        return batches


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    turns.add_arguments(parser)
    args = parser.parse_args()
    questions = turns.questions_of(args)
    loaded = Retriever.load(args.index)
    loaded.warm_up()
    # The same loaded index and model: only the plan differs.
    sides = {
        f"{ways} thread{'s' * (ways > 1)}": Retriever(
            loaded.reader, loaded.settings, PlannedFor(loaded.embedder, ways), index_dir=loaded.index_dir
        )
        for ways in (1, 2)
    }
    turns.save(turns.compared(sides, questions, args, "two / one"), args)


if __name__ == "__main__":
    main()
