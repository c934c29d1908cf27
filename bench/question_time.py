"""Time of ``Retriever.ask`` for ordinary and hostile questions, measured in one run as ratios.

    python bench/question_time.py [--index DIR] [--repeat 5] [--json FILE]

Questions are cut to ``retrieval.max_question_chars`` (1,000) before retrieval, so a 100,000-character
paste costs about what a long ordinary question costs.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from _results import write_json
from _timing import median_seconds  # bench/ is on sys.path when a script in it runs

from retrieval import Retriever

CASES = {
    "ordinary": "How long did the talks last?",
    "html injection": "<b>talks</b><script>alert(1)</script> & <i>last</i>",
    "regex metacharacters": "(.*)+$[\\d{99999}] talks?",
    "mixed scripts and emoji": "переговоры 会谈 محادثات 🕊️ talks 👍🏽",
    "control characters": "talks\x00\x1b[2J\x7f last",
    "100,000 characters": "How long did the talks last? " * 3500,
}


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
    retriever.ask(CASES["ordinary"])
    rows = {}
    for name, question in CASES.items():
        rows[name] = median_seconds(partial(retriever.ask, question), args.repeat)
    base = rows["ordinary"]
    print(f"{'question':28} {'median ms':>10} {'x ordinary':>11}")
    for name, seconds in rows.items():
        print(f"{name:28} {seconds * 1000:10.1f} {seconds / base:11.2f}")
    data = {name: {"seconds": seconds, "ratio": seconds / base} for name, seconds in rows.items()}
    write_json(args.json, data)


if __name__ == "__main__":
    main()
