"""A build's CPU priority: below the bot's, which answers on the same two cores meanwhile."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from config import BuildPriority

# The lowest priority. Linux's CFQ and BFQ I/O schedulers also derive a process's I/O priority from
# it, unless one was set (ionice).
LOW_NICENESS = 19
_THREADS = Path("/proc/self/task")


def lower_build_priority(priority: BuildPriority) -> str | None:
    """Run this process at ``priority`` from now on; say how, or ``None`` when nothing changed.

    Linux sets a priority thread by thread, and a thread inherits its creator's. So every thread of
    the process is lowered, those started before (by an imported library) and, through the calling
    one, those that ONNX Runtime and FAISS start later.
    """
    if priority is BuildPriority.NORMAL:
        return None
    if priority is BuildPriority.IDLE and hasattr(os, "SCHED_IDLE"):
        for thread in _thread_ids():
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
        return "idle (SCHED_IDLE)"
    if not hasattr(os, "setpriority"):  # Windows
        return None
    for thread in _thread_ids():
        with contextlib.suppress(ProcessLookupError):
            os.setpriority(os.PRIO_PROCESS, thread, LOW_NICENESS)
    return f"nice {os.getpriority(os.PRIO_PROCESS, 0)}"


def _thread_ids() -> list[int]:
    """The other threads of this process, then the calling one (0); where there is no /proc, just 0,
    which there stands for the whole process."""
    try:
        calling = threading.get_native_id()
        return [int(name) for name in os.listdir(_THREADS) if int(name) != calling] + [0]
    except OSError:
        return [0]
