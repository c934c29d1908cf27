"""A wire story printed by two outlets is recorded, and an answer says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from config import Settings
from index import IndexReader, build_index
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
