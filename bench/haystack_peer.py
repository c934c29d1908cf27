"""quotedesk against the pipeline a user would otherwise assemble: Haystack 2.x, in memory, hybrid.

    pip install -e '.[bench]'
    python bench/haystack_peer.py --index DIR --queries MultiHopRAG.json [--split test] [--json FILE]

The peer gets the same passages (those of the quotedesk index at ``--index``, with outlet and
headline embedded beside each, as quotedesk embeds them), the same model (the bundled
all-MiniLM-L6-v2) and the same top 10: an InMemoryBM25Retriever (BM25Okapi) and an
InMemoryEmbeddingRetriever, 10 passages each, joined by a DocumentJoiner with reciprocal rank fusion.
Timed in the same run: the peer's indexing (embedding and writing its store) and, per question, a
warm ``Pipeline.run`` against ``Retriever.search(question, k=10)``; both scored with MultiHop-RAG's
protocol on the chosen split. Haystack's telemetry is switched off before it is imported.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _results import write_json
from _timing import seconds  # bench/ is on sys.path when a script in it runs

from config import load_settings
from index import IndexReader, model_dir, passage_context
from retrieval import Retriever
from retrieval._evaluation import evaluate, load_questions

os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"  # no traffic beyond this machine
TOP_K = 10


def haystack_pipeline(reader: IndexReader, model: str) -> tuple[Any, float]:
    """The peer pipeline over the index's passages, and the seconds its indexing took."""
    from haystack import Document, Pipeline
    from haystack.components.embedders import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    documents = []
    for passage in range(reader.passages.shape[0]):
        article, start, _end = reader.passage_span(passage)
        info = reader.articles[article]
        documents.append(
            Document(
                id=str(passage),
                content=reader.passage_text(passage),
                meta={"context": passage_context(info, start)},
            )
        )
    store = InMemoryDocumentStore(bm25_algorithm="BM25Okapi", embedding_similarity_function="dot_product")
    embedder = SentenceTransformersDocumentEmbedder(
        model=model,
        local_files_only=True,
        normalize_embeddings=True,
        meta_fields_to_embed=["context"],
        progress_bar=False,
    )
    started = time.perf_counter()
    embedder.warm_up()
    store.write_documents(embedder.run(documents)["documents"])
    indexing = time.perf_counter() - started
    pipeline = Pipeline()
    text_embedder = SentenceTransformersTextEmbedder(
        model=model, local_files_only=True, normalize_embeddings=True, progress_bar=False
    )
    pipeline.add_component("text_embedder", text_embedder)
    pipeline.add_component("bm25", InMemoryBM25Retriever(store, top_k=TOP_K))
    pipeline.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=TOP_K))
    pipeline.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=TOP_K))
    pipeline.connect("text_embedder.embedding", "dense.query_embedding")
    pipeline.connect("bm25", "joiner")
    pipeline.connect("dense", "joiner")
    pipeline.warm_up()
    return pipeline, indexing


def timed_ranker(rank: Callable[[str], Sequence[str]]) -> tuple[Callable[[str], Sequence[str]], list[float]]:
    """``rank`` that also records how long each call took."""
    times: list[float] = []

    def ranked(question: str) -> Sequence[str]:
        out: list[Sequence[str]] = []
        times.append(seconds(lambda: out.append(rank(question))))
        return out[0]

    return ranked, times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True, help="a quotedesk index of the corpus")
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--questions", type=int, default=None, help="only the first N of the split")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = load_settings()
    model = str(model_dir(settings.model))
    questions = load_questions(args.queries, args.split)[: args.questions]
    retriever = Retriever.load(args.index, settings=settings)
    retriever.warm_up()
    pipeline, peer_indexing = haystack_pipeline(retriever.reader, model)

    def peer(question: str) -> list[str]:
        result = pipeline.run({"text_embedder": {"text": question}, "bm25": {"query": question}})
        return [d.content for d in result["joiner"]["documents"]]

    def ours(question: str) -> list[str]:
        return [p.text for p in retriever.search(question, k=TOP_K)]

    rows: dict[str, dict[str, Any]] = {}
    for name, rank in (("haystack hybrid (RRF)", peer), ("quotedesk hybrid", ours)):
        rank(questions[0].query)  # warm
        ranked, times = timed_ranker(rank)
        report = evaluate(questions, ranked, args.split)
        ms = np.asarray(times) * 1000
        rows[name] = {
            **report.overall,
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
        }
    rows["haystack hybrid (RRF)"]["indexing_seconds"] = round(peer_indexing, 1)
    print(f"{len(questions)} {args.split} questions, {retriever.reader.passages.shape[0]:,} passages")
    heads = ("hits@10", "hits@4", "map@10", "mrr@10", "p50_ms", "p95_ms")
    print(f"{'':24}" + "".join(f"{h:>10}" for h in heads))
    for name, row in rows.items():
        print(f"{name:24}" + "".join(f"{row[h]:>10}" for h in heads))
    print(f"haystack indexing (embedding + store): {peer_indexing:.1f} s")
    write_json(args.json, {"rows": rows, "haystack_indexing_seconds": round(peer_indexing, 1)})


if __name__ == "__main__":
    main()
