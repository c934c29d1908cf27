"""Vector rows read with positioned reads: the rows numpy would give, and nothing mapped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import IndexCorruptError
from index._rows import RowFile


@pytest.fixture
def table(tmp_path: Path) -> tuple[Path, np.ndarray]:
    values = np.random.default_rng(3).normal(size=(500, 12)).astype(np.float16)
    path = tmp_path / "rows.npy"
    np.save(path, values)
    return path, values


@pytest.mark.parametrize(
    "rows",
    [[], [0], [499], [3, 4, 5, 9, 10, 200], [10, 2, 3, 3, 450], list(range(500))],
    ids=["none", "first", "last", "runs", "unordered-repeats", "all"],
)
def test_rows_are_numpys_rows(table: tuple[Path, np.ndarray], rows: list[int]) -> None:
    path, values = table
    wanted = np.array(rows, dtype=np.int64)
    got = RowFile(path).rows(wanted)
    assert got.dtype == values.dtype and got.shape == (len(rows), 12)
    assert np.array_equal(got, values[wanted])


def test_a_range_is_one_slice(table: tuple[Path, np.ndarray]) -> None:
    path, values = table
    assert np.array_equal(RowFile(path).range(7, 70), values[7:70])
    assert RowFile(path).range(5, 5).shape == (0, 12)


def test_rows_outside_the_table_are_refused(table: tuple[Path, np.ndarray]) -> None:
    path, _ = table
    with pytest.raises(IndexError, match=r"0\.\.499"):
        RowFile(path).rows(np.array([3, 500], dtype=np.int64))
    with pytest.raises(IndexError):
        RowFile(path).rows(np.array([-1], dtype=np.int64))


def test_a_truncated_or_foreign_file_says_which(tmp_path: Path, table: tuple[Path, np.ndarray]) -> None:
    path, _ = table
    data = path.read_bytes()
    short = tmp_path / "short.npy"
    short.write_bytes(data[:-100])
    with pytest.raises(IndexCorruptError, match=r"short\.npy: shorter than its 500 rows"):
        RowFile(short)
    flat = tmp_path / "flat.npy"
    np.save(flat, np.zeros(10, dtype=np.float16))
    with pytest.raises(IndexCorruptError, match=r"flat\.npy: not a table of rows"):
        RowFile(flat)
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"not numpy at all")
    with pytest.raises(IndexCorruptError, match=r"garbage\.npy: unreadable array"):
        RowFile(garbage)


def test_reading_rows_maps_nothing(table: tuple[Path, np.ndarray]) -> None:
    """The point of the class: rows read leave no pages of the file in the process's memory map."""
    path, _ = table
    RowFile(path).rows(np.arange(0, 500, 7, dtype=np.int64))
    assert str(path) not in Path("/proc/self/maps").read_text()
