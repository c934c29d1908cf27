"""Warm ``Retriever.ask`` for questions that ask for a value (a duration, a count, a sum, a date),
against one that does not, in one run.

    python bench/typed_questions.py [--index DIR] [--repeat 5] [--json FILE]

A typed answer keeps only sentences stating such a value, found by quantulum3 (dates: a pattern and
dateparser) and remembered per sentence. "first" forgets them before each call: a question on a
story nobody asked about yet; "repeated" is the same question again, as a follow-up on the story
rereads most of the same sentences. Defaults to the bundled corpus's index.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from _results import write_json
from _timing import median_seconds  # bench/ is on sys.path when a script in it runs

from retrieval import Retriever, _values

UNTYPED = "What did Russia propose at the talks?"
TYPED = (
    "How long did the talks last?",
    "How many bodies were exchanged?",
    "How much did the damage cost?",
    "When did the talks take place?",
)


def _first(retriever: Retriever, question: str) -> None:
    # Before round 22 the memo was an lru_cache, and before round 5 there was none.
    forget = getattr(_values, "forget_values", None) or getattr(_values._quantities, "cache_clear", None)
    if forget is not None:
        forget()  # what was read from sentences before
    retriever.ask(question)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    retriever = Retriever.load(args.index)
    retriever.warm_up()
    for question in (UNTYPED, *TYPED):
        retriever.ask(question)  # loads what a first answer loads (unit tables, sessions)
    base = median_seconds(partial(retriever.ask, UNTYPED), args.repeat)
    rows = {UNTYPED: {"first": base, "repeated": base}}
    for question in TYPED:
        rows[question] = {
            "first": median_seconds(partial(_first, retriever, question), args.repeat),
            "repeated": median_seconds(partial(retriever.ask, question), args.repeat),
        }
    print(f"{retriever.stats()['passages']:,} passages; medians of {args.repeat} calls")
    print(f"{'question':40} {'first ms':>9} {'x untyped':>10} {'repeated ms':>12} {'x untyped':>10}")
    for question, row in rows.items():
        first, repeated = row["first"], row["repeated"]
        print(
            f"{question:40} {first * 1000:9.1f} {first / base:10.2f} "
            f"{repeated * 1000:12.1f} {repeated / base:10.2f}"
        )
    data = {q: {**row, "first_ratio": row["first"] / base} for q, row in rows.items()}
    write_json(args.json, data)


if __name__ == "__main__":
    main()
