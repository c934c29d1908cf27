"""What the A/B scripts share: their arguments, and two sides timed taking turns question by question
in one process, so both meet the same machine."""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from _results import write_json
from _timing import seconds
from query_latency import percentiles

WARM_QUESTIONS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The index, the questions and the call both sides answer, and where the report goes."""
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--call", choices=("search", "ask"), default="search")
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--warm", type=int, default=WARM_QUESTIONS, help="questions each side answers untimed first"
    )
    parser.add_argument(
        "--forget-values",
        action="store_true",
        help="forget the values read from sentences before each call, as for a story nobody asked about yet",
    )
    parser.add_argument("--json", type=Path, default=None)


def questions_of(args: argparse.Namespace) -> list[str]:
    """The first ``--questions`` questions of ``--queries``, in file order."""
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    return [q["query"] for q in queries][: args.questions]


def calls_of(retrievers: dict[str, Any], args: argparse.Namespace) -> dict[str, Callable[[str], Any]]:
    """Each side's ``--call`` in ``--mode`` (a search's top 10), by the side's name."""
    options: dict[str, Any] = {"mode": args.mode, **({"k": 10} if args.call == "search" else {})}
    return {name: partial(getattr(retriever, args.call), **options) for name, retriever in retrievers.items()}


@dataclass(frozen=True)
class Timings:
    """Each side's seconds per call: wall-clock, and the CPU the whole process (every thread) used
    meanwhile. The CPU shows work a call saves that its wall time hides, because it ran beside
    the longer of two threads; concurrent callers would have had it."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]


def warmed(calls: Iterable[Callable[[str], Any]], questions: list[str]) -> None:
    """Each call answers ``questions`` once, untimed."""
    for call in calls:
        for question in questions:
            call(question)


def forgetting_values(retrievers: dict[str, Any]) -> dict[str, Callable[[], None]]:
    """For each side, what forgets the values its answers read from sentences (each side's own
    ``retrieval`` package remembers them)."""
    forget = {}
    for name, retriever in retrievers.items():
        values = importlib.import_module(f"{type(retriever).__module__.split('.')[0]}._values")
        # Before round 22 the memo was an lru_cache.
        forget[name] = getattr(values, "forget_values", None) or values._quantities.cache_clear
    return forget


def taking_turns(
    calls: dict[str, Callable[[str], Any]],
    questions: list[str],
    rounds: int,
    warm: int = WARM_QUESTIONS,
    before_each: dict[str, Callable[[], None]] | None = None,
) -> Timings:
    """Each side's :class:`Timings` for each question, ``rounds`` times over, the two taking turns
    per question and swapping who goes first; each side first answers ``warm`` questions untimed
    (what a side compiles or reads on first use is not what it costs a question). A side's
    ``before_each``, if any, runs untimed before each of its timed calls."""
    warmed(calls.values(), questions[:warm])
    timings = Timings({name: [] for name in calls}, {name: [] for name in calls})
    for round_ in range(rounds):
        for i, question in enumerate(questions):
            order = list(calls.items())
            if (i + round_) % 2:
                order.reverse()
            for name, call in order:
                if before_each is not None:
                    before_each[name]()
                cpu = time.process_time()
                timings.wall[name].append(seconds(partial(call, question)))
                timings.cpu[name].append(time.process_time() - cpu)
    return timings


def report(
    timings: Timings, passages: int, questions: int, args: argparse.Namespace, ratio_label: str
) -> dict[str, Any]:
    """Print each side's p50/p95/p99, the mean CPU per call (ms), and the second's over the first;
    returns them for ``--json``."""
    rows = {
        name: {**percentiles(wall), "cpu": round(1000 * sum(timings.cpu[name]) / len(wall), 1)}
        for name, wall in timings.wall.items()
    }
    first, second = rows.values()
    ratios = {k: round(second[k] / first[k], 3) for k in first}
    width = max(len(ratio_label), *map(len, rows))
    print(f"{passages:,} passages, {questions} questions x {args.rounds}, {args.call} {args.mode}")
    for name, row in rows.items():
        print(f"{name:{width}} " + " ".join(f"{k} {v:7.1f}" for k, v in row.items()))
    print(f"{ratio_label:{width}} " + " ".join(f"{k} {v:7.3f}" for k, v in ratios.items()))
    return {"rows": rows, "ratios": ratios}


def compared(
    sides: dict[str, Any], questions: list[str], args: argparse.Namespace, ratio_label: str
) -> dict[str, Any]:
    """Each side's ``--call`` timed taking turns (:func:`taking_turns`), then printed and returned
    as :func:`report` does; the first side's index gives the passage count."""
    forget = forgetting_values(sides) if args.forget_values else None
    timings = taking_turns(calls_of(sides, args), questions, args.rounds, args.warm, forget)
    passages = next(iter(sides.values())).reader.passages.shape[0]
    return report(timings, passages, len(questions), args, ratio_label)


def save(result: dict[str, Any], args: argparse.Namespace) -> None:
    """Write ``result`` to ``--json``, when it was given."""
    write_json(args.json, result)
