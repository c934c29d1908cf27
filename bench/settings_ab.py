"""Warm ``Retriever.search`` (or ``ask``) under the default retrieval settings against changed ones,
the two taking turns question by question in one process, so both meet the same machine.

    python bench/settings_ab.py --index DIR --queries MultiHopRAG.json \\
        --set proposal_term_share=1.0 [--call search|ask] [--mode hybrid] [--rounds 3] [--json FILE]

Prints p50/p95/p99 in milliseconds for each side and their ratio; ``--set`` names fields of
``RetrievalSettings`` (repeatable).
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import Any

from _timing import seconds  # bench/ is on sys.path when a script in it runs
from query_latency import percentiles

from config import Settings
from retrieval import Retriever


def changed(settings: Settings, assignments: list[str]) -> Settings:
    """``settings`` with each ``name=value`` of ``assignments`` set in its retrieval group."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        values[name] = value
    retrieval = settings.retrieval.model_validate({**settings.retrieval.model_dump(), **values})
    return settings.model_copy(update={"retrieval": retrieval})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--set", action="append", required=True, dest="assignments")
    parser.add_argument("--call", choices=("search", "ask"), default="search")
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    questions = [q["query"] for q in json.loads(args.queries.read_text(encoding="utf-8"))][: args.questions]
    default = Retriever.load(args.index)
    default.warm_up()
    # The same loaded index and model: only the settings differ.
    other = Retriever(
        default.reader,
        changed(default.settings, args.assignments),
        default.embedder,
        index_dir=default.index_dir,
    )
    sides = {"default": default, " ".join(args.assignments): other}
    calls = {
        name: partial(getattr(r, args.call), **({"k": 10} if args.call == "search" else {}), mode=args.mode)
        for name, r in sides.items()
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call(questions[0])
    for round_ in range(args.rounds):
        for i, question in enumerate(questions):
            order = list(calls.items())
            if (i + round_) % 2:
                order.reverse()
            for name, call in order:
                times[name].append(seconds(partial(call, question)))
    rows = {name: percentiles(values) for name, values in times.items()}
    first, second = rows.values()
    passages = default.reader.passages.shape[0]
    print(f"{passages:,} passages, {len(questions)} questions x {args.rounds}, {args.call} {args.mode}")
    for name, row in rows.items():
        print(f"{name:32} " + " ".join(f"{k} {v:7.1f}" for k, v in row.items()))
    ratios = {k: round(second[k] / first[k], 3) for k in first}
    print(f"{'ratio (changed / default)':32} " + " ".join(f"{k} {v:7.3f}" for k, v in ratios.items()))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "ratios": ratios}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
