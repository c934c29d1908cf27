"""Cut the small MultiHop-RAG slice the test suite evaluates on (see ATTRIBUTION.md).

Run from the repository root with the dataset beside it:
    python tests/data/multihop/make_slice.py ../shared/datasets/multihop-rag
Picks dev questions (even positions) whose evidence articles are short, so that indexing the slice
stays quick, with every question type and a few null questions, plus short articles from the same
outlets that no question needs, so retrieval has something to get wrong; writes corpus.json and
questions.json in the dataset's own formats, rows unchanged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
PER_TYPE = {"inference_query": 10, "comparison_query": 10, "temporal_query": 8, "null_query": 4}
MAX_ARTICLE_CHARS = 6000
MAX_CORPUS_CHARS = 220_000
DISTRACTORS = 24


def main(source: Path) -> None:
    corpus = json.loads((source / "corpus.json").read_text(encoding="utf-8"))
    questions = json.loads((source / "MultiHopRAG.json").read_text(encoding="utf-8"))
    by_url = {article["url"]: article for article in corpus}
    chosen: list[dict[str, object]] = []
    urls: list[str] = []
    counts = dict.fromkeys(PER_TYPE, 0)
    for position, question in enumerate(questions):
        kind = question["question_type"]
        if position % 2 or counts[kind] >= PER_TYPE[kind]:
            continue
        needed = [e["url"] for e in question["evidence_list"] if e["url"] not in urls]
        if any(len(by_url[u]["body"]) > MAX_ARTICLE_CHARS for u in needed):
            continue
        if sum(len(by_url[u]["body"]) for u in urls + needed) > MAX_CORPUS_CHARS:
            continue
        chosen.append(question)
        urls += list(dict.fromkeys(needed))
        counts[kind] += 1
    outlets = {by_url[u]["source"] for u in urls}
    spare = sorted(
        (a for a in corpus if a["url"] not in urls and a["source"] in outlets),
        key=lambda a: (len(a["body"]), a["url"]),
    )
    articles = [by_url[u] for u in urls] + spare[:DISTRACTORS]
    (HERE / "corpus.json").write_text(json.dumps(articles, indent=1, ensure_ascii=False), encoding="utf-8")
    (HERE / "questions.json").write_text(json.dumps(chosen, indent=1, ensure_ascii=False), encoding="utf-8")
    chars = sum(len(a["body"]) for a in articles)
    print(f"{len(chosen)} questions {counts}, {len(articles)} articles, {chars} chars")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
