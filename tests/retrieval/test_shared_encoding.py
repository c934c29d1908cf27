"""A question's parts embedded by two threads: the same vectors, whoever embeds which batch."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from retrieval._shared_encoding import SharedEncoding

PARTS = ["How long did the talks last", "who led the delegations", "Reuters", "what did Kyiv say"]
WAIT_SECONDS = 10


class OneTextBatches:
    """Each text its own batch; a text's vector depends on the text alone. ``in_first_batch`` is
    called inside the first batch of the thread that made this, which then waits until another
    thread has embedded a batch."""

    name = "fake"
    dimension = 3

    def __init__(
        self, *, fail_on: str | None = None, in_first_batch: Callable[[], None] | None = None
    ) -> None:
        self.fail_on = fail_on
        self.in_first_batch = in_first_batch
        self.owner = threading.get_ident()
        self.embedded_by: dict[str, int] = {}
        self.helped = threading.Event()

    def warm_up(self) -> None:
        return None

    def batches(self, texts: Sequence[str], ways: int = 1) -> list[list[int]]:
        return [[i] for i in range(len(texts))]

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        me = threading.get_ident()
        if self.in_first_batch is not None and me == self.owner and not self.embedded_by:
            self.in_first_batch()
            assert self.helped.wait(WAIT_SECONDS), "no other thread took a batch"
        if self.fail_on in texts:
            raise RuntimeError(f"cannot embed {self.fail_on!r}")
        for text in texts:
            self.embedded_by[text] = me
        if me != self.owner:
            self.helped.set()
        return _vectors(texts)


def _vectors(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    return np.array([[len(t), t.count(" "), ord(t[0])] for t in texts], dtype=np.float32)


def test_the_caller_alone_embeds_every_batch_in_order() -> None:
    embedder = OneTextBatches()
    shared = SharedEncoding(embedder, PARTS)
    assert np.array_equal(shared.vectors(), _vectors(PARTS))
    assert set(embedder.embedded_by) == set(PARTS)
    assert set(embedder.embedded_by.values()) == {threading.get_ident()}


def test_a_helper_takes_the_batches_the_caller_has_not_started() -> None:
    helper = threading.Thread(target=lambda: shared.help())
    # The helper starts once the caller is inside the first batch, which waits for it to embed another.
    embedder = OneTextBatches(in_first_batch=helper.start)
    shared = SharedEncoding(embedder, PARTS)
    vectors = shared.vectors()
    helper.join(WAIT_SECONDS)
    assert np.array_equal(vectors, _vectors(PARTS))
    by = embedder.embedded_by
    assert by[PARTS[0]] == threading.get_ident()
    assert set(by) == set(PARTS) and len(set(by.values())) == 2
    shared.help()  # nothing left: returns at once


def test_what_a_helper_could_not_embed_is_raised_in_the_caller() -> None:
    embedder = OneTextBatches(fail_on=PARTS[1])
    shared = SharedEncoding(embedder, PARTS)
    helper = threading.Thread(target=shared.help)
    helper.start()
    helper.join(WAIT_SECONDS)
    with pytest.raises(RuntimeError, match="cannot embed 'who led the delegations'"):
        shared.vectors()


def test_no_texts_no_vectors() -> None:
    assert SharedEncoding(OneTextBatches(), []).vectors().shape == (0, OneTextBatches.dimension)
