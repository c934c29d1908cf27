"""A question's clauses: the parts a multi-outlet question asks of different articles.

"Did the Verge report X, while TechCrunch said Y?" needs X from one article and Y from another; a
passage that matches one clause well is worth more than one that matches the whole question a little.
"""

from __future__ import annotations

import re

# Commas, semicolons and the conjunctions that join a question's claims; "and" inside a name such as
# "Procter and Gamble" splits it too, which costs little because every clause is also searched with
# the whole question.
_BOUNDARY = re.compile(r"[,;?]|\b(?:and|or|but|while|whereas)\b", re.I)
# Shorter fragments ("as well", "in 2023") match too much to say anything about a passage.
MIN_CLAUSE_WORDS = 3


def question_parts(question: str) -> list[str]:
    """The question split at every boundary, in order, short parts included: together they hold
    all of its words but the conjunctions between them."""
    return [part for part in (part.strip() for part in _BOUNDARY.split(question)) if part]


def question_clauses(question: str) -> list[str]:
    """The question's clauses of at least MIN_CLAUSE_WORDS words, in order; the question itself when
    it has none."""
    clauses = [part for part in question_parts(question) if len(part.split()) >= MIN_CLAUSE_WORDS]
    return clauses or [question]
