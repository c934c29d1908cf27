"""Which kind of value a question asks for, and the values a sentence states."""

from __future__ import annotations

import pytest

from retrieval import ValueKind, _values, find_values, question_kind
from retrieval._question import QuestionError, clean_question, named_outlets, question_dates


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How long did the talks last?", ValueKind.DURATION),
        ("For how long did they meet?", ValueKind.DURATION),
        ("How many bodies were exchanged?", ValueKind.COUNT),
        ("When were the talks held?", ValueKind.DATE),
        ("How much did the damage cost?", ValueKind.MONEY),
        ("What did Russia propose?", None),
    ],
)
def test_question_kind(question: str, kind: ValueKind | None) -> None:
    assert question_kind(question) is kind


@pytest.mark.parametrize(
    ("text", "kind", "printed", "key"),
    [
        ("which lasted about an hour, reports claimed", ValueKind.DURATION, "about an hour", (3600,)),
        ("The brief, roughly 90-minute session", ValueKind.DURATION, "roughly 90-minute", (5400,)),
        ("End After Just One Hour: Report", ValueKind.DURATION, "Just One Hour", (3600,)),
        ("the damage exceeds USD 2 billion, making", ValueKind.MONEY, "USD 2 billion", (2_000_000_000,)),
        ("paid 3 million euros for it", ValueKind.MONEY, "3 million euros", (3_000_000,)),
        ("shares doubled to 16¢ on Thursday", ValueKind.MONEY, "16¢", (16,)),
        ("a 50p coin", ValueKind.MONEY, "50p", (50,)),
        ("the talks lasted two days", ValueKind.DURATION, "two days", (172_800,)),
        ("a 10-year deal", ValueKind.DURATION, "10-year", (315_576_000,)),
        ("return of some 6,000 bodies", ValueKind.COUNT, "some 6,000", (6000.0,)),
        ("three people died in the attack", ValueKind.COUNT, "three", (3.0,)),
        ("one million people marched", ValueKind.COUNT, "one million", (1_000_000.0,)),
        ("In the 1990s, 5 firms merged", ValueKind.COUNT, "5", (5.0,)),
        ("Turnout rose to 71 percent.", ValueKind.COUNT, "71 percent", (71.0,)),
        ("In Istanbul, on June 3, 2025, the talks", ValueKind.DATE, "June 3, 2025", (6, 3)),
        ("held on Monday, June 2nd, under", ValueKind.DATE, "June 2nd", (6, 2)),
    ],
)
def test_find_values(text: str, kind: ValueKind, printed: str, key: tuple[object, ...]) -> None:
    (value,) = find_values(text, kind)
    assert (value.printed, value.key) == (printed, key)
    assert text[value.start : value.end] == printed


def test_days_and_years_are_not_counts() -> None:
    assert find_values("On June 2, 2025 the talks began", ValueKind.COUNT) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("It was the fifth time the delegations met.", ValueKind.COUNT),
        ("They have a real bias against the other side.", ValueKind.MONEY),
        ("The delegations met at 9 a.m. on Monday.", ValueKind.DURATION),
    ],
)
def test_words_that_only_look_like_values_are_none(text: str, kind: ValueKind) -> None:
    assert find_values(text, kind) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("In recent years the talks have stalled twice.", ValueKind.DURATION),
        ("They met last month, 3 officials said.", ValueKind.DURATION),
        ("Kick-off is at 4:30 p.m. on Sunday.", ValueKind.MONEY),
        ("10:58 p.m. — Garoppolo is sacked AGAIN.", ValueKind.COUNT),
        ("The Raiders are set up with 1st & Goal.", ValueKind.COUNT),
        ("It is a $4,000 computer, as configured.", ValueKind.COUNT),
        ("Shares rose from 2019 to 2022, on June 29.", ValueKind.COUNT),
        ("No one came to the talks, and a single delegate left.", ValueKind.COUNT),
        ("Turnout rose to 71 percent.", ValueKind.MONEY),
        ("The talks went on for hours.", ValueKind.DURATION),
    ],
)
def test_a_sentence_that_cannot_state_the_value_is_not_parsed(
    text: str, kind: ValueKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    # quantulum3 takes ~4 ms a sentence; a unit without a number, or a number without a currency,
    # states no duration or sum.
    def parsed(_: str) -> None:
        raise AssertionError(f"{text!r} was parsed")

    monkeypatch.setattr(_values, "_quantities", parsed)
    assert find_values(text, kind) == []


def test_named_outlets_and_dates() -> None:
    outlets = ["The Verge", "TechCrunch", "Fortune"]
    assert named_outlets("Did the Verge and TechCrunch agree?", outlets) == ["The Verge", "TechCrunch"]
    assert named_outlets("a small fortune", outlets) == []
    stated = question_dates("What did the article published on October 5, 2023 say?")
    assert (str(stated.since), str(stated.until)) == ("2023-10-05", "2023-10-05")
    month = question_dates("news published in November 2023")
    assert (str(month.since), str(month.until)) == ("2023-11-01", "2023-11-30")
    assert str(question_dates("reports after 2023-10-01").since) == "2023-10-02"
    assert str(question_dates("reports before 2023-10-01").until) == "2023-09-30"


def test_questions_are_cleaned_and_bounded() -> None:
    assert clean_question("  How\x00 long\u202e did\n\tthey  meet? ", 100) == "How long did they meet?"
    assert len(clean_question("a" * 10_000, 1000)) == 1000
    for empty in ("", "   ", "\x00\x01", "?!"):
        with pytest.raises(QuestionError, match="empty"):
            clean_question(empty, 100)


def test_values_read_are_remembered_least_recently_used_forgotten_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_values, "REMEMBERED_SENTENCES", 2)
    _values.forget_values()
    first, second, third = (f"{n} delegates met at the talks" for n in (3, 4, 5))
    assert _values.remembered_values(first, ValueKind.COUNT) is None  # not read yet
    for text in (first, second):
        find_values(text, ValueKind.COUNT)
    assert _values.remembered_values(first, ValueKind.COUNT)  # asked: now the most recent
    find_values(third, ValueKind.COUNT)
    assert _values.remembered_values(second, ValueKind.COUNT) is None
    assert _values.remembered_values(first, ValueKind.COUNT) and _values.remembered_values(
        third, ValueKind.COUNT
    )
    assert _values.remembered_values("No number here at all, none.", ValueKind.COUNT) == []
    _values.forget_values()
