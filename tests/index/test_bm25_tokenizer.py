"""The words BM25 indexes and searches, and the memo that works each word out once."""

from __future__ import annotations

import gc
import itertools
import unicodedata
import weakref
from collections.abc import Iterator

import pytest

from index import BUNDLED_CORPUS, Bm25Tokenizer
from index import _bm25_tokenizer as tokenizer_module
from index._bm25_tokenizer import _STOPPED, _WORD, _folded_words

SETTINGS = [
    {"stemmer": stemmer, "stopwords": stopwords, "fold_accents": fold}
    for stemmer, stopwords, fold in itertools.product(["english", None], [True, False], [True, False])
]
# Spellings that take the folding path apart: a decomposed accent, a dotted capital I (two
# characters once lower-cased), ligatures, fractions, other scripts, direction marks, digits.
AWKWARD = [
    "Erdoğan met İbrahim Kalın at Çırağan Palace, not in Łódź",
    "Erdog\u0306an, x\u0307y and the ﬁnal Straße: ½ of Œuvre's ÆON",
    "Москва 会谈 \u202eטקסט\u202c 2025-06-02 1,200 bodies; they'll say it isn't over",
    "ALL CAPS and MiXeD CaSe, snake_case and e-mail",
    "",
]


def _texts() -> Iterator[str]:
    yield from AWKWARD
    for path in sorted(BUNDLED_CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        yield text
        yield from text.splitlines()


def _tokens_text_at_once(tokenizer: Bm25Tokenizer, text: str) -> list[str]:
    """What the tokenizer gave before it remembered words: the text's words all at once."""
    if not tokenizer.fold_accents or text.isascii():
        words = _WORD.findall(text.lower())
    else:
        words = []
        for word in _WORD.findall(unicodedata.normalize("NFC", text)):
            words.extend([word.lower()] if word.isascii() else _folded_words(word))
    if tokenizer.stopwords:
        words = [w for w in words if w not in _STOPPED]
    if tokenizer.stemmer is None:
        return words
    import Stemmer

    return list(Stemmer.Stemmer(tokenizer.stemmer).stemWords(words))


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_remembered_words_give_the_tokens_of_the_text_at_once(
    settings: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Indexes were built with the text tokenized at once; word by word from the memo must give
    the same tokens, the first time, from memory, and when the memo is full and starts over."""
    texts = list(_texts())
    tokenizer = Bm25Tokenizer.from_settings(settings)
    expected = [_tokens_text_at_once(tokenizer, text) for text in texts]
    assert [tokenizer(text) for text in texts] == expected
    assert [tokenizer(text) for text in texts] == expected
    monkeypatch.setattr(tokenizer_module, "REMEMBERED_WORDS", 5)
    small = Bm25Tokenizer.from_settings(settings)
    assert [small(text) for text in texts] == expected
    assert len(small._terms_of) <= 5


def test_a_tokenizer_is_freed_without_the_cyclic_collector() -> None:
    """An index version's tokenizer goes with the version; the bot freezes what is loaded, so the
    cyclic collector would never free one caught in a reference cycle with its memo."""
    tokenizer = Bm25Tokenizer()
    assert tokenizer("Talks in Istanbul lasted about an hour") == [
        "talk",
        "istanbul",
        "last",
        "about",
        "hour",
    ]
    gone = weakref.ref(tokenizer)
    gc.disable()
    try:
        del tokenizer
        assert gone() is None
    finally:
        gc.enable()


def test_tokenizer_stems_and_drops_stopwords() -> None:
    assert Bm25Tokenizer()("How long did the talks LAST? They lasted") == ["long", "talk", "last", "last"]
    assert Bm25Tokenizer(stemmer=None, stopwords=False)("The talks") == ["the", "talks"]


def test_tokenizer_folds_accents_so_either_spelling_of_a_name_is_one_term() -> None:
    tokenize = Bm25Tokenizer(stemmer=None)
    assert tokenize("Erdoğan met İbrahim Kalın at Çırağan Palace, not in Łódź") == tokenize(
        "Erdogan met Ibrahim Kalin at Ciragan Palace, not in Lodz"
    )
    assert tokenize("the ﬁnal Straße") == ["final", "strasse"]
    assert tokenize("Москва 会谈") == ["москва", "会谈"]  # other scripts pass through
    assert Bm25Tokenizer(stemmer=None, fold_accents=False)("Erdoğan") == ["erdoğan"]


def test_an_index_built_before_folding_keeps_its_tokens() -> None:
    old = Bm25Tokenizer.from_settings({"stemmer": "english", "stopwords": True})
    assert old.fold_accents is False and old("Erdoğan") == ["erdoğan"]
    assert Bm25Tokenizer.from_settings(Bm25Tokenizer().settings()) == Bm25Tokenizer()


def test_tokenizer_drops_what_an_apostrophe_leaves() -> None:
    text = "Google’s deal: they'll say it isn't over"
    assert Bm25Tokenizer(stemmer=None)(text) == ["google", "deal", "say", "isn", "over"]
    assert "s" in Bm25Tokenizer(stemmer=None, stopwords=False)(text)
