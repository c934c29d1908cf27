"""A larger corpus grown from a real one: articles re-dated and lightly altered, never exact copies.

    python bench/make_corpus.py --corpus ../shared/datasets/multihop-rag/corpus.json \\
        --copies 11 --out /tmp/corpus-100k

Copy ``c`` of an article is published ``c`` weeks (plus a few days) later, its numbers are nudged,
about one paragraph in ten is left out and two neighbouring paragraphs may trade places, so that
passages differ in their words, lengths and dates as a growing archive's would. Copy 0 is the
original. MultiHop-RAG (609 articles) gives about 9,200 passages per copy: 11 copies make about
100k passages, 109 about 1M. The articles are written as JSON files of 4,000 articles each into
the ``--out`` directory, since one file of a million passages (650 MB) is more than ``index build``
reads from one file.

``--first-copy C`` starts at copy ``C``: with the copies a corpus already has, it makes the articles
that arrive after it (for ``bench/build_scaled.py --update``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

_NUMBER = re.compile(r"\b\d{2,}\b")
_DROP_SHARE = 0.1
_PER_FILE = 4000


def altered(article: dict[str, Any], copy: int, rng: random.Random) -> dict[str, Any]:
    if copy == 0:
        return article
    paragraphs = [p for p in article["body"].split("\n") if p.strip()]
    kept = [p for i, p in enumerate(paragraphs) if i == 0 or rng.random() >= _DROP_SHARE]
    if len(kept) > 2:
        i = rng.randrange(1, len(kept) - 1)
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    body = _NUMBER.sub(lambda m: str(int(m.group()) + rng.randint(0, 3)), "\n".join(kept))
    published = dt.datetime.fromisoformat(article["published_at"]) + dt.timedelta(
        weeks=copy, days=rng.randint(0, 6)
    )
    return {
        **article,
        "body": body,
        "published_at": published.isoformat(),
        "url": f"{article['url']}#copy-{copy}",
        "title": article["title"] if copy % 2 else f"{article['title']} (update {copy})",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="JSON list of articles")
    parser.add_argument("--copies", type=int, required=True, help="copies per article")
    parser.add_argument("--out", type=Path, required=True, help="directory for the JSON files")
    parser.add_argument("--first-copy", type=int, default=0, help="start at this copy (0 is the original)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    articles = json.loads(args.corpus.read_text(encoding="utf-8"))
    rng = random.Random(args.seed)
    copies = range(args.first_copy, args.first_copy + args.copies)
    grown = [altered(a, c, rng) for c in copies for a in articles]
    args.out.mkdir(parents=True, exist_ok=True)
    for number, start in enumerate(range(0, len(grown), _PER_FILE), start=1):
        part = args.out / f"articles-{number:04d}.json"
        part.write_text(json.dumps(grown[start : start + _PER_FILE], ensure_ascii=False), encoding="utf-8")
    made = f"copies {copies.start} to {copies.stop - 1} of {len(articles):,}"
    print(f"{len(grown):,} articles ({made}) -> {args.out}")


if __name__ == "__main__":
    main()
