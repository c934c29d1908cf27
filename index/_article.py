"""What an article is once read, and what is wrong with a file that could not be read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RawArticle:
    """An article as its source gave it, before cleaning."""

    doc_id: str
    title: str
    body: str
    source: str
    outlet: str | None = None
    published: dt.date | None = None
    url: str | None = None
    author: str | None = None
    # Paragraphs are blank-line separated blocks (Markdown) rather than single lines.
    block_paragraphs: bool = False


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """An indexed article's metadata. Where no outlet is known its title stands in (``outlet_known``)."""

    doc_id: str
    title: str
    source: str
    outlet: str
    outlet_known: bool
    published: dt.date | None
    url: str | None
    author: str | None
    content_hash: str
    near_duplicates: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "source": self.source,
            "outlet": self.outlet,
            "outlet_known": self.outlet_known,
            "published": self.published.isoformat() if self.published else None,
            "url": self.url,
            "author": self.author,
            "content_hash": self.content_hash,
            "near_duplicates": list(self.near_duplicates),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArticleInfo:
        published = data.get("published")
        return cls(
            doc_id=str(data["doc_id"]),
            title=str(data["title"]),
            source=str(data["source"]),
            outlet=str(data["outlet"]),
            outlet_known=bool(data["outlet_known"]),
            published=dt.date.fromisoformat(published) if published else None,
            url=data.get("url"),
            author=data.get("author"),
            content_hash=str(data["content_hash"]),
            near_duplicates=tuple(data.get("near_duplicates", ())),
        )


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article: ``text`` starts with the headline, and every offset points into it."""

    info: ArticleInfo
    text: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A file (or one record of it) that was skipped, and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"
