"""Choosing the sentences an answer may quote."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from retrieval._compose import _ENOUGH_WORDS, QUOTE_MIN_WORDS

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
