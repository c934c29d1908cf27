"""Cleaning the seeds' real-world mess while keeping the printed characters."""

from __future__ import annotations

from index import BUNDLED_CORPUS, RawArticle, discover, read_articles
from index._clean import clean_paragraphs


def _seed(prefix: str) -> list[str]:
    articles, _ = read_articles(discover([BUNDLED_CORPUS])[0])
    (article,) = [a for a in articles if a.doc_id.startswith(prefix)]
    return clean_paragraphs(article)


def test_comment_widget_share_counters_and_image_credits_are_dropped() -> None:
    text = "\n".join(_seed("004"))
    for junk in (
        "Subscribe",
        "Notify of",
        "Akismet",
        "View all comments",
        "Image source",
        "Inline Feedbacks",
    ):
        assert junk not in text
    assert "0" not in _seed("004") and "118" not in _seed("004")
    assert text.endswith("remains a distant and formidable challenge.")


def test_related_sources_footer_is_dropped() -> None:
    text = "\n".join(_seed("003"))
    assert "Related Sources" not in text and "Source 1" not in text


def test_repeated_lede_is_dropped_once() -> None:
    paragraphs = _seed("001")
    ledes = [
        p
        for p in paragraphs
        if p.startswith("The second round of peace talks between Russia and Ukraine concluded")
    ]
    assert len(ledes) == 1 and "Reuters reported" in ledes[0]
    assert "High Tensions Following Ukrainian Drone Strike" in paragraphs  # short headings stay


def test_curly_quotes_stay_and_whitespace_is_normalised() -> None:
    raw = RawArticle(
        doc_id="x", title="T", source="x", body="  A  “quoted”\u00a0 word\u200b here.\t\n\nB’s line.  "
    )
    assert clean_paragraphs(raw) == ["A “quoted” word here.", "B’s line."]


def test_single_paragraph_article_survives() -> None:
    (paragraph,) = [p for p in _seed("002") if p.startswith("In Istanbul")]
    assert paragraph.endswith("the future course of the war.")
