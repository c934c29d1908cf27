"""Warm ``Retriever.search`` (or ``ask``) of this tree's code against another tree's, the two taking
turns question by question in one process, so both meet the same machine; and whether they return
the same results.

    git worktree add /tmp/before HEAD~2
    python bench/code_ab.py --index DIR --queries MultiHopRAG.json --before /tmp/before \\
        [--packages retrieval,index] [--call search|ask] [--mode hybrid] [--rounds 3] [--json FILE]

The other tree's packages named by ``--packages`` (``retrieval`` unless told) are imported under
other names and run against this tree's remaining ones (``config`` always), so the comparison
measures changes to those packages only. With ``index`` among them, each side opens the index
with its own reader (twice the memory), and each side first answers every question untimed.
Each side loads the index once; prints p50/p95/p99 in milliseconds for each, the CPU a call used
(every thread, mean) and their ratios, then for how many questions, asked once more after the
timing, both returned the same (search: the same passages in the same order, scores within 1e-6;
ask: the same answer), and for how many they did with scores set aside (a change that moves the
question's vector moves every score: the same passages in the same order; the same quotes, outlet
by outlet, and the same disagreements).
"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import _turns as turns  # bench/ is on sys.path when a script in it runs

from retrieval import Retriever

PACKAGES = ("retrieval", "index")  # what --packages may name; retrieval always comes from --before


def import_before(tree: Path, scratch: Path, packages: list[str]) -> Any:
    """``tree``'s ``packages``, copied into ``scratch`` as ``<name>_before`` with their imports of
    each other renamed to match; returns its retrieval package."""
    own = re.compile(rf"\b(from|import) ({'|'.join(packages)})\b")
    for package in packages:
        target = scratch / f"{package}_before"
        shutil.copytree(tree / package, target, ignore=shutil.ignore_patterns("__pycache__"))
        for module in target.glob("*.py"):
            module.write_text(own.sub(r"\1 \2_before", module.read_text(encoding="utf-8")), encoding="utf-8")
    sys.path.insert(0, str(scratch))
    return importlib.import_module("retrieval_before")


def same(call: str, before: Any, after: Any) -> bool:
    """Whether two sides' results agree: search results by passage and score, answers whole."""
    if call == "ask":
        return bool(before.model_dump() == after.model_dump())
    return [p.passage_id for p in before] == [p.passage_id for p in after] and all(
        abs(a.score - b.score) <= 1e-6 for a, b in zip(before, after, strict=True)
    )


def same_scores_aside(call: str, before: Any, after: Any) -> bool:
    """Whether two sides' results agree but for their scores."""
    if call == "ask":
        return bool(_unscored(before.model_dump()) == _unscored(after.model_dump()))
    return [p.passage_id for p in before] == [p.passage_id for p in after]


def _unscored(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _unscored(item) for key, item in value.items() if key != "score"}
    if isinstance(value, list):
        return [_unscored(item) for item in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    turns.add_arguments(parser)
    parser.add_argument("--before", type=Path, required=True, help="another checkout of this project")
    parser.add_argument(
        "--packages",
        default="retrieval",
        help=f"the other checkout's packages to compare, comma-separated, of {', '.join(PACKAGES)}",
    )
    args = parser.parse_args()
    named = {"retrieval", *args.packages.split(",")}
    if unknown := named - set(PACKAGES):
        parser.error(f"--packages: {', '.join(sorted(unknown))} is not one of {', '.join(PACKAGES)}")
    packages = sorted(named, key=PACKAGES.index)
    questions = turns.questions_of(args)
    if "index" in packages:
        # The copy's numba kernels are compiled afresh, each on its first use, which ten questions
        # do not all reach; compiling inside the timed calls doubled the copy's CPU a call.
        args.warm = max(args.warm, len(questions))
    with tempfile.TemporaryDirectory() as scratch:  # kept while the other tree's modules run
        before_package = import_before(args.before, Path(scratch), packages)
        sides = {"before": before_package.Retriever.load(args.index), "after": Retriever.load(args.index)}
        for retriever in sides.values():
            retriever.warm_up()
        report = turns.compared(sides, questions, args, "after / before")
        calls = turns.calls_of(sides, args)
        results = [(calls["before"](q), calls["after"](q)) for q in questions]
    agreed = sum(same(args.call, *pair) for pair in results)
    alike = sum(same_scores_aside(args.call, *pair) for pair in results)
    print(f"same results: {agreed} of {len(questions)} ({alike} with scores set aside)")
    turns.save(
        {**report, "same_results": agreed, "same_scores_aside": alike, "questions": len(questions)}, args
    )


if __name__ == "__main__":
    main()
