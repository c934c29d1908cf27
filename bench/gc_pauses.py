"""Warm ``Retriever.ask`` (or ``search``) with the loaded index frozen out of the cyclic garbage
collector's sight (``gc_freeze``, as the bot runs) against left in it, in one process: the two states
take turns a pass of the questions at a time, swapping which goes first, since a collector pass
falls due over many answers and a state cannot change per question without a full pass.

    python bench/gc_pauses.py --index DIR --queries MultiHopRAG.json [--call ask|search] \\
        [--mode hybrid] [--questions 200] [--rounds 2] [--json FILE]

Prints each state's p50/p95/p99 and slowest call (ms), the CPU a call used, the ratios, and the
collector's passes by generation: how many, and their median and longest pause.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from functools import partial
from typing import Any

import _turns as turns  # bench/ is on sys.path when a script in it runs
from _timing import seconds

from retrieval import Retriever
from retrieval._memory import freeze_loaded

THAWED, FROZEN = "left to the collector", "frozen (gc_freeze)"


class PassClock:
    """The collector's passes while it is installed, as (state, generation, milliseconds)."""

    def __init__(self) -> None:
        self.state = THAWED
        self.passes: list[tuple[str, int, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            elapsed = 1000 * (time.perf_counter() - self._started)
            self.passes.append((self.state, int(info["generation"]), elapsed))


def enter(state: str) -> None:
    """Put the process in ``state``. Freezing starts with a full pass, as the bot's does; thawing
    does not, so the objects answers leave behind build up across passes of the questions towards
    the collector's next full pass as they would over a day's answers."""
    if state == FROZEN:
        freeze_loaded()
    else:
        gc.unfreeze()


def pass_table(clock: PassClock) -> dict[str, dict[str, dict[str, float]]]:
    """Each state's passes per generation: count, median and longest pause (ms)."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    for state in (THAWED, FROZEN):
        table[state] = {}
        for generation in range(3):
            pauses = [ms for s, g, ms in clock.passes if s == state and g == generation]
            if pauses:
                table[state][f"gen{generation}"] = {
                    "passes": len(pauses),
                    "median": round(statistics.median(pauses), 2),
                    "max": round(max(pauses), 1),
                }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    turns.add_arguments(parser)
    parser.set_defaults(call="ask", rounds=2, warm=20)
    args = parser.parse_args()
    questions = turns.questions_of(args)
    retriever = Retriever.load(args.index)
    retriever.warm_up()
    (call,) = turns.calls_of({"retriever": retriever}, args).values()
    turns.warmed([call], questions[: args.warm])
    clock = PassClock()
    gc.callbacks.append(clock)
    timings = turns.Timings({THAWED: [], FROZEN: []}, {THAWED: [], FROZEN: []})
    for round_ in range(args.rounds):
        order = (THAWED, FROZEN) if round_ % 2 == 0 else (FROZEN, THAWED)
        for state in order:
            clock.state = "transition"
            enter(state)
            clock.state = state
            for question in questions:
                cpu = time.process_time()
                timings.wall[state].append(seconds(partial(call, question)))
                timings.cpu[state].append(time.process_time() - cpu)
    gc.callbacks.remove(clock)
    gc.unfreeze()
    passages = retriever.reader.passages.shape[0]
    report = turns.report(timings, passages, len(questions), args, "ratio (frozen / left)")
    slowest = {state: round(1000 * max(wall), 1) for state, wall in timings.wall.items()}
    print("slowest call (ms): " + ", ".join(f"{state} {ms}" for state, ms in slowest.items()))
    passes = pass_table(clock)
    for state, generations in passes.items():
        print(f"{state}: " + "; ".join(f"{g} {row}" for g, row in generations.items()))
    print(f"objects the collector tracks once thawed: {len(gc.get_objects()):,}")
    turns.save({**report, "slowest": slowest, "collector_passes": passes}, args)


if __name__ == "__main__":
    main()
