"""Cleaning: keep what the outlet printed as its article, drop what the page wrapped around it.

The text's own characters stay as printed (curly quotes, dashes); only whitespace is normalised and
invisible characters are removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from index._article import RawArticle

# A paragraph that is entirely one of these is page furniture, wherever it stands.
_BOILERPLATE = re.compile(
    r"""^(?:
        [\d.,]+\s*[kKmM]?                                   # share and comment counters: "0", "118", "1.2K"
      | (?:image|photo|picture|video|graphic)s?\s*(?:source|credit|courtesy|by)s?\s*[:|].*
      | (?:photo|image)\s*:\s*.{0,80}
      | advertisement | sponsored(?:\s+content)?
      | (?:share|tweet|email|print|save)(?:\s+(?:this|on\s+\w+))?(?:\s+article)?\s*:?
      | (?:read\s+more|related(?:\s+(?:articles|stories|sources))?|see\s+also)\s*:?
      | subscribe | notify\s+of | guest | login | oldest | newest | most\s+voted | newest\s+most\s+voted
      | inline\s+feedbacks | view\s+all\s+comments | \d+\s+comments? | leave\s+a\s+(?:reply|comment)
      | this\s+site\s+uses\s+akismet\b.*
      | (?:•\s*)?source\s+\d+(?:\s*•\s*source\s+\d+)*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# A paragraph that starts one of these blocks ends the article: everything after it is page footer.
_FOOTER_START = re.compile(
    r"^(?:related\s+sources\s*:?|subscribe|notify\s+of|leave\s+a\s+(?:reply|comment)|\d+\s+comments?"
    r"|this\s+site\s+uses\s+akismet\b.*|view\s+all\s+comments)$",
    re.IGNORECASE,
)
# A footer marker only ends the article once this share of its text has been read; earlier it is
# a stray line, not the footer.
_FOOTER_MIN_SHARE = 0.5
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = re.compile(r"[^\S\n]+")
# Unicode's control characters (category Cc) other than line feed and tab.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WORD = re.compile(r"\w+")
# A paragraph this long or longer whose words mostly reappear in a longer paragraph is a repeat
# (a lede printed twice); shorter ones are headings and may legitimately echo the text.
_REPEAT_MIN_WORDS = 8
_REPEAT_CONTAINMENT = 0.8


def normalise(text: str) -> str:
    """NFC, no invisible or control characters, one space for any run of spaces on a line."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text)


def clean_paragraphs(article: RawArticle) -> list[str]:
    """The article's body as cleaned paragraphs, in order."""
    body = normalise(article.body.replace("\r\n", "\n"))
    if article.block_paragraphs:
        blocks = re.split(r"\n\s*\n", body)
        paragraphs = [" ".join(line.strip() for line in block.split("\n")).strip() for block in blocks]
    else:
        paragraphs = [line.strip() for line in body.split("\n")]
    paragraphs = [p for p in paragraphs if p]
    paragraphs = _cut_footer(paragraphs)
    paragraphs = [p for p in paragraphs if not _BOILERPLATE.match(p)]
    return _drop_repeats(paragraphs, normalise(article.title).strip())


def _cut_footer(paragraphs: list[str]) -> list[str]:
    total = sum(len(p) for p in paragraphs)
    seen = 0
    for i, paragraph in enumerate(paragraphs):
        if seen >= _FOOTER_MIN_SHARE * total and _FOOTER_START.match(paragraph):
            return paragraphs[:i]
        seen += len(paragraph)
    return paragraphs


def _drop_repeats(paragraphs: list[str], title: str) -> list[str]:
    """Drop exact repeats (and a repeat of the headline), then paragraphs contained in a longer one."""
    seen = {title.casefold()}
    unique = []
    for paragraph in paragraphs:
        key = paragraph.casefold()
        if key not in seen:
            seen.add(key)
            unique.append(paragraph)
    bags = [Counter(w.casefold() for w in _WORD.findall(p)) for p in unique]
    words = [set(bag) for bag in bags]
    sizes = [sum(bag.values()) for bag in bags]
    most = [max(bag.values(), default=0) for bag in bags]

    def contained(i: int, j: int) -> bool:
        need = _REPEAT_CONTAINMENT * sizes[i]
        # Cheap upper bounds on the overlap first, most pairs of paragraphs fail them: each shared
        # word counts at most its count in i, which is at most i's largest count.
        shared = words[i] & words[j]
        if len(shared) * most[i] < need or sum(bags[i][w] for w in shared) < need:
            return False
        return sum((bags[i] & bags[j]).values()) >= need

    kept = []
    for i, paragraph in enumerate(unique):
        repeated = sizes[i] >= _REPEAT_MIN_WORDS and any(
            sizes[j] > sizes[i] and contained(i, j) for j in range(len(unique)) if j != i
        )
        if not repeated:
            kept.append(paragraph)
    return kept
