"""The values a question asks for (a duration, a count, a date, a sum of money) and where text states them.

Quantities are read by quantulum3 and dates by dateparser; this module only decides which of their
findings answer which kind of question, and how two printed values compare.
"""

from __future__ import annotations

import enum
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_log = logging.getLogger(__name__)


class ValueKind(enum.StrEnum):
    DURATION = "duration"
    COUNT = "count"
    DATE = "date"
    MONEY = "money"


@dataclass(frozen=True, slots=True)
class Value:
    kind: ValueKind
    printed: str  # as printed, with a hedge word such as "about" or "roughly"
    start: int
    end: int
    key: tuple[Any, ...]  # values with equal keys say the same thing


_QUESTION_KINDS: tuple[tuple[re.Pattern[str], ValueKind], ...] = (
    (
        re.compile(
            r"\bhow (?:long|much time)\b|\bfor how long\b|\bduration\b"
            r"|\bhow many (?:seconds|minutes|hours|days|weeks|months|years)\b",
            re.I,
        ),
        ValueKind.DURATION,
    ),
    (
        re.compile(
            r"\bhow much (?:money|did \w+ (?:cost|pay|spend))\b"
            r"|\bhow much\b.*\b(?:cost|costs|pay|paid|spend|spent|worth|price|damage|fund\w*)\b"
            r"|\bwhat (?:was|is|were) the (?:cost|price|value)\b",
            re.I,
        ),
        ValueKind.MONEY,
    ),
    (re.compile(r"\bhow many\b|\bnumber of\b|\bhow much\b", re.I), ValueKind.COUNT),
    (
        re.compile(r"^\W*when\b|\bwhat (?:date|day)\b|\bwhich (?:date|day)\b|\bon what date\b", re.I),
        ValueKind.DATE,
    ),
)
# The words that ask for the value; they say nothing about the topic and are not searched for.
QUESTION_PHRASE = re.compile(
    r"\b(?:how (?:long|much time|many|much)|for how long|number of|what (?:date|day)|which (?:date|day)"
    r"|when)\b",
    re.I,
)
_HEDGE = re.compile(
    r"(?:\b(?:about|around|roughly|approximately|nearly|almost|barely|just|some|over|under|only|exactly"
    r"|more than|less than|at least|at most|up to|close to)\s+)$",
    re.I,
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATES = re.compile(
    rf"\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?(?!\d)"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?\b"
    r"|\b\d{4}-\d{2}-\d{2}\b"
)
_MONTH_NEAR = re.compile(rf"{_MONTH}\W*$|^\W*(?:st|nd|rd|th)?\s*(?:of\s+)?{_MONTH}\b")
_CURRENCY_BEFORE = re.compile(r"(?:USD|US\$|\$|EUR|€|£|GBP|¥|JPY|INR|₹|Rs\.?)\s*$")
_SECONDS = {
    "second": 1, "minute": 60, "hour": 3600, "day": 86_400, "week": 604_800,
    "month": 2_629_800, "year": 31_557_600,
}  # fmt: skip
_ANGLE_AS_TIME = {"minute of arc": "minute", "second of arc": "second"}
# quantulum3 takes ~3 ms a sentence, and a typed question's answer scores some 200 sentences (the
# bundled corpus's "How long did the talks last?": 270 ms warm), most of which state no value of
# the kind asked. It reads only the sentences these say could: a number before a time unit for a
# duration, a number that is no year, date, time or sum for a count, and one beside a currency
# for a sum. Checked against quantulum3 on MultiHop-RAG sentences, what they pass over was
# misreadings only: "a pack", "a time" and ordinals ("the fifth time") as counts, "a real"
# (Brazil's currency) and "4:30 p.m." as money, "9 a.m." as nine years, "12 TD" as days.
_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
    "thousand", "million", "billion", "trillion", "dozens?", "half", "quarter", "third", "single",
    "double", "triple", "twice", "thrice", "pair", "couple", "score",
)  # fmt: skip
# Number words quantulum3 never reads as a count on their own (see _NOT_COUNTS).
_NO_COUNT_WORDS = frozenset(["one", "single", "double", "triple", "twice", "thrice", "couple", "score"])
_ANY_NUMBER_WORD = "|".join(_NUMBER_WORDS)
_HAS_NUMBER = re.compile(rf"\d|\b(?:{_ANY_NUMBER_WORD})\b", re.I)
# A duration is a number, or "a"/"an", before a time unit ("90-minute", "an hour", "two days"):
# a unit alone ("in recent years", "last month") states none. Of 12,000 MultiHop-RAG sentences,
# 4,518 held a time unit and 663 a duration; 1,185 hold both. Those it passes over were
# misreadings: "January 12 a 40% cut" as 12 years, "575 TD" as days, "the fifth day" as 5 days.
_DURATION = re.compile(
    rf"(?:\d|\b(?:an?|few|several|many|{_ANY_NUMBER_WORD})\b)[\s-]*"
    r"(?:s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|d|days?|wks?|weeks?|mos?|months?|y|yrs?|years?)\b"
    r"|arc|\d\s*['′″]",
    re.I,
)
# quantulum3 reads money only through its currency units' names and symbols (and this module
# through _CURRENCY_BEFORE); single letters only beside a digit ("50p", "5c"). Of the same
# sentences, 5,117 held a number and 524 money; 634 hold a number and a currency. Those it passes
# over were misreadings: "4:30 p.m." as pence, "1080p cameras".
_CURRENCY = re.compile(
    r"[$¢£¥€₥₩₫₹₽元円圓원]|\d[cdp]\b|\b(?:R|C|Fr|SFr|FS)\s?\d"
    r"|\b(?:USD|EUR|GBP|JPY|CNY|RMB|INR|CHF|CAD|AUD|NZD|HKD|SGD|KRW|RUB|BRL|MXN|ZAR|Rs)\b"
    r"|(?i:\b(?:dollars?|euros?|pounds?|sterling|yen|yuan|renminbi|rupees?|francs?|rappen|pesos?|reais"
    r"|reals?|centavos?|won|rubles?|roubles?|rand|cents?|pence|penny|pennies|dimes?|mills?|mil)\b)"
)
# A count is a number quantulum3 reads without a unit and this module takes for no year or day of a
# month (_is_date_part). Numbers that are something else are set aside before looking for one:
# years and decades, sums, times of day and ordinals written in digits, days of a month. "one"
# alone is no count to quantulum3 ("no one", "one of"), nor are "single", "double", "twice",
# "couple" or "score". Of 22,136 MultiHop-RAG sentences holding a number, 11,919 held a count by
# quantulum3's reading and 15,829 pass this test; the 933 with a count that do not held
# misreadings ("10:58 p.m." as 10, "4th & goal" as "&", "$4,000" as 000, "2019 to 2022", the
# fourth/fifth of a ranking, "negative", "a time") but for four counts of one ("one set").
_NOT_COUNTS = re.compile(
    r"\b(?:19|20)\d\d(?:s|'s|’s)?\b(?![.,]\d)"
    r"|(?:[$£€¥₹]|\b(?:US|A|C|NZ|HK)\$)\s?\d[\d,.]*"
    r"|\b\d{1,2}(?::\d\d)+\b|\b\d{1,2}(?::\d\d)?\s?[ap]\.?m\b\.?"
    r"|\b\d+(?:st|nd|rd|th)\b"
    rf"|\b{_MONTH}\.?\s+\d{{1,2}}\b(?![.,]\d)",
    re.I,
)
_COUNT_NUMBER = re.compile(
    rf"\d|\b(?:{'|'.join(w for w in _NUMBER_WORDS if w not in _NO_COUNT_WORDS)})\b", re.I
)


def _may_state_count(text: str) -> bool:
    return _COUNT_NUMBER.search(_NOT_COUNTS.sub(" ", text)) is not None


# What a sentence must pass to be read for a value of each kind.
_MAY_STATE: dict[ValueKind, Callable[[str], bool]] = {
    ValueKind.DURATION: lambda text: _DURATION.search(text) is not None,
    ValueKind.COUNT: _may_state_count,
    ValueKind.MONEY: lambda text: bool(_HAS_NUMBER.search(text) and _CURRENCY.search(text)),
}


# In "how long did the talks last", "last" asks for the duration too; it says nothing of the topic.
_DURATION_VERBS = re.compile(r"\b(?:last|lasted|take|took|run|ran|go on|went on)\b", re.I)


def question_topic(question: str, kind: ValueKind | None) -> str:
    """The question without the words that ask for the value."""
    if kind is None:
        return question
    topic = QUESTION_PHRASE.sub(" ", question)
    return _DURATION_VERBS.sub(" ", topic) if kind is ValueKind.DURATION else topic


def value_window(text: str, value: Value, words: int) -> str:
    """The clause a value stands in: ``words`` words either side of it."""
    before = re.findall(r"\S+", text[: value.start])[-words:]
    after = re.findall(r"\S+", text[value.end :])[:words]
    return " ".join([*before, text[value.start : value.end], *after])


def question_kind(question: str) -> ValueKind | None:
    """The kind of value a question asks for, if it asks for one."""
    for pattern, kind in _QUESTION_KINDS:
        if pattern.search(question):
            return kind
    return None


def may_state(text: str, kind: ValueKind) -> bool:
    """Whether ``text`` could state a value of ``kind``: a pattern's quick test, before the parsers'
    slow one (:func:`find_values`)."""
    if kind is ValueKind.DATE:
        return _DATES.search(text) is not None
    return _MAY_STATE[kind](text)


def find_values(text: str, kind: ValueKind) -> list[Value]:
    """Every value of ``kind`` stated in ``text``, in order."""
    known = remembered_values(text, kind)
    return known if known is not None else [v for v in _quantities(text) if v.kind is kind]


def _hedged(text: str, start: int) -> int:
    match = _HEDGE.search(text[max(0, start - 24) : start])
    return start - len(match.group()) if match else start


@lru_cache(maxsize=1)
def _quantulum() -> Any:
    # quantulum3's optional classifier is a pickle that breaks across scikit-learn releases; its
    # rule-based disambiguation is enough here, so the classifier is never loaded.
    import quantulum3.classifier
    from quantulum3 import parser

    quantulum3.classifier.USE_CLF = False
    return parser


def warm_up() -> None:
    """Load quantulum3's unit tables and dateparser now (about 1.3 s) rather than at the first question."""
    _quantulum().parse("an hour")
    _date_key.__wrapped__("June 2, 2025")  # not through the cache: nothing to remember


def remembered_values(text: str, kind: ValueKind) -> list[Value] | None:
    """:func:`find_values`'s answer when it is quick (the parser need not read ``text``: it cannot
    state such a value, it was read before, or the value is a date), else None."""
    if not may_state(text, kind):
        return []
    if kind is ValueKind.DATE:
        return _dates(text)
    with _REMEMBERED_LOCK:
        found = _REMEMBERED.get(text)
        if found is not None:
            _REMEMBERED.move_to_end(text)
    return None if found is None else [v for v in found if v.kind is kind]


def forget_values() -> None:
    """Forget the quantities read from sentences (:func:`find_values`)."""
    with _REMEMBERED_LOCK:
        _REMEMBERED.clear()


# A follow-up question scores mostly the sentences the one before it did: the quantities read from
# this many are remembered, the least recently used forgotten first.
REMEMBERED_SENTENCES = 8192
_REMEMBERED: OrderedDict[str, tuple[Value, ...]] = OrderedDict()
_REMEMBERED_LOCK = threading.Lock()


def _quantities(text: str) -> tuple[Value, ...]:
    """The quantities quantulum3 reads in ``text``, remembered (:func:`remembered_values` first
    looks there)."""
    found = _read_quantities(text)
    with _REMEMBERED_LOCK:
        _REMEMBERED[text] = found
        if len(_REMEMBERED) > REMEMBERED_SENTENCES:
            _REMEMBERED.popitem(last=False)
    return found


def _read_quantities(text: str) -> tuple[Value, ...]:
    try:
        found = _quantulum().parse(text)
    except Exception:  # a parser failure on odd text must not fail the answer
        _log.debug("quantulum3 could not parse %r", text[:80], exc_info=True)
        return ()
    values = []
    for q in found:
        start, end = q.span
        unit = _ANGLE_AS_TIME.get(q.unit.name, q.unit.name)
        currency = _CURRENCY_BEFORE.search(text[max(0, start - 5) : start])
        if unit in _SECONDS:
            kind, key = ValueKind.DURATION, (round(q.value * _SECONDS[unit]),)
        elif q.unit.entity.name == "currency":
            # Amounts compare by size; "$2bn" and "USD 2 billion" say the same.
            kind, key = ValueKind.MONEY, (round(q.value),)
        elif currency is not None:
            kind, key = ValueKind.MONEY, (round(q.value),)
            start -= len(currency.group())
        elif q.unit.entity.name == "dimensionless" and not _is_date_part(text, start, end, q.value):
            kind, key = ValueKind.COUNT, (q.value,)
        else:
            continue
        hedge_start = _hedged(text, start)
        values.append(Value(kind, text[hedge_start:end], hedge_start, end, key))
    return tuple(values)


def _is_date_part(text: str, start: int, end: int, value: float) -> bool:
    """A day of the month or a year is not a count."""
    if value.is_integer() and 1900 <= value <= 2100 and "," not in text[start:end]:
        return True
    return bool(
        _MONTH_NEAR.search(text[max(0, start - 12) : start]) or _MONTH_NEAR.search(text[end : end + 12])
    )


def _dates(text: str) -> list[Value]:
    values = []
    for match in _DATES.finditer(text):
        key = _date_key(match.group())
        if key is not None:
            values.append(Value(ValueKind.DATE, match.group(), match.start(), match.end(), key))
    return values


@lru_cache(maxsize=4096)
def _date_key(printed: str) -> tuple[Any, ...] | None:
    """Month and day, plus the year only when printed: "June 2" and "June 2nd, 2025" agree."""
    import dateparser

    parsed = dateparser.parse(printed, languages=["en"], settings={"PREFER_DAY_OF_MONTH": "first"})
    if parsed is None:
        return None
    return (parsed.month, parsed.day)
