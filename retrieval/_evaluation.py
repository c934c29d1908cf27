"""MultiHop-RAG's retrieval protocol (Tang & Yang, COLM 2024), as its repository scores it.

A retrieved passage is a hit when a gold fact, with spaces and newlines removed, is a substring of
it (also without them). Null questions are left out. Hits@k: a hit in the top k. MRR@10: 1 / rank of
the first hit. MAP@10 (the repository's variant): at each rank r <= 10, add (gold facts newly found
there) / r, then divide by min(number of gold facts, 10).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import QuotedeskError

K = 10
# Hand-written questions over the bundled seed corpus, with the quotes a careful reader expects.
SEED_GOLD = Path(__file__).parent / "gold" / "seeds.yaml"
# The paper's best rows (Table 5, with bge-reranker-large), for comparison.
PAPER_ROWS = {
    "paper: voyage-02 + bge-reranker-large": {
        "hits@10": 0.7467,
        "hits@4": 0.6625,
        "map@10": 0.4795,
        "mrr@10": 0.5860,
    },
    "paper: bge-large-en-v1.5 + bge-reranker-large": {
        "hits@10": 0.7183,
        "hits@4": 0.6364,
        "map@10": 0.4759,
        "mrr@10": 0.5630,
    },
}
METRICS = ("hits@10", "hits@4", "map@10", "mrr@10")
SPLITS = ("dev", "test", "all")


def _squeeze(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


def query_metrics(ranked: Sequence[str], facts: Sequence[str], k: int = K) -> dict[str, float]:
    """The four metrics of one question, from its ranked passage texts and its gold facts."""
    gold = [_squeeze(f) for f in facts]
    found: set[int] = set()
    first_hit = 0
    average = 0.0
    for rank, text in enumerate(ranked[:k], start=1):
        squeezed = _squeeze(text)
        hits = {i for i, fact in enumerate(gold) if fact in squeezed}
        if hits and not first_hit:
            first_hit = rank
        new = hits - found
        average += len(new) / rank
        found |= hits
    return {
        "hits@10": float(0 < first_hit <= 10),
        "hits@4": float(0 < first_hit <= 4),
        "map@10": average / min(len(gold), k) if gold else 0.0,
        "mrr@10": 1.0 / first_hit if first_hit else 0.0,
    }


@dataclass
class Question:
    position: int
    query: str
    kind: str
    facts: list[str]
    outlets: list[str] = field(default_factory=list)  # the outlet of each fact


@dataclass
class Report:
    split: str
    questions: int
    overall: dict[str, float]
    by_type: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def rows(self) -> dict[str, dict[str, float]]:
        return {
            **PAPER_ROWS,
            f"quotedesk ({self.split}, all types)": self.overall,
            **{f"quotedesk ({self.split}, {kind})": values for kind, values in sorted(self.by_type.items())},
        }


def load_questions(path: Path, split: str, *, include_null: bool = False) -> list[Question]:
    """Questions of ``split`` (dev = even 0-based positions, test = odd, all = both); null questions
    only with ``include_null``."""
    if split not in SPLITS:
        raise QuotedeskError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QuotedeskError(f"{path}: cannot read MultiHop-RAG questions ({exc})") from None
    questions = []
    for position, item in enumerate(data):
        if split != "all" and position % 2 != (0 if split == "dev" else 1):
            continue
        evidence = item.get("evidence_list", [])
        kind = item.get("question_type", "")
        if not include_null and (kind == "null_query" or not evidence):
            continue
        questions.append(
            Question(
                position,
                item["query"],
                kind,
                [e["fact"] for e in evidence],
                [e.get("source", "") for e in evidence],
            )
        )
    return questions


@dataclass
class AnswerReport:
    """What users see: evidence whose outlet is quoted with the fact, and declines."""

    evidence: int
    evidence_quoted: int
    answerable: int
    answerable_declined: int
    null: int
    null_declined: int

    def figures(self) -> dict[str, float]:
        return {
            "outlet_evidence_recall": round(self.evidence_quoted / max(1, self.evidence), 4),
            "null_declined": round(self.null_declined / max(1, self.null), 4),
            "answerable_wrongly_declined": round(self.answerable_declined / max(1, self.answerable), 4),
        }


def evaluate_answers(questions: Iterable[Question], ask: Callable[[str], Any]) -> AnswerReport:
    """Ask each question as a user would; ``ask`` returns an :class:`~retrieval.Answer`."""
    report = AnswerReport(0, 0, 0, 0, 0, 0)
    for question in questions:
        answer = ask(question.query)
        if not question.facts:
            report.null += 1
            report.null_declined += not answer.answered
            continue
        report.answerable += 1
        report.answerable_declined += not answer.answered
        quoted = {o.outlet: [_squeeze(q.text) for q in o.quotes] for o in answer.outlets}
        for fact, outlet in zip(question.facts, question.outlets, strict=True):
            report.evidence += 1
            report.evidence_quoted += any(_squeeze(fact) in text for text in quoted.get(outlet, []))
    return report


def evaluate(
    questions: Iterable[Question],
    rank: Callable[[str], Sequence[str]],
    split: str,
    progress: Callable[[int], None] = lambda _n: None,
) -> Report:
    """Rank each question with ``rank`` (top passage texts, best first) and average the metrics."""
    totals: dict[str, float] = defaultdict(float)
    by_type: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    n = 0
    for question in questions:
        scores = query_metrics(rank(question.query), question.facts)
        for name, value in scores.items():
            totals[name] += value
            by_type[question.kind][name] += value
        counts[question.kind] += 1
        n += 1
        progress(n)
    if n == 0:
        raise QuotedeskError("no answerable question in that split")
    return Report(
        split=split,
        questions=n,
        overall={m: round(totals[m] / n, 4) for m in METRICS},
        by_type={t: {m: round(v[m] / counts[t], 4) for m in METRICS} for t, v in by_type.items()},
        counts=dict(counts),
    )


def as_table(report: Report) -> str:
    rows = report.rows()
    width = max(len(name) for name in rows)
    lines = [f"{'':{width}}  " + "  ".join(f"{m:>8}" for m in METRICS)]
    lines += [
        f"{name:{width}}  " + "  ".join(f"{values[m]:8.4f}" for m in METRICS) for name, values in rows.items()
    ]
    lines.append(f"({report.questions} answerable questions; per type: {report.counts})")
    return "\n".join(lines)


def dump(report: Report) -> dict[str, Any]:
    return {
        "split": report.split,
        "questions": report.questions,
        "overall": report.overall,
        "by_type": report.by_type,
        "counts": report.counts,
        "paper": PAPER_ROWS,
    }


def evaluate_seeds(ask: Callable[[str], Any], gold: Path = SEED_GOLD) -> dict[str, Any]:
    """Per outlet, over the seed gold set: expected quotes found, unexpected outlets quoted, and
    unanswerable questions declined. Outlets are named by the seed file numbers (000 ... 004)."""
    import yaml

    cases = yaml.safe_load(gold.read_text(encoding="utf-8"))
    per_outlet: dict[str, dict[str, int]] = defaultdict(
        lambda: {"expected": 0, "found": 0, "excluded": 0, "quoted": 0}
    )
    declined = unanswerable = 0
    for case in cases:
        answer = ask(case["question"])
        quotes: dict[str, list[str]] = defaultdict(list)
        for outlet in answer.outlets:
            for quote in outlet.quotes:
                quotes[quote.doc_id[:3]].append(quote.text)
        if case.get("answered", True) is False:
            unanswerable += 1
            declined += not answer.answered
        for doc, fragment in case.get("expect", {}).items():
            per_outlet[doc]["expected"] += 1
            per_outlet[doc]["found"] += any(fragment in text for text in quotes.get(doc, []))
        for doc in case.get("exclude", []):
            per_outlet[doc]["excluded"] += 1
            per_outlet[doc]["quoted"] += doc in quotes
    expected = sum(v["expected"] for v in per_outlet.values())
    found = sum(v["found"] for v in per_outlet.values())
    return {
        "questions": len(cases),
        "expected_quotes_found": f"{found}/{expected}",
        "excluded_outlets_quoted": sum(v["quoted"] for v in per_outlet.values()),
        "unanswerable_declined": f"{declined}/{unanswerable}",
        "per_outlet": {k: dict(v) for k, v in sorted(per_outlet.items())},
    }
