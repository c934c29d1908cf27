"""What an index holds, for ``quotedesk index stats`` and ``/about``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from index._reader import IndexReader


def index_stats(reader: IndexReader) -> dict[str, Any]:
    manifest = reader.manifest
    outlets = Counter(a.outlet for a in reader.articles)
    size = sum(p.stat().st_size for p in reader.path.iterdir() if p.is_file())
    model = manifest.get("model")
    return {
        "index": str(reader.path),
        "version": reader.version,
        "created_at": manifest["created_at"],
        "mode": manifest["mode"],
        "model": model["name"] if model else None,
        "dimension": model["dimension"] if model else None,
        "model_problem": manifest.get("model_problem"),
        "articles": manifest["counts"]["articles"],
        "outlets": len(outlets),
        "passages": manifest["counts"]["passages"],
        "sentences": manifest["counts"]["sentences"],
        "dates": manifest["dates"],
        "undated_articles": sum(1 for a in reader.articles if a.published is None),
        "near_duplicate_articles": sum(1 for a in reader.articles if a.near_duplicates),
        "bytes_on_disk": size,
        "chunking": manifest["chunking"],
        "skipped_files": len(manifest.get("skipped", [])),
        "articles_per_outlet": dict(sorted(outlets.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
