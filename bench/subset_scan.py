"""A vector search within a subset through the index's compact copy (``index/_subset_scan.py``)
against FAISS's bitmap search, on the subsets MultiHop-RAG's answers search; then whole answers both
ways. One process, the two taking turns question by question.

    python bench/subset_scan.py --index DIR --queries MultiHopRAG.json [--questions 200] \\
        [--rounds 3] [--json FILE]

The index must have the copy (an HNSW build from round 15 on). Each question's subset is the one
its answer searches: the outlets and days it names. Prints the vector search alone both ways
(p50/p95 ms for the questions with a subset, and the share of the bitmap search's top 100 the copy
found), then ``ask`` hybrid both ways (p50/p95/p99 ms and CPU per answer, as ``bench/code_ab.py``)
and for how many questions the answers were the same.
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any

import _turns as turns  # bench/ is on sys.path when a script in it runs
import numpy as np
from _timing import seconds
from query_latency import percentiles

from index import IndexReader
from retrieval import Retriever
from retrieval._question import clean_question, named_outlets, question_dates
from retrieval._threads import one_blas_and_faiss_thread

DEPTH = 100  # the candidates a search asks the vectors for (RetrievalSettings.candidates)


def subset_of(reader: IndexReader, question: str) -> Any:
    """The passages an answer to ``question`` searches, or None when it names no outlet or day."""
    text = clean_question(question, 1000)
    outlets = named_outlets(text, reader.known_outlets) or None
    dates = question_dates(text)
    if not outlets and dates.since is None and dates.until is None:
        return None
    return reader.passages_where(outlets, dates.since, dates.until)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    turns.add_arguments(parser)
    args = parser.parse_args()
    args.call = "ask"
    questions = turns.questions_of(args)
    copy = Retriever.load(args.index)
    copy.warm_up()
    if copy.reader.subset_scan is None:
        parser.error(f"{args.index} has no compact copy; build it with QUOTEDESK_INDEX_DENSE_INDEX=hnsw")
    bitmap_reader = IndexReader.open(args.index)
    bitmap_reader.__dict__["subset_scan"] = None  # the cached property, as an index without the copy
    bitmap = Retriever(bitmap_reader, copy.settings, copy.embedder)
    assert copy.embedder is not None
    vectors = copy.embedder.encode(questions)
    subsets = [subset_of(copy.reader, q) for q in questions]
    searched = [(v, s) for v, s in zip(vectors, subsets, strict=True) if s is not None]

    @one_blas_and_faiss_thread  # as an answer runs it
    def search(reader: IndexReader, pair: tuple[Any, Any]) -> Any:
        return reader.dense_search(pair[0], DEPTH, pair[1], ef_search=copy.settings.retrieval.hnsw_ef_search)

    sides = {"bitmap": bitmap.reader, "subset copy": copy.reader}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(args.rounds):
        for i, pair in enumerate(searched):
            order = list(sides.items())
            if (i + round_) % 2:
                order.reverse()
            for name, reader in order:
                times[name].append(seconds(partial(search, reader, pair)))
    found = []
    for pair in searched:
        wanted = set(search(bitmap.reader, pair)[0].tolist())
        found.append(len(set(search(copy.reader, pair)[0].tolist()) & wanted) / max(1, len(wanted)))
    vector_rows = {name: percentiles(t) for name, t in times.items()}
    sizes = [len(s) for _, s in searched]
    print(
        f"{len(searched)} of {len(questions)} questions search a subset "
        f"(median {int(np.median(sizes)):,} passages); vector search alone, ms:"
    )
    for name, row in vector_rows.items():
        print(f"  {name:12} " + " ".join(f"{k} {v:6.1f}" for k, v in row.items()))
    print(
        f"  bitmap search's top {DEPTH} found by the copy: mean {np.mean(found):.4f}, least {min(found):.2f}"
    )
    answerers = {"bitmap": bitmap, "subset copy": copy}
    report = turns.compared(answerers, questions, args, "copy / bitmap")
    calls = turns.calls_of(answerers, args)
    agreed = sum(calls["bitmap"](q).model_dump() == calls["subset copy"](q).model_dump() for q in questions)
    print(f"same answers: {agreed} of {len(questions)}")
    report.update(
        vector_search=vector_rows,
        found_mean=round(float(np.mean(found)), 4),
        found_least=round(float(min(found)), 4),
        subsets=len(searched),
        median_subset=int(np.median(sizes)),
        same_answers=agreed,
        questions=len(questions),
    )
    turns.save(report, args)


if __name__ == "__main__":
    main()
