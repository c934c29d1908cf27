"""The seed corpus's gold questions: which outlets are quoted, with what, and where they disagree."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from retrieval import Answer, Retriever
from retrieval._evaluation import SEED_GOLD

GOLD = yaml.safe_load(SEED_GOLD.read_text(encoding="utf-8"))


def _by_doc(answer: Answer) -> dict[str, list[str]]:
    quotes: dict[str, list[str]] = {}
    for outlet in answer.outlets:
        for quote in outlet.quotes:
            quotes.setdefault(quote.doc_id[:3], []).append(quote.text)
    return quotes


def test_gold_set_is_large_enough() -> None:
    assert len(GOLD) >= 15


@pytest.mark.parametrize("case", GOLD, ids=[c["question"] for c in GOLD])
def test_gold_question(retriever: Retriever, case: dict[str, Any]) -> None:
    answer = retriever.ask(case["question"])
    assert answer.answered is case.get("answered", True)
    quotes = _by_doc(answer)
    for doc, fragment in case.get("expect", {}).items():
        assert doc in quotes, f"{doc} not quoted; quoted: {sorted(quotes)}"
        assert any(fragment in text for text in quotes[doc]), f"{doc}: {fragment!r} not in {quotes[doc]}"
    for doc in case.get("exclude", []):
        assert doc not in quotes, f"{doc} should not be quoted: {quotes.get(doc)}"
    if "discrepancy" in case:
        expected = case["discrepancy"]
        (found,) = [d for d in answer.discrepancies if d.kind == expected["kind"]]
        outlet_doc = {o.outlet: o.quotes[0].doc_id[:3] for o in answer.outlets}
        groups = [sorted(outlet_doc[o] for o in value.outlets) for value in found.values]
        for group in expected["groups"]:
            assert sorted(group) in groups, f"{group} not among {groups}"


def test_quotes_are_verbatim_and_located(retriever: Retriever) -> None:
    reader = retriever.reader
    for case in GOLD:
        for outlet in retriever.ask(case["question"]).outlets:
            for quote in outlet.quotes:
                article = reader.article_index(quote.doc_id)
                assert article is not None
                assert reader.article_text(article)[quote.start : quote.end] == quote.text
                if quote.highlight is not None:
                    a, b = quote.highlight
                    assert 0 <= a < b <= len(quote.text)
