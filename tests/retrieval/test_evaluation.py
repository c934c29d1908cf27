"""MultiHop-RAG's metrics against hand-computed cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval._evaluation import evaluate, load_questions, query_metrics


def test_first_hit_at_rank_3_with_two_facts_found_at_3_and_5() -> None:
    ranked = ["nothing", "still nothing", "the fact one is here", "no", "and fact two\n here", "x"]
    scores = query_metrics(ranked, ["fact one", "fact two here"])
    assert scores["hits@10"] == 1.0 and scores["hits@4"] == 1.0
    assert scores["mrr@10"] == pytest.approx(1 / 3)
    assert scores["map@10"] == pytest.approx((1 / 3 + 1 / 5) / 2)


def test_spaces_and_newlines_do_not_matter_but_other_characters_do() -> None:
    assert query_metrics(["Thetalks\nlasted an hour"], ["The talks lasted an hour"])["hits@10"] == 1.0
    assert query_metrics(["The talks lasted an hour."], ["talks lasted an hour!"])["hits@10"] == 0.0


def test_a_fact_found_twice_counts_once_and_ranks_past_10_do_not_count() -> None:
    ranked = ["fact a"] * 3 + ["x"] * 8 + ["fact b"]
    scores = query_metrics(ranked, ["fact a", "fact b", "fact c"])
    assert scores["map@10"] == pytest.approx(1.0 / 3)
    assert scores["hits@4"] == 1.0 and scores["mrr@10"] == 1.0
    assert query_metrics(["x"] * 4 + ["fact a"], ["fact a"])["hits@4"] == 0.0


def test_no_hit() -> None:
    assert query_metrics(["x", "y"], ["z"]) == {"hits@10": 0.0, "hits@4": 0.0, "map@10": 0.0, "mrr@10": 0.0}


def test_splits_and_null_questions(tmp_path: Path) -> None:
    items = [
        {
            "query": f"q{i}",
            "question_type": "null_query" if i == 2 else "inference_query",
            "evidence_list": [] if i == 2 else [{"fact": f"f{i}"}],
        }
        for i in range(5)
    ]
    path = tmp_path / "q.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    assert [q.position for q in load_questions(path, "dev")] == [0, 4]
    assert [q.position for q in load_questions(path, "test")] == [1, 3]
    report = evaluate(load_questions(path, "all"), lambda query: [f"text f{query[1:]}"], "all")
    assert report.questions == 4 and report.overall["hits@10"] == 1.0 and report.overall["mrr@10"] == 1.0


def test_outlet_evidence_recall_and_declines() -> None:
    from retrieval import Answer, OutletAnswer, Quote
    from retrieval._evaluation import Question, evaluate_answers

    def answer(outlets: dict[str, str]) -> Answer:
        return Answer(
            question="q",
            mode="bm25",
            answered=bool(outlets),
            discrepancies=[],
            outlets=[
                OutletAnswer(
                    outlet=o,
                    quotes=[
                        Quote(
                            text=t,
                            doc_id="d",
                            title="t",
                            published=None,
                            url=None,
                            start=0,
                            end=len(t),
                            score=1.0,
                        )
                    ],
                )
                for o, t in outlets.items()
            ],
        )

    replies = {
        "two facts": answer({"A": "The first fact, quoted.", "B": "Something else."}),
        "null": answer({}),
        "declined": answer({}),
    }
    questions = [
        Question(0, "two facts", "comparison_query", ["first fact", "second fact"], ["A", "B"]),
        Question(1, "null", "null_query", [], []),
        Question(2, "declined", "inference_query", ["x"], ["C"]),
    ]
    figures = evaluate_answers(questions, replies.__getitem__).figures()
    assert figures == {
        "outlet_evidence_recall": pytest.approx(1 / 3, abs=1e-4),
        "null_declined": 1.0,
        "answerable_wrongly_declined": 0.5,
    }
