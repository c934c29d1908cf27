"""The embedding model as ONNX with int8 weights, run by ONNX Runtime without PyTorch
(exported once from the local model by :mod:`index._onnx_export`).

The exported graph ends in the model's own pooling (mean over tokens) and L2 normalisation, so a
forward pass returns finished sentence vectors. Weights are quantised per output channel, which
keeps vectors within ~0.99 cosine of PyTorch's (per-tensor quantisation fell to ~0.96). A second
graph takes a question's parts packed into one row, one pass for all (:func:`run_packed`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from config import ModelSettings
from index._errors import ModelUnavailableError

MODEL_FILE = "model_int8.onnx"
# The same model taking a few texts packed into one row (:func:`run_packed`); an export from before
# it has none, and its questions run in padded batches.
PACKED_FILE = "packed_int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
EXPORT_FILE = "export.json"
# The exporter's version, in EXPORT_FILE. Version 2 writes a BERT encoder's forward pass out
# (:mod:`index._bert_graphs`); earlier exports (no version) ran both graphs through the model's
# own modules: a search's parts ~1.15x slower, a build's texts ~1.5x.
EXPORT_VERSION = 2
# A batch takes one more text only while its padding stays under this share of its tokens: a
# question's short clauses padded to the question's length cost more than running them apart
# (measured: 8 ms against 13 ms for a MultiHop question and its clauses).
_MAX_PADDING_SHARE = 0.2
# ... and only while it holds at most this many tokens, padding included. ONNX Runtime keeps a
# session's largest pass's buffers for its life, and a build runs a session per core (see
# SIDE_BY_SIDE_MIN_BATCHES_EACH): 32 texts of 256 tokens took 504 MB, 16 took 252 MB, at the same
# time a text (49.5 and 51.3 ms, one thread).
MAX_BATCH_TOKENS = 4096
# A question and its clauses (at most a batch of texts) are embedded on one core: answering runs
# BM25 on the other meanwhile, and two threads sharing both cores with it made a 1M-passage search
# slower (p50 23 -> 19 ms with one; alone, a question took 7.0 ms on either). More texts, a
# build's, run on every core (1,500 passages: 4.9 s on two, 7.5 s on one).
QUESTION_THREADS = 1
# ... and so do texts of more tokens than this, such as the ~20 value clauses an answer to "how
# long ..." rescores (~400 tokens).
ONE_CORE_MAX_TOKENS = 256
# Texts on every core run side by side: a session per core, each of one thread, each taking the
# next batch. One session sharing each batch between the cores meets them at every node of every
# pass: on two cores, 3,781 MultiHop-RAG build texts took 16.7 s that way and 14.1 side by side
# (x0.84, the same batches), and an answer's value clauses 46.4 ms p50, hardly less than one
# thread's 49.3, against 33.6 side by side. Texts forming fewer than this many batches a session
# are first dealt out by length, in turn, into a group per session (_batches_for_sessions).
SIDE_BY_SIDE_MIN_BATCHES_EACH = 2
# At most this many sessions side by side (each holds its own buffers); more cores share them.
# Only two cores were measured.
SIDE_BY_SIDE_MAX_SESSIONS = 4
# A question's parts are tokenized to plan their batches (``batches``) and again to embed them;
# the last this many texts are remembered, so each is tokenized once (0.13 ms a question).
REMEMBERED_TEXTS = 4096

_log = logging.getLogger("quotedesk.index")


class OnnxEmbedder:
    """The exported model under ONNX Runtime; the constructor loads nothing."""

    def __init__(self, settings: ModelSettings) -> None:
        self.name = settings.name
        self._settings = settings
        # For a question: QUESTION_THREADS, the packed graph when the export has one (_packed).
        self._session: Any = None
        self._packed = False
        # Texts on every core (a build's, an answer's value clauses): a session per core, side by
        # side (_every_core_sessions).
        self._every_core: list[Any] = []
        self._tokenizer: Any = None
        self._ids_of: Callable[[str], Sequence[int]] | None = None  # remembered, for a few texts
        self._loading = threading.Lock()
        self.dimension = 0

    def warm_up(self) -> None:
        with self._loading:
            if self._session is None:
                self._load()

    def _load(self) -> None:
        directory = self._settings.onnx_dir
        if not (directory / MODEL_FILE).is_file():
            raise ModelUnavailableError(
                f"no ONNX model at {directory}; create it with `quotedesk model export`, "
                "or set QUOTEDESK_MODEL_BACKEND=torch"
            )
        info = json.loads((directory / EXPORT_FILE).read_text(encoding="utf-8"))
        if info.get("model") != self._settings.name:
            raise ModelUnavailableError(
                f"{directory} holds {info.get('model')!r}, not {self._settings.name!r}; "
                "run `quotedesk model export` again"
            )
        try:
            import onnxruntime  # noqa: F401  # imported here to say what is missing
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailableError(
                f"the onnx-int8 backend needs onnxruntime: pip install 'quotedesk[onnx]' ({exc})"
            ) from None
        tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        tokenizer.enable_truncation(int(info["max_seq_length"]))
        tokenizer.no_padding()  # the file pads to 128; run_padded pads each batch to its longest text
        # With the packed graph a question never runs padded: the plain graph is loaded for a build.
        self._packed = (directory / PACKED_FILE).is_file()
        if not self._packed:
            _log.warning(
                "the ONNX export at %s predates packed questions; run `quotedesk model export` again "
                "so that a question's parts are embedded in one pass instead of several",
                directory,
            )
        elif info.get("version", 1) < EXPORT_VERSION:
            _log.warning(
                "the ONNX export at %s predates the faster graphs; run `quotedesk model export` "
                "again to embed questions and builds faster",
                directory,
            )
        self._session = self._new_session(QUESTION_THREADS, PACKED_FILE if self._packed else MODEL_FILE)
        self._tokenizer = tokenizer
        self._ids_of = lru_cache(maxsize=REMEMBERED_TEXTS)(partial(_ids, tokenizer))
        width = self._session.get_outputs()[0].shape[-1]  # a name instead when the graph leaves it open
        self.dimension = width if isinstance(width, int) else self._probe_dimension()

    def _new_session(self, threads: int, graph: str = MODEL_FILE) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        options.intra_op_num_threads = threads
        # Spinning worker threads keep both cores busy between runs and starve the BM25 and FAISS
        # work of the same question (measured: search p50 32 -> 23 ms on MultiHop).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        path = str(self._settings.onnx_dir / graph)
        return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def _probe_dimension(self) -> int:
        run = run_packed if self._packed else run_padded
        return int(run([self._tokenizer.encode("dimension").ids], self._session).shape[1])

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ids = self._token_ids(texts)
        every_core = self._on_every_core(ids)
        if self._packed and not every_core:
            return run_packed(ids, self._session)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        lengths = [len(row) for row in ids]
        size = self._settings.batch_size
        if every_core:
            sessions = self._every_core_sessions()
            _run_side_by_side(ids, _batches_for_sessions(lengths, size, len(sessions)), sessions, out)
            return out
        for rows in _length_batches(lengths, size):
            out[rows] = run_padded([ids[i] for i in rows], self._session)
        return out

    def _every_core_sessions(self) -> list[Any]:
        """A session per core, to run batches side by side; on one core (or with
        :data:`SIDE_BY_SIDE_MAX_SESSIONS` 1), one session on every core."""
        with self._loading:
            if not self._every_core:
                cores = _cores()
                count = max(1, min(cores, SIDE_BY_SIDE_MAX_SESSIONS))
                self._every_core = [self._new_session(cores // count) for _ in range(count)]
        return self._every_core

    def batches(self, texts: Sequence[str], ways: int = 1) -> list[list[int]]:
        """The batches of :meth:`encode`, the most padded tokens first. Batches are formed from the
        texts' lengths alone, so a batch's texts encoded on their own form that batch again, and
        int8 activations, quantised per batch, come out the same. Texts :meth:`encode` would run
        on every core are one batch: no core is left to share them with. Texts it would run
        packed are ``ways`` packs of about equal tokens (:func:`_even_packs`), each one pass."""
        self.warm_up()
        ids = self._token_ids(texts)
        if not ids or self._on_every_core(ids):
            return [list(range(len(ids)))] if ids else []
        lengths = [len(row) for row in ids]
        if self._packed:
            return _even_packs(lengths, ways)
        return _most_work_first(_length_batches(lengths, self._settings.batch_size), lengths)

    def _token_ids(self, texts: Sequence[str]) -> list[Sequence[int]]:
        if len(texts) > self._settings.batch_size:
            return [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        # Not encode_batch: its thread pool waits for the core BM25 is using (1.2 ms a question
        # then, against 0.17 ms one text at a time).
        assert self._ids_of is not None  # set by warm_up
        return [self._ids_of(text) for text in texts]

    def _on_every_core(self, ids: list[Sequence[int]]) -> bool:
        return len(ids) > self._settings.batch_size or sum(map(len, ids)) > ONE_CORE_MAX_TOKENS


def run_padded(ids: Sequence[Sequence[int]], session: Any) -> npt.NDArray[np.float32]:
    """The vectors of texts given as token ids, run as one batch padded to the longest, by
    ``session`` of :data:`MODEL_FILE`'s graph."""
    vectors: npt.NDArray[np.float32] = session.run(None, padded_feed(ids))[0]
    return vectors


def _batches_for_sessions(lengths: Sequence[int], size: int, ways: int) -> list[list[int]]:
    """The batches of :func:`_length_batches` for ``ways`` sessions, the most padded tokens first.
    When they are fewer than :data:`SIDE_BY_SIDE_MIN_BATCHES_EACH` a session, the texts are first
    dealt out by length, in turn, into ``ways`` groups, each batched on its own, so that every
    session has about as much to run."""
    batches = _length_batches(lengths, size)
    if len(batches) < SIDE_BY_SIDE_MIN_BATCHES_EACH * ways:
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        groups = [order[turn::ways] for turn in range(ways)]
        batches = [
            [group[i] for i in rows]
            for group in groups
            if group
            for rows in _length_batches([lengths[row] for row in group], size)
        ]
    return _most_work_first(batches, lengths)


def _most_work_first(batches: list[list[int]], lengths: Sequence[int]) -> list[list[int]]:
    """``batches`` ordered by their padded tokens, the most first."""
    return sorted(batches, key=lambda rows: len(rows) * max(lengths[i] for i in rows), reverse=True)


def _run_side_by_side(
    ids: Sequence[Sequence[int]], batches: list[list[int]], sessions: list[Any], out: npt.NDArray[np.float32]
) -> None:
    """Each batch of ``ids`` run by the first of ``sessions`` free, its vectors into ``out``."""
    queue = iter(batches)
    taking = threading.Lock()

    def work(session: Any) -> None:
        while True:
            with taking:
                rows = next(queue, None)
            if rows is None:
                return
            out[rows] = run_padded([ids[i] for i in rows], session)

    with ThreadPoolExecutor(max_workers=len(sessions), thread_name_prefix="quotedesk-onnx") as pool:
        for done in [pool.submit(work, session) for session in sessions]:
            done.result()  # raises what a batch raised


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def padded_feed(ids: Sequence[Sequence[int]]) -> dict[str, npt.NDArray[np.int64]]:
    """The plain graph's inputs for texts given as token ids: each row padded to the longest, a
    mask of its own tokens, and token types all 0."""
    width = max(len(row) for row in ids)
    tokens = np.zeros((len(ids), width), dtype=np.int64)
    mask = np.zeros_like(tokens)
    for i, row in enumerate(ids):
        tokens[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return {"input_ids": tokens, "attention_mask": mask, "token_type_ids": np.zeros_like(tokens)}


def run_packed(ids: Sequence[Sequence[int]], session: Any) -> npt.NDArray[np.float32]:
    """The vectors of texts given as token ids, run one after another in a single row by
    ``session`` of :data:`PACKED_FILE`'s graph (see :func:`packed_feed`)."""
    vectors: npt.NDArray[np.float32] = session.run(None, packed_feed(ids))[0]
    return vectors


def packed_feed(ids: Sequence[Sequence[int]]) -> dict[str, npt.NDArray[Any]]:
    """The packed graph's inputs for texts given as token ids: their tokens in one row, each
    text's positions numbered from 0, and a pooling row per text weighing its own tokens 1/length
    (the graph keeps a text's tokens from attending to another's)."""
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    total = int(lengths.sum())
    tokens = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=total)
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
    pooling = np.zeros((len(ids), total), dtype=np.float32)
    pooling[np.repeat(np.arange(len(ids)), lengths), np.arange(total)] = np.repeat(1.0 / lengths, lengths)
    return {"input_ids": tokens[None], "position_ids": positions[None], "pooling": pooling}


def _ids(tokenizer: Any, text: str) -> tuple[int, ...]:
    return tuple(tokenizer.encode(text).ids)


def _even_packs(lengths: Sequence[int], ways: int) -> list[list[int]]:
    """Row numbers in at most ``ways`` packs of about equal tokens, the most first: each text in
    turn, longest first, to the pack with the fewest tokens. A pass reads every weight once (~1 ms
    however short its texts), so one pack is cheapest for one thread, while two threads each
    running one finish sooner (MultiHop-RAG questions' parts in one search, one pack against two:
    1M passages, dense 11.4 -> 8.6 ms p50; 9k, hybrid, 11.1 -> 8.1)."""
    packs: list[list[int]] = [[] for _ in range(max(1, min(ways, len(lengths))))]
    tokens = [0] * len(packs)
    for row in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        lightest = tokens.index(min(tokens))
        packs[lightest].append(row)
        tokens[lightest] += lengths[row]
    order = sorted(range(len(packs)), key=lambda i: -tokens[i])
    return [sorted(packs[i]) for i in order]


def _length_batches(lengths: Sequence[int], size: int) -> list[list[int]]:
    """Row numbers in batches of at most ``size``, shortest first, each closed before its padding
    would pass :data:`_MAX_PADDING_SHARE` of its tokens or its tokens :data:`MAX_BATCH_TOKENS`."""
    batches: list[list[int]] = []
    batch: list[int] = []
    total = 0
    for row in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        width = lengths[row]  # the longest so far, since rows come shortest first
        padded = width * (len(batch) + 1)
        full = len(batch) == size or padded > MAX_BATCH_TOKENS
        if batch and (full or padded - total - width > _MAX_PADDING_SHARE * padded):
            batches.append(batch)
            batch, total = [], 0
        batch.append(row)
        total += width
    if batch:
        batches.append(batch)
    return batches
