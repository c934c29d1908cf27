"""Answering questions with verbatim quotes from each outlet.

from retrieval import Retriever
answer = Retriever.load().ask("How long did the talks last?")
"""

from retrieval._models import (
    Answer,
    Context,
    Discrepancy,
    DiscrepancyValue,
    Filters,
    OutletAnswer,
    OutletSummary,
    Passage,
    Quote,
)
from retrieval._question import QuestionError
from retrieval._retriever import Retriever
from retrieval._values import ValueKind, find_values, question_kind

__all__ = [
    "Answer",
    "Context",
    "Discrepancy",
    "DiscrepancyValue",
    "Filters",
    "OutletAnswer",
    "OutletSummary",
    "Passage",
    "QuestionError",
    "Quote",
    "Retriever",
    "ValueKind",
    "find_values",
    "question_kind",
]
