"""What retrieval returns. ``Answer.model_dump(mode="json")`` is exactly what ``ask --json`` prints."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class Passage(BaseModel):
    """A ranked passage, verbatim: ``text`` is ``article_text[start:end]`` of article ``doc_id``."""

    text: str
    doc_id: str
    title: str
    outlet: str
    published: dt.date | None
    url: str | None
    start: int
    end: int
    score: float
    passage_id: int


class Quote(BaseModel):
    """One or more whole sentences an outlet printed, located by character offsets in the article."""

    text: str
    doc_id: str
    title: str
    published: dt.date | None
    url: str | None
    start: int
    end: int
    score: float
    # The value that answers the question, as offsets into ``text`` (for typed questions).
    highlight: tuple[int, int] | None = None


class OutletAnswer(BaseModel):
    outlet: str
    # False when the source named no outlet and the article's headline stands in for it.
    outlet_known: bool = True
    quotes: list[Quote]
    # Other quoted outlets whose article is a near-copy of this one (a wire story printed twice).
    same_story_as: list[str] = Field(default_factory=list)


class DiscrepancyValue(BaseModel):
    value: str
    outlets: list[str]
    # Every way the outlets behind this value printed it.
    printed: list[str] = Field(default_factory=list)


class Discrepancy(BaseModel):
    kind: str
    values: list[DiscrepancyValue]


class Filters(BaseModel):
    outlets: list[str] | None = None
    since: dt.date | None = None
    until: dt.date | None = None


class OutletSummary(BaseModel):
    """What the index holds from one outlet."""

    outlet: str
    outlet_known: bool
    articles: int
    first: dt.date | None
    last: dt.date | None


class Context(BaseModel):
    """A quote with the sentences printed around it: ``before + quote + after`` is verbatim."""

    doc_id: str
    title: str
    outlet: str
    before: str
    quote: str
    after: str


class Answer(BaseModel):
    question: str
    mode: str
    answered: bool
    outlets: list[OutletAnswer]
    discrepancies: list[Discrepancy]
    filters: Filters = Field(default_factory=Filters)
    index_version: str = ""
