"""Plain-text rendering of answers and summaries for the terminal."""

from __future__ import annotations

import textwrap
from typing import Any

from index import BuildReport
from retrieval import Answer

_WIDTH = 100


def render_answer(answer: Answer) -> str:
    lines = [f"Q: {answer.question}  [{answer.mode}]"]
    if not answer.answered:
        lines.append(
            "No outlet in the index addresses this question. Try rephrasing it, or see which outlets "
            "and dates the index holds with `quotedesk index stats`."
        )
        return "\n".join(lines)
    for discrepancy in answer.discrepancies:
        lines.append(f"\nOutlets disagree on the {discrepancy.kind}:")
        for value in discrepancy.values:
            printed = ", ".join(f"“{p}”" for p in value.printed)
            count = len(value.outlets)
            lines.append(
                f"  {printed}: {count} outlet{'s' if count != 1 else ''} ({'; '.join(value.outlets)})"
            )
    for outlet in answer.outlets:
        label = (
            outlet.outlet if outlet.outlet_known else f"{outlet.outlet} (outlet not stated; headline shown)"
        )
        lines.append(f"\n{label}")
        if outlet.same_story_as:
            lines.append(f"  (same story as: {'; '.join(outlet.same_story_as)})")
        for quote in outlet.quotes:
            text = quote.text
            if quote.highlight is not None:
                a, b = quote.highlight
                text = f"{text[:a]}[{text[a:b]}]{text[b:]}"
            lines.append(textwrap.fill(f"“{text}”", _WIDTH, initial_indent="  ", subsequent_indent="   "))
            where = [str(quote.published) if quote.published else "date unknown", quote.url or quote.doc_id]
            lines.append(f"   — {' · '.join(where)} · chars {quote.start}–{quote.end}")
    if answer.filters.outlets or answer.filters.since or answer.filters.until:
        f = answer.filters
        lines.append(
            f"\nFiltered: outlets={f.outlets or 'all'} since={f.since or '-'} until={f.until or '-'}"
        )
    return "\n".join(lines)


def render_build(report: BuildReport, verb: str) -> str:
    lines = [
        f"{verb} {report.index_dir} version {report.version} in {report.seconds:.1f}s: "
        f"{report.articles} articles, {report.outlets} outlets, {report.passages} passages "
        f"[{report.mode}]",
    ]
    if report.mode == "hybrid":
        lines.append(
            f"  embedded {report.embedded_articles} article(s), reused {report.reused_articles}, "
            f"removed {report.removed_articles}"
        )
    if report.model_problem:
        lines.append(f"  BM25 only: {report.model_problem}")
    if report.skipped:
        lines.append(f"  skipped {len(report.skipped)} file(s) or record(s):")
        lines.extend(f"    {p}" for p in report.skipped)
    return "\n".join(lines)


def render_stats(stats: dict[str, Any]) -> str:
    lines = [f"{key}: {value}" for key, value in stats.items() if key != "articles_per_outlet"]
    lines.append("articles per outlet:")
    lines.extend(f"  {count:5d}  {outlet}" for outlet, count in stats["articles_per_outlet"].items())
    return "\n".join(lines)
