"""Warm ``Retriever.search`` (or ``ask``) under the default retrieval settings against changed ones,
the two taking turns question by question in one process, so both meet the same machine.

    python bench/settings_ab.py --index DIR --queries MultiHopRAG.json \\
        --set proposal_term_share=1.0 [--call search|ask] [--mode hybrid] [--rounds 3] [--json FILE]

Prints p50/p95/p99 in milliseconds for each side, the CPU a call used, and their ratios; ``--set``
names fields of ``RetrievalSettings`` (repeatable).
"""

from __future__ import annotations

import argparse
from typing import Any

import _turns as turns  # bench/ is on sys.path when a script in it runs

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
    turns.add_arguments(parser)
    parser.add_argument("--set", action="append", required=True, dest="assignments")
    args = parser.parse_args()
    questions = turns.questions_of(args)
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
    turns.save(turns.compared(sides, questions, args, "ratio (changed / default)"), args)


if __name__ == "__main__":
    main()
