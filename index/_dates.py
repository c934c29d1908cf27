"""Publication dates: ISO strings first, then dateparser for what people write."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

# A date line before a headline is short; anything longer is prose that happens to hold a date.
MAX_DATE_LINE_CHARS = 40


def parse_date(value: Any, *, strict: bool = False) -> dt.date | None:
    """A date from a date, a datetime, or a string; None when there is none."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    parsed = _dateparser_parse(text, strict)
    return parsed.date() if parsed is not None else None


def date_line(line: str) -> dt.date | None:
    """The date a line consists of (``Monday, June 2, 2025``), or None."""
    text = line.strip()
    if not text or len(text) > MAX_DATE_LINE_CHARS or text.endswith((".", "?", "!")):
        return None
    if not any(ch.isdigit() for ch in text):
        return None
    return parse_date(text, strict=True)


@lru_cache(maxsize=4096)
def _dateparser_parse(text: str, strict: bool) -> dt.datetime | None:
    import dateparser  # slow to import; only text that is not ISO needs it

    settings: dict[str, Any] = {"STRICT_PARSING": strict, "PREFER_DAY_OF_MONTH": "first"}
    try:
        return dateparser.parse(text, languages=["en"], settings=settings)
    except (ValueError, OverflowError):
        return None
