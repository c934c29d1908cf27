"""What a question says besides its topic: outlets it names, publication dates it restricts to."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from config import QuotedeskError

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DATE = (
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{4}})"
)
_PUBLISHED_ON = re.compile(
    rf"\b(?:published|posted|reported|dated|written|released)\s+(?:on|in)\s+({_DATE})", re.I
)
_BEFORE = re.compile(rf"\b(?:before|until|prior to|no later than)\s+({_DATE})", re.I)
_AFTER = re.compile(rf"\b(?:after|later than)\s+({_DATE})", re.I)
_SINCE = re.compile(rf"\b(?:since|from)\s+({_DATE})", re.I)
_MONTH_ONLY = re.compile(rf"^{_MONTH}\s+\d{{4}}$", re.I)
_ANY_DATE = re.compile(_DATE, re.I)
# Every shape of _DATE holds a four-digit year, and most questions hold none (MultiHop-RAG: 22%
# do); looking for one first skips trying the month names at every position.
_YEAR = re.compile(r"\d{4}")


# The shapes _DATE matches, for the standard library to read in microseconds; dateparser (~10 ms a
# date) reads anything else.
_STRICT_FORMATS = ("%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%B %Y", "%b %Y")
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b|[.,]", re.I)


def _strict_date(text: str) -> dt.date | None:
    cleaned = " ".join(_ORDINAL.sub(" ", text).split())
    for layout in _STRICT_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, layout).date()
        except ValueError:
            continue
    return None


class QuestionError(QuotedeskError):
    """The question cannot be asked (empty once cleaned)."""


@dataclass(frozen=True)
class DateRange:
    since: dt.date | None = None
    until: dt.date | None = None


def clean_question(question: str, max_chars: int) -> str:
    """Control characters removed, whitespace collapsed, cut to ``max_chars``; empty raises."""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in question)
    text = " ".join(text.split())[:max_chars].strip()
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("the question is empty; ask something, for example: How long did the talks last?")
    return text


def named_outlets(question: str, outlets: Iterable[str]) -> list[str]:
    """Outlets the question names, as proper names: "the Verge" finds "The Verge", "fortune" not "Fortune"."""
    # The substring test first: it rules out most outlets for a fraction of a regex search's cost
    # (49 outlets, MultiHop-RAG's 2,556 questions: 0.21 -> 0.013 ms a question, on the path before
    # BM25 starts).
    return [
        outlet
        for outlet, bare, pattern in _outlet_patterns(tuple(outlets))
        if bare in question and pattern.search(question)
    ]


@lru_cache(maxsize=8)
def _outlet_patterns(outlets: tuple[str, ...]) -> list[tuple[str, str, re.Pattern[str]]]:
    """Built once per set of outlets: building them for every question doubled its cost (49 outlets:
    0.16 -> 0.07 ms)."""
    patterns = []
    for outlet in outlets:
        bare = re.sub(r"^the\s+", "", outlet, flags=re.I)
        if len(bare) >= 3:
            patterns.append((outlet, bare, re.compile(rf"(?<!\w){re.escape(bare)}(?!\w)")))
    return patterns


def question_dates(question: str) -> DateRange:
    """Publication-date limits a question states: "published on ...", "before ...", "since ..."."""
    since = until = None
    if match := _PUBLISHED_ON.search(question):
        since, until = _bounds(match.group(1))
    if match := _BEFORE.search(question):
        first = _bounds(match.group(1))[0]
        until = first - dt.timedelta(days=1) if first else None
    if match := _AFTER.search(question):
        last = _bounds(match.group(1))[1]
        since = last + dt.timedelta(days=1) if last else None
    if match := _SINCE.search(question):
        since = _bounds(match.group(1))[0]
    return DateRange(since, until)


def mentioned_days(question: str) -> list[dt.date]:
    """Every day the question names ("the TechCrunch report on October 7, 2023"), in order; a month
    alone names no day."""
    days: list[dt.date] = []
    if not _YEAR.search(question):
        return days
    for match in _ANY_DATE.finditer(question):
        if _MONTH_ONLY.match(match.group(0).strip()):
            continue
        first, last = _bounds(match.group(0))
        if first is not None and first == last and first not in days:
            days.append(first)
    return days


@lru_cache(maxsize=4096)
def _bounds(text: str) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day a written date covers (a month covers all its days)."""
    day = _strict_date(text)
    if day is None:
        import dateparser

        parsed = dateparser.parse(text, languages=["en"], settings={"PREFER_DAY_OF_MONTH": "first"})
        if parsed is None:
            return None, None
        day = parsed.date()
    if _MONTH_ONLY.match(text.strip()):
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    return day, day
