"""Warm ``Retriever.search`` (or ``ask``) of this tree's ``retrieval`` package against another tree's,
the two taking turns question by question in one process, so both meet the same machine; and
whether they return the same results.

    git worktree add /tmp/before HEAD~2
    python bench/code_ab.py --index DIR --queries MultiHopRAG.json --before /tmp/before \\
        [--call search|ask] [--mode hybrid] [--rounds 3] [--json FILE]

The other tree's ``retrieval`` is imported under another name and runs against this tree's
``index`` and ``config``, so it measures changes to retrieval only. Each side loads the index
once; prints p50/p95/p99 in milliseconds for each and their ratio, then how many of the first
round's results were the same (search: the same passages in the same order, scores within 1e-6).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from _timing import seconds  # bench/ is on sys.path when a script in it runs
from query_latency import percentiles

from retrieval import Retriever

BEFORE_PACKAGE = "retrieval_before"


def import_before(tree: Path, scratch: Path) -> Any:
    """``tree``'s retrieval package, copied into ``scratch`` as :data:`BEFORE_PACKAGE` with its own
    imports renamed to match."""
    target = scratch / BEFORE_PACKAGE
    shutil.copytree(tree / "retrieval", target, ignore=shutil.ignore_patterns("__pycache__"))
    own = re.compile(r"\b(from|import) retrieval\b")
    for module in target.glob("*.py"):
        module.write_text(
            own.sub(rf"\1 {BEFORE_PACKAGE}", module.read_text(encoding="utf-8")), encoding="utf-8"
        )
    sys.path.insert(0, str(scratch))
    return importlib.import_module(BEFORE_PACKAGE)


def same(call: str, before: Any, after: Any) -> bool:
    """Whether two sides' results agree: search results by passage and score, answers whole."""
    if call == "ask":
        return bool(before.model_dump() == after.model_dump())
    return [p.passage_id for p in before] == [p.passage_id for p in after] and all(
        abs(a.score - b.score) <= 1e-6 for a, b in zip(before, after, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--before", type=Path, required=True, help="another checkout of this project")
    parser.add_argument("--call", choices=("search", "ask"), default="search")
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    questions = [q["query"] for q in json.loads(args.queries.read_text(encoding="utf-8"))][: args.questions]
    with tempfile.TemporaryDirectory() as scratch:  # kept while the other tree's modules run
        before_package = import_before(args.before, Path(scratch))
        sides = {"before": before_package.Retriever.load(args.index), "after": Retriever.load(args.index)}
        compare(sides, questions, args)


def compare(sides: dict[str, Any], questions: list[str], args: argparse.Namespace) -> None:
    options: dict[str, Any] = {"mode": args.mode, **({"k": 10} if args.call == "search" else {})}
    calls: dict[str, Callable[[str], Any]] = {}
    for name, retriever in sides.items():
        retriever.warm_up()
        calls[name] = partial(getattr(retriever, args.call), **options)
        calls[name](questions[0])
    times: dict[str, list[float]] = {name: [] for name in calls}
    agreed = 0
    for round_ in range(args.rounds):
        for i, question in enumerate(questions):
            order = list(calls.items())
            if (i + round_) % 2:
                order.reverse()
            for name, call in order:
                times[name].append(seconds(partial(call, question)))
            if round_ == 0:
                agreed += same(args.call, calls["before"](question), calls["after"](question))
    rows = {name: percentiles(values) for name, values in times.items()}
    passages = sides["after"].reader.passages.shape[0]
    print(f"{passages:,} passages, {len(questions)} questions x {args.rounds}, {args.call} {args.mode}")
    for name, row in rows.items():
        print(f"{name:8} " + " ".join(f"{k} {v:7.1f}" for k, v in row.items()))
    ratios = {k: round(rows["after"][k] / rows["before"][k], 3) for k in rows["before"]}
    print("after / before " + " ".join(f"{k} {v:7.3f}" for k, v in ratios.items()))
    print(f"same results: {agreed} of {len(questions)}")
    if args.json:
        report = {"rows": rows, "ratios": ratios, "same_results": agreed, "questions": len(questions)}
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
