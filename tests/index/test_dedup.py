"""A wire story printed by two outlets is recorded, and an answer says so."""

from __future__ import annotations

import json
import random
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from config import Settings
from index import IndexReader, _dedup, build_index
from index._dedup import near_duplicates, shingles
from retrieval import Retriever

WIRE = (
    "Negotiators met in Geneva on Tuesday for talks that lasted about three hours, officials said. "
    "The delegations agreed to meet again next month to discuss a prisoner exchange and a ceasefire. "
    "Observers said the atmosphere was tense but businesslike throughout the session."
)


def test_wire_copies_are_marked(tmp_path: Path, settings: Settings, embedder: Any) -> None:
    records = [
        {"title": "Geneva talks end", "body": WIRE, "source": "Wire A"},
        {
            "title": "Talks in Geneva conclude",
            "body": WIRE + " Our correspondent adds little.",
            "source": "Paper B",
        },
        {
            "title": "Unrelated sports story",
            "body": "The home team won the final 3-1 after extra time.",
            "source": "Sports C",
        },
    ]
    (tmp_path / "c.json").write_text(json.dumps(records), encoding="utf-8")
    build_index(settings, sources=[tmp_path / "c.json"], index_dir=tmp_path / "idx", embedder=embedder)
    reader = IndexReader.open(tmp_path / "idx")
    marks = {a.outlet: a.near_duplicates for a in reader.articles}
    assert len(marks["Wire A"]) == 1 and len(marks["Paper B"]) == 1 and marks["Sports C"] == ()
    answer = Retriever.load(tmp_path / "idx", settings=settings).ask("How long did the talks in Geneva last?")
    same = {o.outlet: o.same_story_as for o in answer.outlets}
    assert same["Wire A"] == ["Paper B"] and same["Paper B"] == ["Wire A"]


def _stories(copies: int, seed: int = 0) -> list[str]:
    """A few stories, each printed ``copies`` times with a sentence or two left out or added, plus
    a stock phrase in more articles than a 5-gram may be and still count as evidence."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(400)]
    stock = "according to a statement released on"
    texts = []
    for _story in range(4):
        sentences = [" ".join(rng.choices(words, k=12)) for _ in range(8)]
        for _copy in range(copies):
            kept = [s for s in sentences if rng.random() > 0.2]
            kept += [" ".join(rng.choices(words, k=12)) for _ in range(rng.randrange(3))]
            texts.append(f"{stock} Monday. " + ". ".join(kept))
    return texts


def _brute_force(texts: list[str], min_containment: float) -> dict[int, list[tuple[int, float]]]:
    sets = [set(shingles(t).tolist()) for t in texts]
    postings: dict[int, int] = {}
    for grams in sets:
        for gram in grams:
            postings[gram] = postings.get(gram, 0) + 1
    found: dict[int, list[tuple[int, float]]] = {}
    for i, j in combinations(range(len(texts)), 2):
        shared = sum(1 for g in sets[i] & sets[j] if postings[g] <= _dedup._MAX_POSTINGS)
        containment = shared / max(1, min(len(sets[i]), len(sets[j])))
        if shared and containment >= min_containment:
            found.setdefault(i, []).append((j, round(containment, 3)))
            found.setdefault(j, []).append((i, round(containment, 3)))
    return {doc: sorted(others, key=lambda o: (-o[1], o[0])) for doc, others in found.items()}


@pytest.mark.parametrize("compiled", [False, True])
def test_near_duplicates_are_the_pairs_sharing_enough_uncommon_5_grams(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_dedup, "COMPILED_FROM_PAIRS", 0 if compiled else 1 << 62)
    texts = _stories(copies=15)  # 60 articles: the stock phrase is in more than 50
    texts.insert(7, "too short")  # no 5-gram at all
    found = near_duplicates(texts, 0.5)
    assert found == _brute_force(texts, 0.5)
    assert found and 7 not in found
    assert near_duplicates(texts, 0.05) == _brute_force(texts, 0.05)  # pairs across stories too


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_pairs_counted_a_batch_at_a_time_are_the_same(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dedup, "COMPILED_FROM_PAIRS", 1 << 62)
    texts = _stories(copies=12, seed=1)
    whole = near_duplicates(texts, 0.3)
    monkeypatch.setattr(_dedup, "_PAIR_BATCH", batch)
    assert near_duplicates(texts, 0.3) == whole
    monkeypatch.setattr(_dedup, "COMPILED_FROM_PAIRS", 0)
    assert near_duplicates(texts, 0.3) == whole


def test_counts_merged_from_batches_are_the_counts_of_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    batches = [np.random.default_rng(seed).integers(0, 50, 40) for seed in range(9)]
    everything = np.concatenate(batches)
    monkeypatch.setattr(_dedup, "_PAIR_BATCH", 30)  # merged several times on the way
    codes, times = _dedup._counted(iter(batches))
    expected_codes, expected_times = np.unique(everything, return_counts=True)
    assert codes.tolist() == expected_codes.tolist() and times.tolist() == expected_times.tolist()
    empty_codes, empty_times = _dedup._counted(iter([]))
    assert empty_codes.size == 0 and empty_times.size == 0


def test_shingles_are_the_distinct_case_folded_word_5_grams() -> None:
    text = "The talks in Istanbul lasted about an hour, officials said; the talks in Istanbul lasted"
    words = [w.casefold() for w in text.replace(",", " ").replace(";", " ").split()]
    distinct = {" ".join(words[i : i + 5]) for i in range(len(words) - 4)}
    assert shingles(text).size == len(distinct) == len(words) - 4 - 1  # one 5-gram repeats
    assert list(shingles(text)) == sorted(shingles(text))
    np.testing.assert_array_equal(shingles(text), shingles(text.upper().replace(" ", "  ")))
    np.testing.assert_array_equal(
        shingles("Die STRASSE war lang und breit"), shingles("die Straße war lang und breit")
    )
    # One word changed changes the five 5-grams that hold it, and no other.
    changed = text.replace("about", "nearly", 1)
    assert len(set(shingles(text).tolist()) - set(shingles(changed).tolist())) == 5
    assert shingles("four words, no more").size == 0
