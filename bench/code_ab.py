"""Warm ``Retriever.search`` (or ``ask``) of this tree's ``retrieval`` package against another tree's,
the two taking turns question by question in one process, so both meet the same machine; and
whether they return the same results.

    git worktree add /tmp/before HEAD~2
    python bench/code_ab.py --index DIR --queries MultiHopRAG.json --before /tmp/before \\
        [--call search|ask] [--mode hybrid] [--rounds 3] [--json FILE]

The other tree's ``retrieval`` is imported under another name and runs against this tree's
``index`` and ``config``, so it measures changes to retrieval only. Each side loads the index
once; prints p50/p95/p99 in milliseconds for each, the CPU a call used (every thread, mean) and
their ratios, then for how many questions, asked once more after the timing, both returned the
same (search: the same passages in the same order, scores within 1e-6; ask: the same answer).
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
    turns.add_arguments(parser)
    parser.add_argument("--before", type=Path, required=True, help="another checkout of this project")
    args = parser.parse_args()
    questions = turns.questions_of(args)
    with tempfile.TemporaryDirectory() as scratch:  # kept while the other tree's modules run
        before_package = import_before(args.before, Path(scratch))
        sides = {"before": before_package.Retriever.load(args.index), "after": Retriever.load(args.index)}
        for retriever in sides.values():
            retriever.warm_up()
        report = turns.compared(sides, questions, args, "after / before")
        calls = turns.calls_of(sides, args)
        agreed = sum(same(args.call, calls["before"](q), calls["after"](q)) for q in questions)
    print(f"same results: {agreed} of {len(questions)}")
    turns.save({**report, "same_results": agreed, "questions": len(questions)}, args)


if __name__ == "__main__":
    main()
