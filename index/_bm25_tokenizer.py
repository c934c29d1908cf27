"""The text BM25 indexes and searches: lower-cased words, accents folded, stop words dropped,
Snowball-stemmed. An index's manifest names the tokenizer it was built with."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from itertools import chain
from typing import Any

_WORD = re.compile(r"\w+")
# Distinct words the tokenizer remembers the terms of (~230 bytes each, ~30 MB when full).
REMEMBERED_WORDS = 1 << 17
# English function words; kept short so that words which carry meaning in news ("after", "over",
# "against") still count.
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "ours",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
    ]
)
# What is left of a word split at its apostrophe ("Google's", "don't", "they'll"): "s" alone is in
# most passages. Leaving them out ranked MultiHop-RAG passages better and made BM25 cheaper (docs/quality.md,
# docs/performance-history.md, round 6).
CLITICS = frozenset(["s", "t", "d", "ll", "m", "re", "ve"])
_STOPPED = ENGLISH_STOPWORDS | CLITICS
# Letters NFKD does not take apart into a base letter and a mark: "Kalın" and "Kalin", "Łódź" and
# "Lodz", "Straße" and "Strasse" are each one word to a reader searching outlets that spell names
# either way.
_UNDECOMPOSED = str.maketrans(
    dict(zip("ıłŁøØđĐ", "ilLoOdD", strict=True)) | {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE"}
)


@lru_cache(maxsize=8192)
def _folded_words(word: str) -> tuple[str, ...]:
    """``word`` lower-cased without accents and with compatibility characters spelled plainly, as
    Lucene's ASCII folding does: "Erdoğan" -> "erdogan", "İbrahim" -> "ibrahim", "ﬁnal" -> "final"
    (and "½" -> "1", "2": what folding leaves is split into words again). The embedding model's
    tokenizer strips accents too, so BM25 would otherwise be the one signal that misses an outlet
    for spelling a name the other way. Cached: the same names recur in article after article."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_UNDECOMPOSED))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(_WORD.findall(plain.lower()))


@dataclass(frozen=True)
class Bm25Tokenizer:
    """Lower-cased word tokens, optionally without accents (:func:`_folded_words`), without stop words
    and Snowball-stemmed."""

    stemmer: str | None = "english"
    stopwords: bool = True
    fold_accents: bool = True

    @classmethod
    def from_settings(cls, data: dict[str, Any]) -> Bm25Tokenizer:
        """The tokenizer ``BM25Settings`` (dumped) or an index's manifest describes; indexes from
        before folding lack the key and were built without it."""
        stemmer = data.get("stemmer")
        return cls(
            stemmer=None if stemmer in (None, "none") else str(stemmer),
            stopwords=bool(data["stopwords"]),
            fold_accents=bool(data.get("fold_accents", False)),
        )

    def settings(self) -> dict[str, Any]:
        return {
            "lowercase": True,
            "pattern": _WORD.pattern,
            "stemmer": self.stemmer,
            "stopwords": self.stopwords,
            "fold_accents": self.fold_accents,
        }

    @cached_property
    def _stem(self) -> Any:
        if self.stemmer is None:
            return None
        import Stemmer

        return Stemmer.Stemmer(self.stemmer)

    @cached_property
    def _terms_of(self) -> _TermsOfWord:
        # A function of the settings, not a bound method: the memo then holds no reference back to
        # the tokenizer, and a replaced index version's tokenizer is freed without the cyclic
        # collector (which skips what the bot has frozen, see retrieval._memory).
        return _TermsOfWord(partial(_word_terms, self._stem, self.stopwords, self.fold_accents))

    def __call__(self, text: str) -> list[str]:
        if not self.fold_accents:
            words = _WORD.findall(text.lower())
        else:
            # NFC first, so that a letter written as a base and a mark stays one word.
            words = _WORD.findall(text if text.isascii() else unicodedata.normalize("NFC", text))
        return list(chain.from_iterable(map(self._terms_of.__getitem__, words)))


class _TermsOfWord(dict[str, tuple[str, ...]]):
    """A word as a text spells it -> its terms, each word worked out once. Lower-casing, folding,
    the stop list and stemming every word every time took a sentence 18 us, against 11 with the
    words remembered (5,000 MultiHop-RAG sentences, best of five), and an answer tokenizes some
    270. Emptied when it reaches REMEMBERED_WORDS; MultiHop-RAG's 609 articles hold 48k words."""

    def __init__(self, terms: Callable[[str], tuple[str, ...]]) -> None:
        super().__init__()
        self._terms = terms

    def __missing__(self, word: str) -> tuple[str, ...]:
        if len(self) >= REMEMBERED_WORDS:
            self.clear()
        terms = self[word] = self._terms(word)
        return terms


def _word_terms(stem: Any, stopwords: bool, fold_accents: bool, word: str) -> tuple[str, ...]:
    """The terms of one word: lower-cased (already, when not folding), folded, without stop words,
    stemmed."""
    pieces: Sequence[str] = (
        (word.lower(),) if word.isascii() else _folded_words(word) if fold_accents else (word,)
    )
    if stopwords:
        pieces = [piece for piece in pieces if piece not in _STOPPED]
    return tuple(stem.stemWords(pieces)) if stem is not None else tuple(pieces)
