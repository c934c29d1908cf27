"""Reading articles from files: text and Markdown, HTML, JSON and JSON Lines, plus manifests."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from index._article import Problem, RawArticle
from index._dates import date_line, parse_date
from index._decode import DecodeError, decode_bytes

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
ARTICLE_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
MANIFEST_NAMES = ("manifest.yaml", "manifest.yml", "manifest.json")
# Files larger than this are refused rather than read into memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
# One article longer than this is not a news article (the longest in MultiHop-RAG has 71,034
# characters); sentence-splitting it would stall the build, so it is skipped and reported.
MAX_ARTICLE_CHARS = 1_000_000
_MAX_JSON_DEPTH = 64

_BODY_KEYS = ("body", "text", "content")
_OUTLET_KEYS = ("source", "outlet", "publisher", "sitename")
_DATE_KEYS = ("published_at", "published", "date")


class _Skip(ValueError):
    """One file or record that cannot be read; its message is the reason."""


def discover(sources: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Article files under the given files and directories (recursive, sorted, each once)."""
    found: dict[Path, None] = {}
    problems: list[Problem] = []
    for source in sources:
        if source.is_dir():
            for root, dirs, files in os.walk(source, followlinks=False, onerror=None):
                dirs.sort()
                for name in sorted(files):
                    path = Path(root) / name
                    if path.suffix.lower() in ARTICLE_SUFFIXES and name not in MANIFEST_NAMES:
                        found.setdefault(path)
        elif source.is_file():
            found.setdefault(source)
        else:
            problems.append(Problem(str(source), "no such file or directory"))
    return list(found), problems


def read_articles(paths: Iterable[Path]) -> tuple[list[RawArticle], list[Problem]]:
    """Read every path; what cannot be read is reported, never raised."""
    articles: list[RawArticle] = []
    problems: list[Problem] = []
    manifests: dict[Path, Mapping[str, Mapping[str, Any]]] = {}
    for path in paths:
        meta = _manifest_for(path, manifests, problems).get(path.name, {})
        try:
            items = list(_read_file(path))
        except _Skip as exc:
            problems.append(Problem(str(path), str(exc)))
            continue
        if not items:
            problems.append(Problem(str(path), "no article records in the file"))
        for item in items:
            if isinstance(item, Problem):
                problems.append(item)
            elif len(item.body) > MAX_ARTICLE_CHARS:
                where = str(path) if item.doc_id == path.stem else f"{path}: {item.doc_id}"
                size = f"article of {len(item.body):,} characters; the limit is {MAX_ARTICLE_CHARS:,}"
                problems.append(Problem(where, size))
            else:
                articles.append(_apply_manifest(item, meta))
    return _unique_ids(articles), problems


def _read_file(path: Path) -> Iterator[RawArticle | Problem]:
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise _Skip(
            f"unsupported file type {suffix or '(none)'}; readable: {', '.join(sorted(ARTICLE_SUFFIXES))}"
        )
    text = _read_text(path)
    if suffix in TEXT_SUFFIXES:
        yield _from_text(path, text)
    elif suffix in HTML_SUFFIXES:
        yield _from_html(path, text)
    elif suffix == ".json":
        yield from _from_json(path, text)
    else:
        yield from _from_jsonl(path, text)


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _Skip(f"file too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise _Skip(f"cannot read: {exc.strerror or exc}") from None
    try:
        text, _encoding = decode_bytes(data)
    except DecodeError as exc:
        raise _Skip(str(exc)) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _from_text(path: Path, text: str) -> RawArticle:
    meta, text = _split_front_matter(path, text)
    lines = text.split("\n")
    published = parse_date(_first(meta, _DATE_KEYS))
    title = _str_or_none(meta.get("title"))
    index = next_line_after(lines, -1)
    if index < len(lines) and (found := date_line(lines[index])) is not None:
        published = published or found
        index = next_line_after(lines, index)
    if title is None:
        if index >= len(lines):
            raise _Skip("no text after the date line")
        title = lines[index].strip().lstrip("#").strip()
        index = next_line_after(lines, index)
    body = "\n".join(lines[index:])
    if not body.strip():
        body = ""
    return RawArticle(
        doc_id=path.stem,
        title=title,
        body=body,
        source=str(path),
        outlet=_str_or_none(_first(meta, _OUTLET_KEYS)),
        published=published,
        url=_str_or_none(meta.get("url")),
        author=_str_or_none(meta.get("author")),
        block_paragraphs=path.suffix.lower() != ".txt",
    )


def next_line_after(lines: list[str], index: int) -> int:
    """The first non-blank line after ``index``."""
    i = index + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    stripped = text.lstrip("\ufeff")
    if not stripped.startswith("---\n"):
        return {}, stripped
    end = stripped.find("\n---", 4)
    if end < 0:
        raise _Skip("front matter opened with '---' but never closed")
    try:
        meta = yaml.safe_load(stripped[4:end]) or {}
    except yaml.YAMLError as exc:
        raise _Skip(f"invalid YAML front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise _Skip("front matter is not a mapping of fields")
    rest = stripped[end + 4 :]
    return meta, rest[rest.find("\n") + 1 :] if "\n" in rest else ""


def _from_html(path: Path, html: str) -> RawArticle:
    import trafilatura  # heavy (lxml and friends); only HTML sources need it

    # It logs an ERROR for every page it cannot parse; the build reports those pages itself.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=False)
    data: dict[str, Any] = doc.as_dict() if doc is not None and hasattr(doc, "as_dict") else dict(doc or {})
    body = _str_or_none(data.get("text"))
    if body is None:
        raise _Skip("no article text found in the HTML")
    return RawArticle(
        doc_id=path.stem,
        title=_str_or_none(data.get("title")) or path.stem,
        body=body,
        source=str(path),
        outlet=_str_or_none(data.get("sitename")),
        published=parse_date(data.get("date")),
        url=_str_or_none(data.get("url")),
        author=_str_or_none(data.get("author")),
    )


def _from_json(path: Path, text: str) -> Iterator[RawArticle | Problem]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Skip(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise _Skip("JSON nested too deeply") from None
    if isinstance(data, dict):
        for key in ("articles", "records", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            data = [data]
    if not isinstance(data, list):
        raise _Skip("JSON is neither an article, a list of articles, nor {'articles': [...]}")
    for number, record in enumerate(data, start=1):
        yield _record_or_problem(path, f"{path}: record {number}", record)


def _from_jsonl(path: Path, text: str) -> Iterator[RawArticle | Problem]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Problem(where, f"malformed JSON at column {exc.colno}: {exc.msg}")
            continue
        except RecursionError:
            yield Problem(where, "JSON nested too deeply")
            continue
        yield _record_or_problem(path, where, record)


def _record_or_problem(path: Path, where: str, record: Any) -> RawArticle | Problem:
    try:
        return _from_record(path, record)
    except _Skip as exc:
        return Problem(where, str(exc))


def _from_record(path: Path, record: Any) -> RawArticle:
    if not isinstance(record, dict):
        raise _Skip(f"expected an object with title and body, got {type(record).__name__}")
    body = _first(record, _BODY_KEYS)
    if not isinstance(body, str) or not body.strip():
        raise _Skip("no 'body' text (also looked for 'text' and 'content')")
    title = record.get("title")
    if title is not None and not isinstance(title, str):
        raise _Skip(f"'title' must be text, got {type(title).__name__}")
    title = (title or "").strip() or body.strip().split("\n", 1)[0][:120]
    for key in ("url", "author", *_OUTLET_KEYS):
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise _Skip(f"'{key}' must be text, got {type(value).__name__}")
    record_id = record.get("id")
    if isinstance(record_id, (str, int)) and not isinstance(record_id, bool) and str(record_id).strip():
        doc_id = str(record_id).strip()
    else:
        identity = f"{title}\x00{record.get('url') or ''}".encode()
        doc_id = f"{path.stem}-{hashlib.sha1(identity).hexdigest()[:10]}"
    return RawArticle(
        doc_id=doc_id,
        title=title,
        body=body,
        source=str(path),
        outlet=_str_or_none(_first(record, _OUTLET_KEYS)),
        published=parse_date(_first(record, _DATE_KEYS)),
        url=_str_or_none(record.get("url")),
        author=_str_or_none(record.get("author")),
    )


def _manifest_for(
    path: Path, cache: dict[Path, Mapping[str, Mapping[str, Any]]], problems: list[Problem]
) -> Mapping[str, Mapping[str, Any]]:
    folder = path.parent
    if folder not in cache:
        cache[folder] = {}
        for name in MANIFEST_NAMES:
            candidate = folder / name
            if candidate.is_file():
                try:
                    cache[folder] = _load_manifest(candidate)
                except _Skip as exc:
                    problems.append(Problem(str(candidate), str(exc)))
                break
    return cache[folder]


def _load_manifest(path: Path) -> dict[str, Mapping[str, Any]]:
    """``{file name: {outlet, url, date, title, author}}``, or a list of such records with a ``file`` key."""
    try:
        data = yaml.safe_load(_read_text(path))  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise _Skip(f"invalid manifest: {exc}") from None
    entries: dict[str, Mapping[str, Any]]
    if isinstance(data, list):
        entries = {
            str(item.get("file")): item for item in data if isinstance(item, dict) and item.get("file")
        }
    elif isinstance(data, dict):
        entries = {str(k): v for k, v in data.items() if isinstance(v, dict)}
    else:
        raise _Skip("a manifest maps file names to {outlet, url, date}")
    return entries


def _apply_manifest(article: RawArticle, meta: Mapping[str, Any]) -> RawArticle:
    if not meta:
        return article
    return replace(
        article,
        outlet=_str_or_none(_first(meta, _OUTLET_KEYS)) or article.outlet,
        url=_str_or_none(meta.get("url")) or article.url,
        published=parse_date(_first(meta, _DATE_KEYS)) or article.published,
        title=_str_or_none(meta.get("title")) or article.title,
        author=_str_or_none(meta.get("author")) or article.author,
    )


def _unique_ids(articles: list[RawArticle]) -> list[RawArticle]:
    """A second article with the same id gets its source path added, so ids stay unique and stable."""
    seen: set[str] = set()
    unique = []
    for article in articles:
        doc_id = article.doc_id
        if doc_id in seen:
            doc_id = f"{doc_id}@{Path(article.source).as_posix()}"
        seen.add(doc_id)
        unique.append(article if doc_id == article.doc_id else replace(article, doc_id=doc_id))
    return unique


def _first(mapping: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
