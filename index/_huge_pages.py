"""Backing large, randomly read arrays with 2 MB pages on Linux.

A search walks FAISS's HNSW graph through ~1 GB at 1M passages, a few hundred scattered reads a
question, and with 4 KB pages nearly every read also misses the TLB. Linux here gives huge pages
only to memory that asks for them (``transparent_hugepage`` is ``madvise``), and the index is read
into memory before anyone could ask, so its pages are collapsed into huge ones after loading. At
1M passages, the graph walk alone, the two copies taking turns in one process: 4.64 -> 3.59 ms
p50, 6.13 -> 4.76 p95 (x0.77, x0.78).
"""

from __future__ import annotations

import ctypes
import logging
import sys
from functools import cache
from typing import Any

import numpy.typing as npt

HUGE_PAGE = 1 << 21
_MADV_HUGEPAGE = 14  # prefer huge pages for this range from now on
_MADV_COLLAPSE = 25  # collapse it into huge pages now (Linux 6.1 and later)

_log = logging.getLogger("quotedesk.index")


def back_with_huge_pages(array: npt.NDArray[Any]) -> int:
    """Ask the kernel to back the whole 2 MB pages inside ``array``'s memory with huge pages; the
    bytes it collapsed, or 0 where it declined or cannot (not Linux, huge pages off, an array
    holding no whole 2 MB page). The contents stay as they are."""
    start = -(-array.ctypes.data // HUGE_PAGE) * HUGE_PAGE
    end = (array.ctypes.data + array.nbytes) // HUGE_PAGE * HUGE_PAGE
    madvise = _madvise()
    if madvise is None or end <= start:
        return 0
    madvise(start, end - start, _MADV_HUGEPAGE)
    if madvise(start, end - start, _MADV_COLLAPSE) != 0:
        _log.debug("huge pages declined for %d MB (errno %d)", (end - start) >> 20, ctypes.get_errno())
        return 0
    return end - start


@cache
def _madvise() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise
