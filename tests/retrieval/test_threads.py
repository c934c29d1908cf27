"""Threads while answering: BLAS on one, restored after; BM25 in a worker beside the embedding."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import numpy as np  # also loads the BLAS whose threads are counted
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from config import Mode
from retrieval import Retriever, _ranking, _retriever
from retrieval._clauses import question_clauses
from retrieval._shared_encoding import SharedEncoding
from retrieval._threads import in_background, in_background_steps, one_blas_and_faiss_thread


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_blas_runs_on_one_thread_during_the_call_and_is_restored_after() -> None:
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can see")
    with threadpool_limits(limits=2, user_api="blas"):
        seen: list[list[int]] = []

        @one_blas_and_faiss_thread
        def answer(x: int) -> int:
            seen.append(_blas_threads())
            return x + 1

        assert answer(1) == 2
        assert seen and all(n == 1 for n in seen[0])
        assert all(n == 2 for n in _blas_threads())


def test_faiss_runs_on_one_thread_in_the_caller_only_and_is_restored_after() -> None:
    import faiss

    def in_another_thread() -> int:
        found: list[int] = []
        other = threading.Thread(target=lambda: found.append(faiss.omp_get_max_threads()))
        other.start()
        other.join()
        return found[0]

    faiss.omp_set_num_threads(2)
    fresh = in_another_thread()
    seen: list[tuple[int, int]] = []

    @one_blas_and_faiss_thread
    def answer() -> None:
        seen.append((faiss.omp_get_max_threads(), in_another_thread()))

    answer()
    assert seen == [(1, fresh)]
    assert faiss.omp_get_max_threads() == 2


def test_background_work_runs_faiss_on_one_thread() -> None:
    # A worker's OpenMP threads spinning beside the caller's model made 1M searches 30% slower.
    import faiss

    assert in_background(faiss.omp_get_max_threads).result() == 1
    first, then = Future[int](), Future[int]()
    in_background_steps((first, faiss.omp_get_max_threads), (then, faiss.omp_get_max_threads))
    assert (first.result(), then.result()) == (1, 1)


def test_background_work_gives_its_result_and_its_error() -> None:
    assert in_background(sum, [1, 2, 3]).result() == 6
    with pytest.raises(ZeroDivisionError):
        in_background(divmod, 1, 0).result()


def test_steps_run_in_order_in_one_worker_and_settle_each_future() -> None:
    order: list[tuple[str, str]] = []

    def step(name: str, value: int) -> int:
        order.append((name, threading.current_thread().name))
        return value

    first, then = Future[int](), Future[int]()
    # A later step may wait on an earlier one's future: it is settled by then.
    in_background_steps((first, lambda: step("first", 1)), (then, lambda: step("then", first.result() + 1)))
    assert (first.result(), then.result()) == (1, 2)
    assert [name for name, _ in order] == ["first", "then"]
    assert order[0][1] == order[1][1] != threading.current_thread().name


def test_steps_go_on_after_one_raises() -> None:
    first, then = Future[int](), Future[str]()
    in_background_steps((first, lambda: 1 // 0), (then, lambda: "still"))
    with pytest.raises(ZeroDivisionError):
        first.result()
    assert then.result() == "still"


def test_an_answer_embeds_the_whole_question_in_the_worker_after_bm25_and_helps_last(
    retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "How long did the talks in Istanbul last, and who led the delegations?"
    steps: list[tuple[str, str]] = []

    def candidates(*args: Any) -> Any:
        steps.append(("bm25", threading.current_thread().name))
        return _ranking.lexical_candidates(*args)

    def whole(*args: Any) -> Any:
        steps.append(("whole question", threading.current_thread().name))
        return _ranking.whole_question_vector(*args)

    help_with_parts = SharedEncoding.help

    def helping(self: SharedEncoding) -> None:
        if threading.current_thread().name.startswith("quotedesk-worker"):
            steps.append(("help", threading.current_thread().name))
        help_with_parts(self)

    monkeypatch.setattr(_retriever, "lexical_candidates", candidates)
    monkeypatch.setattr(_retriever, "whole_question_vector", whole)
    monkeypatch.setattr(SharedEncoding, "help", helping)
    answer = retriever.ask(question, mode="hybrid")
    assert [name for name, _ in steps] == ["bm25", "whole question", "help"]
    assert steps[0][1] == steps[1][1] == steps[2][1] != threading.current_thread().name
    assert answer.answered
    steps.clear()
    retriever.search(question, mode="hybrid")  # a search is not judged: no whole question
    assert [name for name, _ in steps] == ["bm25", "help"]  # the parts before its reading


def test_hybrid_ranking_runs_bm25_beside_the_embedding_and_ranks_as_inline(
    retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "How long did the talks in Istanbul last?"
    threads: list[str] = []

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return _ranking.lexical_candidates(*args)

    monkeypatch.setattr(_retriever, "lexical_candidates", recorded)
    passages = retriever.search(question, k=10, mode="hybrid")
    assert threads and threads[0] != threading.current_thread().name
    reader = retriever.reader
    assert retriever.embedder is not None
    # Embedded as a search embeds it, by its parts (_ranking.embedded), not whole: the two vectors
    # differ, and a near-tie in the top 10 then orders differently.
    unembedded = _ranking.Query(question, question, question_clauses(question), None, None, [], [])
    query = _ranking.embedded(unembedded, retriever.embedder.encode)
    inline = _ranking.rank(reader, query, Mode.HYBRID, None, retriever.settings.retrieval)
    assert [p.passage_id for p in passages] == [pid for pid, _ in inline[:10]]


class _PartByPart:
    """The real model, each text a batch of its own and embedded alone (its vector then does not
    depend on the others'); the calling thread's first batch waits until a worker has embedded one."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.threads: list[str] = []
        self.helped = threading.Event()

    def warm_up(self) -> None:
        self.inner.warm_up()

    def batches(self, texts: Any, ways: int = 1) -> list[list[int]]:
        return [[i] for i in range(len(texts))]

    def encode(self, texts: Any, *, progress: bool = False) -> Any:
        me = threading.current_thread().name
        in_worker = me.startswith("quotedesk-worker")
        if not in_worker and not self.threads:
            assert self.helped.wait(10), "the worker took no batch"
        self.threads.append(me)
        if in_worker:
            self.helped.set()
        return np.vstack([self.inner.encode([text]) for text in texts])


@pytest.mark.parametrize("mode", [Mode.HYBRID, Mode.DENSE])
def test_the_worker_embeds_parts_the_caller_has_not_started_and_ranking_is_unchanged(
    retriever: Retriever, monkeypatch: pytest.MonkeyPatch, mode: Mode
) -> None:
    question = "How long did the talks in Istanbul last, and who led the delegations?"
    shared = _PartByPart(retriever.embedder)
    monkeypatch.setattr(retriever, "embedder", shared)
    passages = retriever.search(question, k=10, mode=mode)
    me = threading.current_thread().name
    assert me in shared.threads and any(name.startswith("quotedesk-worker") for name in shared.threads)
    unembedded = _ranking.Query(question, question, question_clauses(question), None, None, [], [])
    query = _ranking.embedded(unembedded, shared.encode)
    inline = _ranking.rank(retriever.reader, query, mode, None, retriever.settings.retrieval)
    assert [p.passage_id for p in passages] == [pid for pid, _ in inline[:10]]


class _PlannedWays:
    """The real model, recording how many threads each plan of batches was for."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.ways: list[int] = []

    def warm_up(self) -> None:
        self.inner.warm_up()

    def batches(self, texts: Any, ways: int = 1) -> list[list[int]]:
        self.ways.append(ways)
        return self.inner.batches(texts, ways)  # type: ignore[no-any-return]

    def encode(self, texts: Any, *, progress: bool = False) -> Any:
        return self.inner.encode(texts)


def test_a_search_plans_its_parts_for_two_threads_and_an_answer_for_one(
    retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search's worker helps embed the parts; an answer's comes to them last (see _ranked)."""
    planned = _PlannedWays(retriever.embedder)
    monkeypatch.setattr(retriever, "embedder", planned)
    question = "How long did the talks in Istanbul last, and who led the delegations?"
    for mode in (Mode.HYBRID, Mode.DENSE):
        retriever.search(question, k=5, mode=mode)
    assert planned.ways == [2, 2]
    planned.ways.clear()
    retriever.ask(question, mode=Mode.HYBRID)
    assert planned.ways == [1]
    # On a large index a hybrid search's worker is still in BM25 when it could help.
    monkeypatch.setattr(_retriever, "SHARED_PARTS_MAX_PASSAGES", len(retriever.reader.passage_article))
    planned.ways.clear()
    for mode in (Mode.HYBRID, Mode.DENSE):
        retriever.search(question, k=5, mode=mode)
    assert planned.ways == [1, 2]
