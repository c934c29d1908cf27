"""Every input format, the manifest, encodings, and files that cannot be read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from index import BUNDLED_CORPUS, discover, read_articles


def _read(*paths: Path):  # type: ignore[no-untyped-def]
    found, missing = discover(list(paths))
    articles, problems = read_articles(found)
    return articles, missing + problems


def test_seeds_read_with_date_line_and_headline() -> None:
    articles, problems = _read(BUNDLED_CORPUS)
    assert problems == []
    by_id = {a.doc_id[:3]: a for a in articles}
    assert len(by_id) == 5
    assert by_id["001"].published == dt.date(2025, 6, 2)
    assert by_id["001"].title.startswith("Ukraine-Russia Peace Talks in Istanbul End After Just One Hour")
    assert (
        by_id["000"].title == "Istanbul Talks: Russia Rejects Unconditional Ceasefire"
    )  # leading blank line
    assert all(a.outlet is None for a in articles)  # the seeds name no outlet; none is invented


def test_markdown_front_matter(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\noutlet: Example Times\ntitle: Front matter title\ndate: 2024-03-05\nurl: https://example.org/a\n"
        "author: A. Writer\n---\n# Ignored heading\n\nFirst line of a\nwrapped paragraph.\n",
        encoding="utf-8",
    )
    (article,), problems = _read(tmp_path)
    assert problems == []
    assert (article.outlet, article.title, article.published) == (
        "Example Times",
        "Front matter title",
        dt.date(2024, 3, 5),
    )
    assert article.url == "https://example.org/a" and article.author == "A. Writer"
    assert article.block_paragraphs


def test_html_with_trafilatura(tmp_path: Path) -> None:
    body = " ".join(["The council voted to approve the new budget after a long debate."] * 6)
    (tmp_path / "page.html").write_text(
        "<html><head><title>Budget approved</title><meta property='og:site_name' content='City Herald'>"
        "<meta name='date' content='2024-02-01'><script>alert('x')</script></head>"
        f"<body><nav>Home | News</nav><article><h1>Budget approved</h1><p>{body}</p></article>"
        "<footer>Copyright</footer></body></html>",
        encoding="utf-8",
    )
    (article,), problems = _read(tmp_path)
    assert problems == []
    assert article.title == "Budget approved"
    assert article.outlet == "City Herald"
    assert "approve the new budget" in article.body and "alert" not in article.body


def test_json_and_jsonl_records(tmp_path: Path) -> None:
    record = {
        "title": "T1",
        "body": "Body one.",
        "source": "Wire",
        "published_at": "2023-11-27T08:45:59+00:00",
        "url": "https://w.example/1",
        "author": None,
    }
    (tmp_path / "corpus.json").write_text(json.dumps([record, {**record, "title": "T2"}]), encoding="utf-8")
    (tmp_path / "more.jsonl").write_text(
        json.dumps({**record, "title": "T3", "id": "custom-id"})
        + "\n{not json\n"
        + json.dumps({"title": 5, "body": "x"})
        + "\n"
        + json.dumps({"title": "no body"})
        + "\n",
        encoding="utf-8",
    )
    articles, problems = _read(tmp_path)
    assert sorted(a.title for a in articles) == ["T1", "T2", "T3"]
    assert {a.outlet for a in articles} == {"Wire"}
    assert all(a.published == dt.date(2023, 11, 27) for a in articles)
    assert "custom-id" in {a.doc_id for a in articles}
    reasons = {p.where.rsplit(": ", 1)[-1]: p.reason for p in problems}
    assert "malformed JSON" in reasons["line 2"]
    assert "'title' must be text" in reasons["line 3"]
    assert "no 'body'" in reasons["line 4"]


def test_multihop_shaped_record_keeps_source_as_outlet(tmp_path: Path) -> None:
    record = {
        "title": "x",
        "author": None,
        "source": "TechCrunch",
        "published_at": "2023-10-05T12:00:00+00:00",
        "category": "technology",
        "url": "https://tc.example/x",
        "body": "Text of the article.",
    }
    (tmp_path / "corpus.json").write_text(json.dumps([record], indent=4), encoding="utf-8")
    (article,), _ = _read(tmp_path)
    assert article.outlet == "TechCrunch"


def test_manifest_gives_outlet_url_and_date(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text("Headline\nBody text.\n", encoding="utf-8")
    (tmp_path / "manifest.yaml").write_text(
        "story.txt: {outlet: Daily Planet, url: 'https://planet.example/s', date: '2025-06-02'}\n",
        encoding="utf-8",
    )
    (article,), problems = _read(tmp_path)
    assert problems == []
    assert (article.outlet, article.url, article.published) == (
        "Daily Planet",
        "https://planet.example/s",
        dt.date(2025, 6, 2),
    )


def test_other_encodings_are_detected(tmp_path: Path) -> None:
    russian = "Переговоры в Стамбуле\nПереговоры продолжались около часа, сообщили официальные лица. " * 3
    (tmp_path / "cp1251.txt").write_bytes(russian.encode("cp1251"))
    (tmp_path / "latin1.txt").write_text(
        "Café talks\nLes négociations ont duré à peu près une heure, dit-on.\n", encoding="latin-1"
    )
    (tmp_path / "utf16.txt").write_text("UTF-16 headline\nA body with “curly quotes”.\n", encoding="utf-16")
    articles, problems = _read(tmp_path)
    assert problems == []
    texts = {a.doc_id: a.title + a.body for a in articles}
    assert "Переговоры продолжались" in texts["cp1251"]
    assert "négociations ont duré" in texts["latin1"]
    assert "“curly quotes”" in texts["utf16"]


def test_unreadable_files_are_reported_with_reason(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good headline\nGood body.\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "broken.json").write_text('{"title": "x", "body": ', encoding="utf-8")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    articles, problems = _read(tmp_path, tmp_path / "missing.txt")
    assert [a.doc_id for a in articles] == ["good"]
    reasons = {Path(p.where.split(":")[0]).name: p.reason for p in problems}
    assert reasons["empty.txt"] == "empty file"
    assert "binary" in reasons["binary.txt"]
    assert "malformed JSON" in reasons["broken.json"]
    assert "nested too deeply" in reasons["deep.json"]
    assert reasons["missing.txt"] == "no such file or directory"


def test_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("H\nBody.\n", encoding="utf-8")
    (tmp_path / "loop").symlink_to(tmp_path)
    articles, _ = _read(tmp_path)
    assert [a.doc_id for a in articles] == ["a"]
