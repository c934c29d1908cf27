"""An update's HNSW graph grown day by day (``index/_graph_growth.py``) against one built whole, on a
built index's real vectors: recall of MultiHop-RAG's questions against exact search, and seconds.

    python bench/graph_growth.py --index DIR --queries MultiHopRAG.json \\
        [--rows passages|sentences] [--days 10] [--removed 0.02] [--json FILE]

The index's articles are taken in order of publication. The graph is first built whole over all but
the last ``--days`` days' articles. Then each of those days is one update: that day's articles are
added, and ``--removed`` of the articles present are removed (as an edit does) at random. Each row
keeps its article's place in the index's numbering, outlet by outlet, so new rows land between old
ones as in a real update. After the last day, the grown graph and one built whole over the same
rows are searched for every question (top 10, efSearch 128, as answers search) and compared with an
exact search. ``--rows sentences`` uses the sentence vectors: six times as many rows.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _results import write_json  # bench/ is on sys.path when a script in it runs

from config import DenseIndex, load_settings
from index import IndexReader, embedder_for
from index._dense import build_dense_index, search
from index._graph_growth import grow

_K = 10
_EF_SEARCH = 128


def _recall(index: Any, vectors: npt.NDArray[np.float16], queries: npt.NDArray[np.float32]) -> float:
    exact = queries @ np.asarray(vectors, dtype=np.float32).T
    found = 0
    for q, query in enumerate(queries):
        ids, _ = search(index, query, _K, None, _EF_SEARCH)
        found += len(set(ids.tolist()) & set(np.argsort(-exact[q])[:_K].tolist()))
    return found / (_K * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--rows", choices=["passages", "sentences"], default="passages")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--removed", type=float, default=0.02, help="share of articles removed each day")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    reader = IndexReader.open(args.index)
    rows = reader.passage_vectors if args.rows == "passages" else reader.sentence_vectors
    vectors = rows.range(0, len(rows))
    owner = (
        reader.passage_article
        if args.rows == "passages"
        else reader.sentences.rows(np.arange(len(rows)))[:, 0]
    )
    published = [a.published.toordinal() if a.published else 0 for a in reader.articles]
    days = sorted(set(published))
    cut = days[-args.days]
    present = np.asarray([p < cut for p in published])
    rng = np.random.default_rng(0)

    def rows_of(articles: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        return np.flatnonzero(articles[owner])

    shown = rows_of(present)
    started = time.perf_counter()
    graph = build_dense_index(vectors[shown], DenseIndex.HNSW)
    first_build = time.perf_counter() - started
    grow_seconds, removed_rows = [], 0
    for day in days[-args.days :]:
        old = np.flatnonzero(present)
        gone = rng.choice(old, round(args.removed * len(old)), replace=False)
        present[gone] = False
        present |= np.asarray([p == day for p in published])
        now = rows_of(present)
        # Each row's number in the previous graph, or -1 for a new article's.
        position = np.full(vectors.shape[0], -1, dtype=np.int64)
        position[shown] = np.arange(shown.shape[0])
        origin = position[now]
        removed_rows += int(shown.shape[0] - (origin >= 0).sum())
        started = time.perf_counter()
        graph = grow(graph, vectors[now], origin)
        grow_seconds.append(time.perf_counter() - started)
        shown = now
    started = time.perf_counter()
    whole = build_dense_index(vectors[shown], DenseIndex.HNSW)
    whole_seconds = time.perf_counter() - started

    questions = [q["query"] for q in json.loads(args.queries.read_text(encoding="utf-8"))]
    embedder = embedder_for(load_settings().model)
    queries = embedder.encode(questions)
    result = {
        "index": str(args.index),
        "rows": args.rows,
        "rows_at_start": int(rows_of(np.asarray([p < cut for p in published])).shape[0]),
        "rows_at_end": int(shown.shape[0]),
        "days": args.days,
        "removed_share_a_day": args.removed,
        "rows_removed": removed_rows,
        "questions": len(questions),
        "recall_at_10_grown": _recall(graph, vectors[shown], queries),
        "recall_at_10_built_whole": _recall(whole, vectors[shown], queries),
        "seconds_first_build": first_build,
        "seconds_grow_each_day": grow_seconds,
        "seconds_build_whole_at_end": whole_seconds,
    }
    print(
        f"{args.rows}: {result['rows_at_start']:,} rows, then {args.days} days -> {result['rows_at_end']:,}"
    )
    print(f"  removed over the days: {removed_rows:,} rows")
    print(
        f"  recall@10 against exact: grown {result['recall_at_10_grown']:.4f}, built whole "
        f"{result['recall_at_10_built_whole']:.4f} ({len(questions)} questions)"
    )
    print(f"  seconds: grow a day median {np.median(grow_seconds):.2f}, build whole {whole_seconds:.2f}")
    write_json(args.json, result)


if __name__ == "__main__":
    main()
