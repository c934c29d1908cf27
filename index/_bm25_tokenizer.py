"""The text BM25 indexes and searches: lower-cased words, accents folded, stop words dropped,
Snowball-stemmed. An index's manifest names the tokenizer it was built with."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

_WORD = re.compile(r"\w+")
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
# docs/performance.md, round 6).
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

    def __call__(self, text: str) -> list[str]:
        words = self._words(text)
        if self.stopwords:
            words = [w for w in words if w not in _STOPPED]
        stem = self._stem
        return list(stem.stemWords(words)) if stem is not None else words

    def _words(self, text: str) -> list[str]:
        if not self.fold_accents or text.isascii():
            return _WORD.findall(text.lower())
        # Word by word: folding a whole article took 4 times as long as tokenizing it, and most of
        # its non-ASCII characters are quotes and dashes. NFC first, so that a letter written as a
        # base and a mark stays one word.
        words: list[str] = []
        for word in _WORD.findall(unicodedata.normalize("NFC", text)):
            if word.isascii():
                words.append(word.lower())
            else:
                words.extend(_folded_words(word))
        return words
