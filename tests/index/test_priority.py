"""A build lowers its own priority, every thread's. Lowering is for good, so each case runs in a
subprocess of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from config import BuildPriority
from index import lower_build_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's thread priorities")

# A thread started before the call (as an imported library's would be) and one started after (as
# ONNX Runtime's and FAISS's are), each reporting its own niceness and scheduling policy.
_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, threading
    from config import BuildPriority
    from index import lower_build_priority

    def report(into, release=None):
        if release is not None:
            release.wait()
        into.append((os.getpriority(os.PRIO_PROCESS, 0), os.sched_getscheduler(0)))

    before, after, release = [], [], threading.Event()
    early = threading.Thread(target=report, args=(before, release))
    early.start()
    said = lower_build_priority(BuildPriority(sys.argv[1]))
    late = threading.Thread(target=report, args=(after,))
    late.start()
    release.set()
    early.join(); late.join()
    main = (os.getpriority(os.PRIO_PROCESS, 0), os.sched_getscheduler(0))
    print(json.dumps({"said": said, "threads": [main, *before, *after]}))
    """
)


def _lowered(priority: BuildPriority) -> dict[str, object]:
    command = [sys.executable, "-c", _SCRIPT, priority.value]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_low_lowers_the_threads_started_before_and_after() -> None:
    seen = _lowered(BuildPriority.LOW)
    assert seen["said"] == "nice 19"
    assert seen["threads"] == [[19, os.SCHED_OTHER]] * 3


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="no SCHED_IDLE")
def test_idle_puts_every_thread_in_the_idle_class() -> None:
    seen = _lowered(BuildPriority.IDLE)
    assert seen["said"] == "idle (SCHED_IDLE)"
    assert [policy for _nice, policy in seen["threads"]] == [os.SCHED_IDLE] * 3  # type: ignore[attr-defined]


def test_normal_changes_nothing() -> None:
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    assert lower_build_priority(BuildPriority.NORMAL) is None
    assert os.getpriority(os.PRIO_PROCESS, 0) == niceness
    seen = _lowered(BuildPriority.NORMAL)
    assert seen["said"] is None and seen["threads"] == [[niceness, os.SCHED_OTHER]] * 3
