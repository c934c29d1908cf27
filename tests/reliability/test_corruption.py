"""Damage to any file of an index is detected by name; a running retriever keeps its good version."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from config import Settings
from index import IndexCorruptError, IndexReader, build_index
from retrieval import Retriever
from tests.commands import QUOTEDESK

FILES = sorted(
    [
        "article_offsets.npy",
        "articles.jsonl",
        "bm25_doclen.npy",
        "bm25_docs.npy",
        "bm25_idf.npy",
        "bm25_indptr.npy",
        "bm25_tfs.npy",
        "bm25_upper.npy",
        "bm25_vocab.json",
        "dense.faiss",
        "manifest.json",
        "passage_vectors.npy",
        "passages.npy",
        "sentence_vectors.npy",
        "sentences.npy",
        "source_hashes.npy",
        "texts.bin",
    ]
)
DAMAGES = ["truncate", "zero", "flip"]


def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: len(data) // 3]
    elif how == "zero":
        data = bytearray(len(data))
    else:
        data[len(data) // 2] ^= 0x5A
    path.write_bytes(bytes(data))


def test_every_file_is_covered(seed_index: Path) -> None:
    assert sorted(p.name for p in next(seed_index.glob("v-*")).iterdir()) == FILES


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("name", FILES)
def test_damage_is_detected_naming_the_file(tmp_path: Path, seed_index: Path, name: str, how: str) -> None:
    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy)
    damage(next(copy.glob("v-*")) / name, how)
    with pytest.raises(IndexCorruptError) as caught:
        IndexReader.open(copy)
    assert name in str(caught.value) and "rebuild" in str(caught.value)


@pytest.mark.parametrize("name", ["passages.npy", "manifest.json", "dense.faiss"])
def test_cli_exits_nonzero_and_suggests_rebuild(tmp_path: Path, seed_index: Path, name: str) -> None:
    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy)
    damage(next(copy.glob("v-*")) / name, "flip")
    for args in (["ask", "How long did the talks last?"], ["index", "stats"]):
        result = subprocess.run(
            [QUOTEDESK, *args, "--index", str(copy)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 1
        assert name in result.stderr and "rebuild" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["texts.bin", "bm25_tfs.npy", "sentence_vectors.npy", "manifest.json"])
def test_running_retriever_refuses_a_damaged_new_version(
    tmp_path: Path, seed_index: Path, settings: Settings, name: str
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy)
    live = Retriever.load(copy, settings=settings)
    good = live.reader.version
    report = build_index(settings, index_dir=copy, embedder=live.embedder)
    damage(copy / report.version / name, "zero")
    answer = live.ask("How long did the talks last?")
    assert answer.answered and answer.index_version == good and live.reader.version == good
