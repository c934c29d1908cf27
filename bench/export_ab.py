"""Warm ``Retriever.search`` (or ``ask``) with questions embedded by two onnx-int8 exports, the two
taking turns question by question in one process over the same loaded index.

    python bench/export_ab.py --index DIR --queries MultiHopRAG.json \\
        --before OLD_EXPORT_DIR --after NEW_EXPORT_DIR [--call search|ask] [--mode hybrid] \\
        [--rounds 3] [--json FILE]

An export is what ``quotedesk model export`` writes (``QUOTEDESK_MODEL_ONNX_DIR``). First each
question's parts (what a search embeds) are embedded alone on this thread by each export in turn;
then the two answer the call. Prints, for both, p50/p95/p99 in milliseconds for each side, the CPU
a call used, and their ratio, and how many of the questions got the same results but for scores.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _turns as turns  # bench/ is on sys.path when a script in it runs
from code_ab import same_scores_aside

from config import EmbeddingBackend
from index import OnnxEmbedder
from retrieval import Retriever
from retrieval._clauses import question_clauses
from retrieval._ranking import Query, parts_to_embed


def with_export(loaded: Retriever, export: Path) -> Retriever:
    """``loaded``'s index and settings, with its questions embedded by the export at ``export``."""
    model = loaded.settings.model.model_copy(
        update={"backend": EmbeddingBackend.ONNX_INT8, "onnx_dir": export}
    )
    embedder = OnnxEmbedder(model)
    embedder.warm_up()
    settings = loaded.settings.model_copy(update={"model": model})
    return Retriever(loaded.reader, settings, embedder, index_dir=loaded.index_dir)


def embedding_alone(
    sides: dict[str, Retriever], questions: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Each side's time to embed each question's parts, taking turns as the calls do."""
    parts = [parts_to_embed(Query(q, q, question_clauses(q), None, None, [], [])) for q in questions]
    encoders = {name: side.embedder.encode for name, side in sides.items() if side.embedder is not None}
    by_number = {str(i): texts for i, texts in enumerate(parts)}
    calls = {name: _embedding_of(encode, by_number) for name, encode in encoders.items()}
    timings = turns.taking_turns(calls, list(by_number), args.rounds, args.warm)
    passages = next(iter(sides.values())).reader.passages.shape[0]
    print("the question's parts embedded alone:")
    return turns.report(timings, passages, len(questions), args, "after / before")


def _embedding_of(encode: Callable[[list[str]], Any], parts: dict[str, list[str]]) -> Callable[[str], Any]:
    """A call taking a question's number, as :func:`_turns.taking_turns` gives it, that embeds its parts."""
    return lambda number: encode(parts[number])


def agreeing(sides: dict[str, Retriever], questions: list[str], args: argparse.Namespace) -> int:
    """How many of ``questions`` both sides answer alike but for scores (as ``code_ab.py`` counts:
    the same passages in the same order for a search, the same answer for an ask)."""
    calls = list(turns.calls_of(sides, args).values())
    return sum(same_scores_aside(args.call, calls[0](q), calls[1](q)) for q in questions)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    turns.add_arguments(parser)
    parser.add_argument("--before", type=Path, required=True, help="the export timed first")
    parser.add_argument("--after", type=Path, required=True, help="the export compared with it")
    args = parser.parse_args()
    questions = turns.questions_of(args)
    loaded = Retriever.load(args.index)
    loaded.warm_up()
    sides = {"before": with_export(loaded, args.before), "after": with_export(loaded, args.after)}
    result: dict[str, Any] = {"embedding": embedding_alone(sides, questions, args)}
    result.update(turns.compared(sides, questions, args, "after / before"))
    result["same_results"] = agreeing(sides, questions, args)
    print(f"the same results for {result['same_results']} of {len(questions)} questions")
    turns.save(result, args)


if __name__ == "__main__":
    main()
