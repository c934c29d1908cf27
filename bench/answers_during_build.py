"""Warm answers while ``quotedesk index build`` runs beside them on the same cores, at each build
priority, against answers with the machine to themselves, in one run.

    python bench/answers_during_build.py --index DIR --queries MultiHopRAG.json \\
        --corpus ../shared/datasets/multihop-rag/corpus.json [--priorities normal,low,idle] \\
        [--questions 200] [--rounds 2] [--settle 20] [--json FILE]

A newsroom updates its index as articles arrive, on the machine the bot answers from. Each round
takes every state in turn: alone, then a build of ``--corpus`` (into a scratch directory, with the
configured embedding backend) at each ``QUOTEDESK_INDEX_BUILD_PRIORITY``. The build is given
``--settle`` seconds to reach its embedding, which keeps both cores busy; then every question is
asked (``Retriever.ask``, as the bot does) and searched, one caller, and the build is stopped. A
build that ends before the questions do fails the run: its state would be partly "alone".
Prints p50/p95/p99 (ms) per state and call, and each against "alone".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from _results import write_json
from _timing import seconds
from query_latency import percentiles

from config import BuildPriority
from retrieval import Retriever

ALONE = "alone"
QUOTEDESK = str(Path(sys.executable).with_name("quotedesk"))


def start_build(corpus: Path, scratch: Path, priority: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QUOTEDESK_INDEX_BUILD_PRIORITY": priority}
    command = [QUOTEDESK, "index", "build", "--source", str(corpus), "--index", str(scratch)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(build: subprocess.Popen[bytes]) -> None:
    build.send_signal(signal.SIGTERM)
    build.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True, help="the index answers come from")
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True, help="what the build beside them builds")
    parser.add_argument("--priorities", default=",".join(p.value for p in BuildPriority))
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--settle", type=float, default=20.0, help="seconds a build runs before timing")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    priorities = [BuildPriority.parse(p).value for p in args.priorities.split(",")]
    questions = [q["query"] for q in json.loads(args.queries.read_text(encoding="utf-8"))][: args.questions]
    retriever = Retriever.load(args.index, gc_freeze=True)
    retriever.warm_up()
    calls: dict[str, Callable[[str], object]] = {
        "ask": retriever.ask,
        "search": partial(retriever.search, k=10),
    }
    for call in calls.values():
        call(questions[0])
    states = [ALONE, *priorities]
    timings: dict[str, dict[str, list[float]]] = {s: {c: [] for c in calls} for s in states}
    scratch = Path(tempfile.mkdtemp(prefix="answers-during-build-"))
    try:
        for round_ in range(args.rounds):
            for state in states:
                build = None if state == ALONE else start_build(args.corpus, scratch / state, state)
                if build is not None:
                    time.sleep(args.settle)
                for name, call in calls.items():
                    timings[state][name] += [seconds(partial(call, q)) for q in questions]
                if build is not None:
                    if build.poll() is not None:
                        raise SystemExit(f"the {state} build ended before the questions did")
                    stop(build)
                print(f"round {round_ + 1}: {state} done", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows: dict[str, dict[str, Any]] = {}
    for state in states:
        for name in calls:
            row: dict[str, Any] = percentiles(timings[state][name])
            alone = percentiles(timings[ALONE][name])
            row["x alone"] = {q: round(row[q] / alone[q], 2) for q in alone}
            rows[f"{name}, {'alone' if state == ALONE else 'build at ' + state}"] = row
    print(f"{retriever.reader.passages.shape[0]:,} passages, {len(questions)} questions x {args.rounds}")
    print(f"{'call, state':24} {'p50':>7} {'p95':>7} {'p99':>7}   x alone (p50 / p95 / p99)")
    for label, row in rows.items():
        ratio = row["x alone"]
        print(
            f"{label:24} {row['p50']:7.1f} {row['p95']:7.1f} {row['p99']:7.1f}   "
            f"x{ratio['p50']:.2f} / x{ratio['p95']:.2f} / x{ratio['p99']:.2f}"
        )
    report = {"index": str(args.index), "corpus": str(args.corpus), "rounds": args.rounds, "rows": rows}
    write_json(args.json, report)


if __name__ == "__main__":
    main()
