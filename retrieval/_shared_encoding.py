"""A question's parts embedded by two threads: the caller, and the worker when it is free.

Embedding the parts is the longest step of a hybrid search (1M passages: ~10 ms of ~15, and 13-17
ms for the longest 5% of MultiHop-RAG questions), while the worker's BM25 proposals take ~4 ms.
The worker then takes the batches the caller has not started, instead of leaving its core idle
(1M: search p50 x0.90 to x0.97; 9k: x0.78; a dense search, which gives the worker nothing else,
x0.79).

With an onnx-int8 export's packed graph the batches are packs: a few texts in one row, one pass
each (:meth:`~index.OnnxEmbedder.batches`).
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np
import numpy.typing as npt

from index import Embedder


class SharedEncoding:
    """``texts`` embedded batch by batch (:meth:`~index.Embedder.batches`, planned for ``ways``
    threads), each batch by whichever thread takes it first; a text's vector is the one
    ``embedder.encode`` gives it with its batch, whichever thread that was."""

    def __init__(self, embedder: Embedder, texts: list[str], ways: int = 1) -> None:
        self._embedder = embedder
        self._texts = texts
        self._waiting = deque(embedder.batches(texts, ways))
        self._unfinished = len(self._waiting)
        self._vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        self._error: BaseException | None = None
        self._finished = threading.Condition()

    def help(self) -> None:
        """Embed batches nobody has taken, until none is left; what embedding raises is kept for
        :meth:`vectors` to raise in the caller."""
        while True:
            with self._finished:
                if not self._waiting:
                    return
                rows = self._waiting.popleft()
            vectors: npt.NDArray[np.float32] | None = None
            error: BaseException | None = None
            try:
                vectors = self._embedder.encode([self._texts[i] for i in rows])
            except BaseException as exc:  # raised again by vectors(), in the thread that needs them
                error = exc
            with self._finished:
                if vectors is not None:
                    self._vectors[rows] = vectors
                self._error = self._error or error
                self._unfinished -= 1
                self._finished.notify_all()

    def vectors(self) -> npt.NDArray[np.float32]:
        """Every text's vector, in order: this thread embeds what is left, then waits for batches
        another thread is embedding."""
        self.help()
        with self._finished:
            self._finished.wait_for(lambda: self._unfinished == 0)
            if self._error is not None:
                raise self._error
        return self._vectors
