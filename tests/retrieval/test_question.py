"""Clauses and named days read from a question."""

from __future__ import annotations

import datetime as dt

from retrieval._clauses import question_clauses
from retrieval._question import mentioned_days


def test_clauses_split_at_commas_and_conjunctions() -> None:
    question = (
        "Does the Verge article say the trial began on Tuesday, while the TechCrunch report says the jury "
        "deliberated for hours and then returned a verdict?"
    )
    assert question_clauses(question) == [
        "Does the Verge article say the trial began on Tuesday",
        "the TechCrunch report says the jury deliberated for hours",
        "then returned a verdict",
    ]


def test_a_question_without_long_clauses_is_its_own_clause() -> None:
    assert question_clauses("Who won?") == ["Who won?"]
    assert question_clauses("Rates, and so on") == ["Rates, and so on"]


def test_mentioned_days_are_whole_days_in_order() -> None:
    question = "After the TechCrunch report on October 7, 2023, and the one of 2023-10-30, in November 2023?"
    assert mentioned_days(question) == [dt.date(2023, 10, 7), dt.date(2023, 10, 30)]
    assert mentioned_days("How long did the talks last?") == []
