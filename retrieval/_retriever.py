"""The library entry point: ``Retriever.load()``, then ``.ask()`` and ``.search()``."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from config import Mode, QuotedeskError, Settings, load_settings
from index import (
    ArticleInfo,
    Embedder,
    IndexMismatchError,
    IndexNotFoundError,
    IndexReader,
    ModelUnavailableError,
    build_index,
    current_version_name,
    embedder_for,
    index_stats,
)
from retrieval import _values
from retrieval._clauses import question_clauses
from retrieval._compose import (
    WINDOW_RESCORED,
    discrepancies,
    group_by_outlet,
    outlet_answers,
    rescore_by_value_clause,
    score_sentences,
)
from retrieval._evidence import sentence_evidence
from retrieval._fusion import cover_outlets
from retrieval._memory import freeze_loaded
from retrieval._models import Answer, Context, Filters, OutletSummary, Passage
from retrieval._question import clean_question, mentioned_days, named_outlets, question_dates
from retrieval._ranking import (
    CandidateRows,
    Proposals,
    Query,
    lexical_candidates,
    parts_to_embed,
    rank,
    read_ahead,
    whole_question_vector,
    with_vectors,
    with_whole_question,
)
from retrieval._shared_encoding import SharedEncoding
from retrieval._threads import in_background_steps, one_blas_and_faiss_thread

_log = logging.getLogger("quotedesk.retrieval")
# Without vectors a sentence scores by the share of the question's terms it holds; an outlet is
# quoted when its best sentence holds at least this share.
BM25_MIN_SCORE = 0.5
# Below this many passages a hybrid search's worker is done with BM25 before the caller has
# embedded half the question's parts, so the parts are planned for both threads. MultiHop-RAG's
# questions: BM25's proposals alone take 0.27 ms at 9k passages, 0.61 at 93k and 4.3 at 1M, and
# the parts as two packs against one took x0.85 p50 at 9k, x0.80 at 93k, x0.97 and x0.99 at 454k
# and x1.06 to x1.10 at 1M. The switch lies between the last two sizes, near 650k on a straight
# line through the ratios, where either plan costs about the same.
SHARED_PARTS_MAX_PASSAGES = 500_000


class Retriever:
    """Answers questions from one index directory. Construct with :meth:`load`."""

    def __init__(
        self,
        reader: IndexReader,
        settings: Settings,
        embedder: Embedder | None,
        *,
        index_dir: Path | None = None,
        model_problem: str | None = None,
        log: Callable[[str], None] = _log.warning,
        gc_freeze: bool = False,
    ) -> None:
        self._reader = reader
        self.settings = settings
        self.embedder = embedder
        self.index_dir = index_dir
        self.model_problem = model_problem
        self._log = log
        self.gc_freeze = gc_freeze

    @classmethod
    def load(
        cls,
        index_dir: Path | str | None = None,
        *,
        settings: Settings | None = None,
        progress: bool = False,
        log: Callable[[str], None] = _log.info,
        gc_freeze: bool = False,
    ) -> Retriever:
        """Open ``index_dir`` (None: the configured index, built from the configured or bundled corpus
        when it does not exist yet). The embedding model is loaded by :meth:`warm_up` or by the first
        question that needs it, so BM25-only use never imports torch.

        ``gc_freeze``, for a long-running service: :meth:`warm_up` and each switch to a new version end
        by hiding every object then alive from the cyclic garbage collector (``gc.freeze``), whose
        full passes would otherwise walk the whole loaded index in the middle of an answer."""
        settings = settings or load_settings()
        directory = Path(index_dir).expanduser() if index_dir is not None else settings.index.dir
        model = embedder_for(settings.model)
        embedder: Embedder | None = model
        problem = None
        try:
            reader = IndexReader.open(directory, verify_checksums=settings.index.verify_checksums)
        except IndexNotFoundError:
            if index_dir is not None:
                raise
            log(f"no index at {directory} yet; building it from the bundled corpus")
            try:
                model.warm_up()
            except ModelUnavailableError as exc:
                embedder, problem = None, str(exc)
                log(f"{exc}; building a BM25-only index")
            build_index(
                settings,
                index_dir=directory,
                embedder=embedder,
                model_problem=problem,
                progress=progress,
                log=log,
            )
            reader = IndexReader.open(directory, verify_checksums=settings.index.verify_checksums)
        _check_model(reader, settings)
        return cls(
            reader,
            settings,
            embedder,
            index_dir=directory,
            model_problem=problem,
            log=log,
            gc_freeze=gc_freeze,
        )

    @property
    def reader(self) -> IndexReader:
        return self._reader

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for: the model and the value parsers."""
        self._dense_ready(self._reader)
        _values.warm_up()
        if self.gc_freeze:
            freeze_loaded()

    def _dense_ready(self, reader: IndexReader) -> bool:
        """Whether dense retrieval can run; loads the model the first time it is needed."""
        if self.embedder is None or not reader.has_vectors:
            return False
        try:
            self.embedder.warm_up()
        except ModelUnavailableError as exc:
            self.embedder, self.model_problem = None, str(exc)
            self._log(f"{exc}; answering with BM25 only")
            return False
        return True

    def refresh(self) -> bool:
        """Switch to a newer version of the index if one was published; a broken one is refused and
        the current version keeps serving. Returns whether it switched."""
        if self.index_dir is None:
            return False
        name = current_version_name(self.index_dir)
        if name is None or name == self._reader.version:
            return False
        try:
            reader = IndexReader.open(self.index_dir, verify_checksums=self.settings.index.verify_checksums)
            _check_model(reader, self.settings)
        except QuotedeskError as exc:
            _log.warning(
                "new index version %s refused, still serving %s: %s", name, self._reader.version, exc
            )
            return False
        self._reader = reader
        if self.gc_freeze:
            freeze_loaded()
        return True

    # --- search ---------------------------------------------------------------------------------

    @one_blas_and_faiss_thread
    def search(
        self,
        query: str,
        k: int = 10,
        *,
        mode: Mode | str | None = None,
        outlets: Sequence[str] | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``, verbatim, best first."""
        self.refresh()
        reader = self._reader
        text = clean_question(query, self.settings.retrieval.max_question_chars)
        effective = self._mode(mode, reader)
        allowed = _allowed(
            reader, Filters(outlets=_resolve_outlets(reader, outlets), since=since, until=until)
        )
        named = [] if outlets else named_outlets(text, reader.known_outlets)
        ranked = self._ranked(reader, text, text, effective, named, allowed)[1]
        if named:
            pids = np.array([pid for pid, _ in ranked], dtype=np.int64)
            outlet_of = dict(zip(pids.tolist(), reader.passage_outlets(pids), strict=True))
            ranked = cover_outlets(ranked, lambda pair: outlet_of[pair[0]], named)
        return [_passage(reader, pid, score) for pid, score in ranked[:k]]

    @one_blas_and_faiss_thread
    def ask(
        self,
        question: str,
        *,
        outlets: Sequence[str] | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        mode: Mode | str | None = None,
        context: str | None = None,
    ) -> Answer:
        """Quotes from each outlet that addresses ``question``, and the values they disagree on.

        ``context`` is an earlier question a follow-up ("and what did Russia propose?") is read in
        the light of: its topic joins the search, while the kind of value asked comes from
        ``question`` alone."""
        self.refresh()
        reader = self._reader
        text = clean_question(question, self.settings.retrieval.max_question_chars)
        effective = self._mode(mode, reader)
        chosen = _resolve_outlets(reader, outlets) or named_outlets(text, reader.known_outlets) or None
        if since is None and until is None:
            stated = question_dates(text)
            since, until = stated.since, stated.until
        filters = Filters(outlets=chosen, since=since, until=until)
        allowed = _allowed(reader, filters)
        kind = _values.question_kind(text)
        topic = _values.question_topic(text, kind)
        searched = text
        if context:
            earlier = clean_question(context, self.settings.retrieval.max_question_chars)
            earlier_topic = _values.question_topic(earlier, _values.question_kind(earlier))
            topic, searched = f"{earlier_topic} {topic}", f"{earlier_topic} {text}"
        r = self.settings.retrieval
        query, ranked, whole = self._ranked(
            reader, topic, searched, effective, chosen or [], allowed, whole_question=True
        )
        ranked = ranked[: r.answer_passages]
        sentences = list(dict.fromkeys(s for pid, _ in ranked for s in reader.passage_sentences(pid)))
        terms = [_term_weights(reader, topic), *(_term_weights(reader, c) for c in query.texts[1:])]
        # Read while the worker may still be embedding the question whole.
        evidence = sentence_evidence(reader, sentences, terms, kind, vectors=query.vector is not None)
        query = with_whole_question(replace(query, whole_vector=whole.result()))
        if query.vector is None:
            threshold = BM25_MIN_SCORE
        else:
            threshold = r.min_score if kind is None else r.min_score_typed
        rescoring = kind is not None and query.vector is not None and self.embedder is not None
        scored = score_sentences(
            evidence,
            query.clause_vectors,
            min_score=threshold,
            rescored=WINDOW_RESCORED if rescoring else 0,
        )
        if rescoring:
            assert query.vector is not None and self.embedder is not None
            scored = rescore_by_value_clause(scored, query.vector, self.embedder.encode)
        groups = group_by_outlet(reader, scored, r, threshold)
        return Answer(
            question=text,
            mode=effective.value,
            answered=bool(groups),
            outlets=outlet_answers(reader, groups),
            discrepancies=discrepancies(kind, groups),
            filters=filters,
            index_version=reader.version,
        )

    def context(self, doc_id: str, start: int, end: int, *, sentences: int = 2) -> Context:
        """The quote at ``[start, end)`` of ``doc_id`` with up to ``sentences`` sentences either side."""
        reader = self._reader
        article = reader.article_index(doc_id)
        if article is None:
            raise QuotedeskError(f"no article {doc_id!r} in index version {reader.version}")
        text = reader.article_text(article)
        if not 0 <= start < end <= len(text):
            raise QuotedeskError(f"{doc_id}: offsets {start}-{end} are outside the article")
        spans = [span[1:] for span in reader.sentence_spans(reader.article_sentences(article))]
        before = [s for s in spans if s[1] <= start][-sentences:]
        after = [s for s in spans if s[0] >= end][:sentences]
        lo = before[0][0] if before else start
        hi = after[-1][1] if after else end
        info = reader.articles[article]
        return Context(
            doc_id=doc_id,
            title=info.title,
            outlet=info.outlet,
            before=text[lo:start],
            quote=text[start:end],
            after=text[end:hi],
        )

    def outlets(self) -> list[OutletSummary]:
        """Every outlet in the index with its article count and date range, most articles first."""
        grouped: dict[str, list[ArticleInfo]] = {}
        for info in self._reader.articles:
            grouped.setdefault(info.outlet, []).append(info)
        summaries = []
        for outlet, infos in grouped.items():
            dates = sorted(i.published for i in infos if i.published)
            summaries.append(
                OutletSummary(
                    outlet=outlet,
                    outlet_known=infos[0].outlet_known,
                    articles=len(infos),
                    first=dates[0] if dates else None,
                    last=dates[-1] if dates else None,
                )
            )
        return sorted(summaries, key=lambda s: (-s.articles, s.outlet))

    def stats(self) -> dict[str, object]:
        """What the current index version holds (as ``quotedesk index stats`` prints it)."""
        stats = index_stats(self._reader)
        stats["answer_mode"] = self._mode(None, self._reader).value
        return stats

    # --- internals ------------------------------------------------------------------------------

    def _mode(self, requested: Mode | str | None, reader: IndexReader) -> Mode:
        mode = (
            Mode.parse(requested) if isinstance(requested, str) else requested or self.settings.retrieval.mode
        )
        if mode is Mode.BM25 or self._dense_ready(reader):
            return mode
        if mode is Mode.DENSE:
            why = self.model_problem or f"the index at {reader.path} was built without vectors"
            raise QuotedeskError(f"dense mode is unavailable: {why}; use --mode bm25 or hybrid")
        return Mode.BM25

    def _ranked(
        self,
        reader: IndexReader,
        text: str,
        searched: str,
        mode: Mode,
        outlets: list[str],
        allowed: npt.NDArray[np.int64] | None,
        *,
        whole_question: bool = False,
    ) -> tuple[Query, list[tuple[int, float]], Future[npt.NDArray[np.float32] | None]]:
        """The question as ranking saw it, with its vectors unless in BM25 mode, the passages
        ranked, and the question embedded whole (see below): a future that may still be under
        way, of None when not asked for. ``text`` is what BM25 searches; ``searched`` (the text
        with any earlier question's topic) is what is embedded, with its clauses (see
        :func:`with_vectors`). In hybrid mode BM25 runs in a worker thread meanwhile: the two
        overlap on two cores (1M passages: 18.2 -> 12.5 ms p50 for both), and the worker then
        embeds the parts this thread has not started (:class:`SharedEncoding`) and reads what
        scoring its proposals needs (:func:`read_ahead`); in dense mode it helps with the parts
        from the start. ``whole_question`` (for an answer, which is judged against the question
        embedded whole, see :func:`whole_question_vector`): the worker embeds it too, while this
        thread searches the vectors and then reads the candidate sentences."""
        r = self.settings.retrieval
        days = mentioned_days(searched)
        query = Query(text, searched, question_clauses(searched), None, None, days, outlets)
        whole: Future[npt.NDArray[np.float32] | None] = Future()
        if mode is Mode.BM25:
            whole.set_result(None)
            return query, rank(reader, query, mode, allowed, r), whole
        assert self.embedder is not None
        parts = SharedEncoding(
            self.embedder, parts_to_embed(query), _sharing_ways(reader, mode, whole_question)
        )
        lexical = None
        first: list[tuple[Future[Any], Callable[[], Any]]] = []  # the worker's steps, in turn
        then: list[tuple[Future[Any], Callable[[], Any]]] = []
        if mode is Mode.HYBRID:
            share = r.answer_proposal_term_share if whole_question else r.proposal_term_share
            ids: Future[list[npt.NDArray[np.int64]]] = Future()
            rows: Future[CandidateRows] = Future()
            lexical = Proposals(ids, rows)
            first.append((ids, partial(lexical_candidates, reader, query, allowed, r.candidates, share)))
            then.append((rows, partial(read_ahead, reader, query, ids)))
        if whole_question:
            then.append((whole, partial(whole_question_vector, query, self.embedder.encode)))
        else:
            whole.set_result(None)
        # The parts' vectors are what this thread waits for first, so in a search the worker helps
        # with them before its own reading. An answer waits for the whole question too, right
        # after ranking, so there it helps last: helping first, it embedded the whole question
        # late (MultiHop-RAG, 9k passages: ask p50 20.5 -> 23.4 ms; helping last, 20.7 as before).
        helping = (Future[None](), parts.help)
        in_background_steps(*first, *((*then, helping) if whole_question else (helping, *then)))
        query = with_vectors(query, parts.vectors())
        return query, rank(reader, query, mode, allowed, r, lexical), whole


def _sharing_ways(reader: IndexReader, mode: Mode, whole_question: bool) -> int:
    """How many threads a question's parts are planned for (:meth:`~index.Embedder.batches`). A
    dense search's worker helps at once; a hybrid search's after BM25, in time below
    :data:`SHARED_PARTS_MAX_PASSAGES`. An answer's worker helps last, after embedding the question
    whole, by when the caller has the parts (1M passages, two packs against one: p95 x1.04 to x1.11)."""
    if whole_question:
        return 1
    if mode is Mode.DENSE or len(reader.passage_article) < SHARED_PARTS_MAX_PASSAGES:
        return 2
    return 1


def _check_model(reader: IndexReader, settings: Settings) -> None:
    built_with = reader.model_name
    if built_with is not None and built_with != settings.model.name:
        raise IndexMismatchError(
            f"the index at {reader.path} was built with the model {built_with!r}, but the configured model "
            f"is {settings.model.name!r}; rebuild it with `quotedesk index build`, or set "
            f"QUOTEDESK_MODEL_NAME={built_with}"
        )


def _term_weights(reader: IndexReader, text: str) -> dict[str, float]:
    """The question's searchable terms with their idf, as the index knows them."""
    bm25 = reader.bm25
    weights = {}
    for term in reader.bm25_tokenizer(text):
        index = bm25.vocabulary.get(term)
        if index is not None:
            weights[term] = max(float(bm25.idf[index]), 0.0) + 1e-3
    return weights


def _resolve_outlets(reader: IndexReader, names: Sequence[str] | None) -> list[str] | None:
    """Outlet names as the index spells them: exact (any case), else the one outlet containing the name."""
    if not names:
        return None
    resolved = []
    for name in names:
        wanted = name.strip().casefold()
        exact = [o for o in reader.outlets if o.casefold() == wanted]
        partial = [o for o in reader.outlets if wanted and wanted in o.casefold()]
        match = exact or (partial if len(partial) == 1 else [])
        if not match:
            hint = f"; it matches {len(partial)} outlets" if partial else ""
            raise QuotedeskError(f"no outlet named {name!r} in the index{hint}; see `quotedesk index stats`")
        resolved.append(match[0])
    return resolved


def _allowed(reader: IndexReader, filters: Filters) -> npt.NDArray[np.int64] | None:
    if not filters.outlets and filters.since is None and filters.until is None:
        return None
    return reader.passages_where(filters.outlets, filters.since, filters.until)


def _passage(reader: IndexReader, pid: int, score: float) -> Passage:
    article, start, end = reader.passage_span(pid)
    info = reader.articles[article]
    return Passage(
        text=reader.article_text(article)[start:end],
        doc_id=info.doc_id,
        title=info.title,
        outlet=info.outlet,
        published=info.published,
        url=info.url,
        start=start,
        end=end,
        score=round(score, 6),
        passage_id=pid,
    )
