"""What an answer reads from its candidate sentences: enough words to quote, the question's terms,
and how near a value they stand."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from index import Bm25Tokenizer
from retrieval._evidence import _ENOUGH_WORDS, QUOTE_MIN_WORDS, _proximity, _proximity_bound
from retrieval._values import Value, ValueKind

_WORD = re.compile(r"\w+")
# Word characters, separators and the awkward ones between: underscores and digits are word
# characters, accents and other scripts too; dashes, apostrophes and controls are not.
_CHARACTERS = st.sampled_from([*"ab_9é会 \t\n.,'’-\u200b\u0301\x00"])


@given(st.lists(_CHARACTERS, max_size=40).map("".join))
def test_enough_words_is_counting_every_word(text: str) -> None:
    assert bool(_ENOUGH_WORDS.match(text)) == (len(_WORD.findall(text)) >= QUOTE_MIN_WORDS)


def test_enough_words_around_the_threshold_and_at_length() -> None:
    assert _ENOUGH_WORDS.match("“Talks lasted about an hour”")
    assert not _ENOUGH_WORDS.match("— By Staff Reporter —")
    assert _ENOUGH_WORDS.match("x" * 200_000 + " a b c d")
    assert not _ENOUGH_WORDS.match("x" * 200_000 + " a b c")


_TOKENIZE = Bm25Tokenizer()
_ASCII_WORDS = st.sampled_from(
    ["talks", "lasted", "hour", "the", "Istanbul", "90", "minutes", "U.S.", "don't"]
)


@given(
    st.lists(_ASCII_WORDS, min_size=1, max_size=40),
    st.lists(_ASCII_WORDS, min_size=1, max_size=4),
    st.data(),
)
def test_proximity_never_exceeds_its_bound(
    words: list[str], question: list[str], data: st.DataObject
) -> None:
    """The bound lets an answer leave a sentence's value unread; were it ever below the proximity,
    a sentence that should be quoted could be left out."""
    text = " ".join(words)
    first = data.draw(st.integers(0, len(words) - 1))
    last = data.draw(st.integers(first, len(words) - 1))
    start = len(" ".join(words[:first])) + (1 if first else 0)
    end = len(" ".join(words[: last + 1]))
    value = Value(ValueKind.COUNT, text[start:end], start, end, (1,))
    terms = {term: 1.0 + i for i, term in enumerate(dict.fromkeys(_TOKENIZE(" ".join(question))))}
    total = sum(terms.values()) or 1.0
    coverage = sum(weight for term, weight in terms.items() if term in set(_TOKENIZE(text))) / total
    assert _proximity(text, value, terms, _TOKENIZE) / total <= _proximity_bound(text, coverage)


def test_proximity_bound_outside_ascii_is_the_largest_share() -> None:
    # "Erdoğan" written as a base letter and a mark is one word in the sentence and two near a value.
    assert _proximity_bound("Erdog\u0306an said 3 times", 0.0) >= 1.0
    assert _proximity_bound("Erdogan said 3 times", 0.25) < 0.26
