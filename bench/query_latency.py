"""Warm ``Retriever.search`` and ``Retriever.ask`` latency per mode: p50/p95/p99, one caller and 8.

    python bench/query_latency.py --index DIR --queries MultiHopRAG.json [--questions 200] \
        [--no-gc-freeze] [--json FILE]

Questions are MultiHop-RAG's, in file order (null ones included, as users ask those too). Every
row is measured in the same run; compare rows as ratios, not against another machine's figures.
The index is loaded as the bot loads it, frozen out of the cyclic garbage collector's full passes
(``gc_freeze``); ``--no-gc-freeze`` measures a library caller that leaves it in (before round 16).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from _results import write_json
from _timing import seconds  # bench/ is on sys.path when a script in it runs

from retrieval import Retriever

CONCURRENT_CALLERS = 8


def timed(call: Callable[[str], object], question: str) -> float:
    return seconds(partial(call, question))


def resident_mb() -> dict[str, float]:
    """This process's resident set now, in MB: in all, then split into anonymous memory (what the
    process allocated) and file pages (memory-mapped index files it touched, which the kernel can
    drop and re-read at will)."""
    fields = {"VmRSS:": "rss", "RssAnon:": "anonymous", "RssFile:": "file"}
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in fields:
            found[fields[parts[0]]] = round(int(parts[1]) / 1024, 1)
    return found


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {f"p{q}": round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--modes", default="bm25,dense,hybrid")
    parser.add_argument("--gc-freeze", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    questions = [q["query"] for q in json.loads(args.queries.read_text(encoding="utf-8"))][: args.questions]
    before = resident_mb()
    retriever = Retriever.load(args.index, gc_freeze=args.gc_freeze)
    retriever.warm_up()
    loaded = resident_mb()
    rows: dict[str, dict[str, Any]] = {}
    for mode in args.modes.split(","):
        calls: dict[str, Callable[[str], object]] = {
            "search": partial(retriever.search, k=10, mode=mode),
            "ask": partial(retriever.ask, mode=mode),
        }
        for name, call in calls.items():
            call(questions[0])
            single = [timed(call, q) for q in questions]
            with ThreadPoolExecutor(CONCURRENT_CALLERS) as pool:
                started = time.perf_counter()
                parallel = list(pool.map(partial(timed, call), questions))
                wall = time.perf_counter() - started
            rows[f"{name} {mode}"] = {
                "one caller": percentiles(single),
                f"{CONCURRENT_CALLERS} callers": percentiles(parallel),
                f"{CONCURRENT_CALLERS} callers, questions/s": round(len(questions) / wall, 1),
            }
    passages = retriever.reader.passages.shape[0]
    memory = {"before load": before, "loaded": loaded, "after the questions": resident_mb()}
    print(f"{passages:,} passages, {len(questions)} questions; resident MB: {memory}")
    heads = ("p50", "p95", "p99", "8x p50", "8x p95", "8x p99")
    print(f"{'call':16} " + " ".join(f"{h:>8}" for h in heads) + f" {'8x q/s':>7}")
    for name, row in rows.items():
        one, many = row["one caller"], row[f"{CONCURRENT_CALLERS} callers"]
        print(
            f"{name:16} {one['p50']:8.1f} {one['p95']:8.1f} {one['p99']:8.1f} "
            f"{many['p50']:8.1f} {many['p95']:8.1f} {many['p99']:8.1f} "
            f"{row[f'{CONCURRENT_CALLERS} callers, questions/s']:7.1f}"
        )
    write_json(
        args.json,
        {"passages": passages, "gc_freeze": args.gc_freeze, "resident_mb": memory, "rows": rows},
    )


if __name__ == "__main__":
    main()
