"""Warm ``Retriever.search`` (or ``ask``) over one index against another built from the same corpus
(another build's layout or settings), the two taking turns question by question in one process,
so both meet the same machine. Both share one loaded model.

    python bench/index_ab.py --index OLD --other NEW --queries MultiHopRAG.json \\
        [--call search|ask] [--mode hybrid] [--rounds 3] [--json FILE]

Prints p50/p95/p99 in milliseconds for each index, the CPU a call used (every thread, mean) and
their ratios. Results are not compared: two builds of a corpus embedded with random vectors (see
``build_scaled.py``) hold different vectors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _turns as turns  # bench/ is on sys.path when a script in it runs

from retrieval import Retriever


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    turns.add_arguments(parser)
    parser.add_argument("--other", type=Path, required=True, help="the index compared with --index")
    args = parser.parse_args()
    questions = turns.questions_of(args)
    first = Retriever.load(args.index)
    first.warm_up()
    other = Retriever.load(args.other, settings=first.settings)
    other.embedder = first.embedder  # one model in memory, already warm
    sides = {args.index.name: first, args.other.name: other}
    turns.save(turns.compared(sides, questions, args, "other / index"), args)


if __name__ == "__main__":
    main()
