"""The library API: the JSON contract, search, filters, modes, thresholds, refresh."""

from __future__ import annotations

import datetime as dt
import gc
import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest

from config import DenseIndex, QuotedeskError, Settings
from index import IndexNotFoundError, build_index
from retrieval import QuestionError, Retriever
from tests.index.vectors import built_as

QUOTE_KEYS = {"text", "doc_id", "title", "published", "url", "start", "end", "score"}


def test_answer_json_contract(retriever: Retriever) -> None:
    data = retriever.ask("How long did the talks last?").model_dump(mode="json")
    assert {"question", "mode", "answered", "outlets", "discrepancies"} <= set(data)
    assert data["mode"] == "hybrid" and data["answered"] is True
    for outlet in data["outlets"]:
        assert {"outlet", "quotes"} <= set(outlet)
        for quote in outlet["quotes"]:
            assert set(quote) >= QUOTE_KEYS
    (discrepancy,) = data["discrepancies"]
    assert discrepancy["kind"] == "duration"
    assert all({"value", "outlets"} <= set(v) for v in discrepancy["values"])


def test_search_returns_verbatim_passages(retriever: Retriever) -> None:
    passages = retriever.search("Ciragan Palace", k=3)
    assert 1 <= len(passages) <= 3
    assert "Ciragan Palace" in passages[0].text
    reader = retriever.reader
    for p in passages:
        assert (
            reader.article_text(reader.article_index(p.doc_id)).__getitem__(slice(p.start, p.end)) == p.text
        )  # type: ignore[arg-type]
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_palace(retriever: Retriever, mode: str) -> None:
    found = retriever.search("Where were the talks held? Ciragan Palace", k=5, mode=mode)
    # Dense mode alone ranks another outlet's "talks held in Istanbul" sentence as close as this one.
    within = 1 if mode != "dense" else 2
    assert any("Ciragan" in p.text for p in found[:within])


def test_unknown_mode_lists_the_valid_ones(retriever: Retriever) -> None:
    with pytest.raises(QuotedeskError, match="valid values: hybrid, dense, bm25"):
        retriever.search("talks", mode="fuzzy")


def test_outlet_and_date_filters(retriever: Retriever) -> None:
    only = retriever.ask("How long did the talks last?", outlets=["Stalemate"])
    assert [o.outlet[:9] for o in only.outlets] == ["Stalemate"]
    dated = retriever.ask(
        "How long did the talks last?", since=dt.date(2025, 6, 1), until=dt.date(2025, 6, 2)
    )
    assert {q.doc_id[:3] for o in dated.outlets for q in o.quotes} == {"001"}  # the only dated seed
    assert retriever.ask("How long did the talks last?", since=dt.date(2030, 1, 1)).answered is False
    with pytest.raises(QuotedeskError, match="no outlet named"):
        retriever.ask("talks", outlets=["Nonexistent Gazette"])


def test_unrelated_question_is_declined(retriever: Retriever) -> None:
    answer = retriever.ask("What is the boiling point of tungsten?")
    assert answer.answered is False and answer.outlets == []


def test_hostile_questions_get_bounded_answers(retriever: Retriever) -> None:
    for question in (
        "<b>talks</b> & <script>",
        "*_[x](y)_* `talks`",
        "(.*)+$[ talks",
        "переговоры 会谈 🕊️ talks",
        "talks " * 20_000,
    ):
        retriever.ask(question)  # answers or declines; never raises
    with pytest.raises(QuestionError):
        retriever.ask(" \n\t ")


def test_bm25_only_index_answers_and_says_so(bm25_index: Path, settings: Settings) -> None:
    retriever = Retriever.load(bm25_index, settings=settings)
    answer = retriever.ask("How long did the talks last?")
    assert answer.mode == "bm25" and answer.answered
    assert "002" not in {q.doc_id[:3] for o in answer.outlets for q in o.quotes}
    with pytest.raises(QuotedeskError, match="dense mode is unavailable"):
        retriever.search("talks", mode="dense")


def test_model_failure_falls_back_to_bm25(tmp_path: Path, settings: Settings) -> None:
    broken = settings.model_copy(
        update={
            "model": settings.model.model_copy(update={"path": tmp_path / "no-model"}),
            "index": settings.index.model_copy(update={"dir": tmp_path / "auto"}),
        }
    )
    with pytest.raises(IndexNotFoundError):  # an explicit directory is never built behind one's back
        Retriever.load(tmp_path / "elsewhere", settings=broken)
    auto = Retriever.load(settings=broken)  # the configured index is built on first use
    assert auto.reader.mode == "bm25" and "not found" in (auto.model_problem or "")
    assert auto.ask("How long did the talks last?").mode == "bm25"


def _publish_zebra_census(source: Path, directory: Path, settings: Settings, embedder: Any) -> None:
    """A new version of ``directory`` built from one article, which no seed answers."""
    source.mkdir()
    (source / "n.txt").write_text("Zebra census\nThe zebra census counted 412 zebras.\n", encoding="utf-8")
    build_index(settings, sources=[source], index_dir=directory, embedder=embedder)


def test_running_retriever_switches_to_a_rebuilt_index(
    tmp_path: Path, settings: Settings, seed_index: Path
) -> None:
    directory = tmp_path / "live"
    shutil.copytree(seed_index, directory)
    live = Retriever.load(directory, settings=settings)
    before = live.reader.version
    _publish_zebra_census(tmp_path / "src", directory, settings, live.embedder)
    assert live.ask("How many zebras were counted?").answered
    assert live.reader.version != before
    # A broken new version is refused; the last good one keeps serving.
    good = live.reader.version
    (directory / "CURRENT").write_text("v-broken\n", encoding="utf-8")
    assert live.refresh() is False and live.reader.version == good


@pytest.mark.parametrize("kind", [DenseIndex.EXACT, DenseIndex.HNSW])
def test_a_replaced_version_is_freed_though_the_collector_skips_it(
    kind: DenseIndex, tmp_path: Path, settings: Settings, embedder: Any
) -> None:
    """With ``gc_freeze`` (the bot's setting) only reference counting can free an old version: a
    reference cycle anywhere in what a reader holds would keep every replaced version alive."""
    directory = tmp_path / "live"
    built_as(kind, directory, settings, embedder)
    live = Retriever.load(directory, settings=settings, gc_freeze=True)
    try:
        live.warm_up()
        assert gc.get_freeze_count() > 0
        outlet = live.reader.outlets[0]
        assert live.ask("How long did the talks last?").answered
        assert live.ask("How long did the talks last?", outlets=[outlet]).answered
        assert live.search("Ciragan Palace", mode="bm25")
        old = weakref.ref(live.reader)
        _publish_zebra_census(tmp_path / "src", directory, settings, embedder)
        assert live.ask("How many zebras were counted?").answered
        assert old() is None
    finally:
        gc.unfreeze()


def test_bm25_finds_a_name_spelled_with_or_without_accents(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "istanbul.txt").write_text(
        "---\noutlet: Daily Sabah\n---\nTalks at Çırağan Palace\n"
        "The delegations met at Çırağan Palace, where Hakan Fidan opened the session with a short address.\n",
        encoding="utf-8",
    )
    for city in ("Ankara", "Izmir", "Bursa"):  # so that the palace's words are rare ones
        (source / f"{city}.txt").write_text(
            f"Rain in {city}\nRain is expected in {city} for the rest of the week, forecasters said.\n",
            encoding="utf-8",
        )
    build_index(settings, sources=[source], index_dir=tmp_path / "folded", embedder=None)
    folded = Retriever.load(tmp_path / "folded", settings=settings)
    (found, *_) = folded.search("Ciragan", mode="bm25")
    assert found.doc_id == "istanbul" and "Çırağan Palace" in found.text  # quoted as printed
    (outlet,) = folded.ask("Who spoke at Ciragan Palace?", mode="bm25").outlets
    assert outlet.outlet == "Daily Sabah" and "Çırağan Palace, where Hakan Fidan" in outlet.quotes[0].text
    unfolded = settings.model_copy(update={"bm25": settings.bm25.model_copy(update={"fold_accents": False})})
    build_index(unfolded, sources=[source], index_dir=tmp_path / "unfolded", embedder=None)
    # The index keeps the tokenizer it was built with, whatever the settings say later.
    assert Retriever.load(tmp_path / "unfolded", settings=settings).search("Ciragan", mode="bm25") == []


def test_bm25_answers_on_a_small_index_import_neither_torch_nor_numba(seed_index: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from retrieval import Retriever; "
        f"r = Retriever.load({str(seed_index)!r}); "
        "assert r.ask('How long did the talks last?', mode='bm25').answered; "
        "assert 'torch' not in sys.modules, 'torch was imported'; "
        "assert 'numba' not in sys.modules, 'numba was imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
