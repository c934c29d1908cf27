"""Huge pages: asked for only over whole 2 MB pages inside an array, never changing its contents."""

from __future__ import annotations

import numpy as np

from index._huge_pages import HUGE_PAGE, back_with_huge_pages


def test_an_array_keeps_its_contents_and_only_its_whole_huge_pages_are_asked_for() -> None:
    data = np.arange(3 * HUGE_PAGE // 8 + 123, dtype=np.int64)  # ~6 MB, not aligned to 2 MB
    copy = data.copy()
    collapsed = back_with_huge_pages(data)
    inside = (data.ctypes.data + data.nbytes) // HUGE_PAGE - -(-data.ctypes.data // HUGE_PAGE)
    # 0 where the kernel declines (huge pages off, not Linux), else every whole page inside.
    assert collapsed in (0, inside * HUGE_PAGE)
    np.testing.assert_array_equal(data, copy)


def test_an_array_holding_no_whole_huge_page_is_left_alone() -> None:
    assert back_with_huge_pages(np.ones(HUGE_PAGE // 16, dtype=np.float64)) == 0  # 1 MB
