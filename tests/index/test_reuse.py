"""An update keeps an unchanged article's cleaned text, sentences and passages, and the version it
publishes is the one a full build of the same sources makes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from index import BUNDLED_CORPUS, IndexCorruptError, IndexReader, _build, build_index
from index._reuse import SOURCE_HASHES, _code_of, kept_articles


def _sources(directory: Path) -> Path:
    """The bundled articles, and a wire copy of the first (so that near-duplicates are found)."""
    shutil.copytree(BUNDLED_CORPUS, directory)
    first = sorted(directory.iterdir())[0]
    (directory / "wire-copy.txt").write_text(first.read_text("utf-8") + "\nOne more line.\n", "utf-8")
    return directory


def _update_and_build(settings: Settings, tmp_path: Path, source: Path) -> tuple[Path, Path, list[str]]:
    """Update the index of ``tmp_path / 'updated'`` from ``source``, and build the same afresh."""
    said: list[str] = []
    previous = IndexReader.open(tmp_path / "updated")
    into = tmp_path / "updated"
    build_index(settings, sources=[source], index_dir=into, embedder=None, previous=previous, log=said.append)
    build_index(settings, sources=[source], index_dir=tmp_path / "fresh", embedder=None)
    return IndexReader.open(tmp_path / "updated").path, IndexReader.open(tmp_path / "fresh").path, said


def _assert_same_version(updated: Path, fresh: Path) -> None:
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in updated.iterdir()) and SOURCE_HASHES in names
    for name in names:
        if name != "manifest.json":
            assert (updated / name).read_bytes() == (fresh / name).read_bytes(), name
    manifests = [json.loads((version / "manifest.json").read_text("utf-8")) for version in (updated, fresh)]
    for manifest in manifests:  # when it was written, and the checksum that covers that
        del manifest["created_at"], manifest["manifest_sha256"]
    assert manifests[0] == manifests[1]


def test_update_keeps_unchanged_articles_and_publishes_what_a_build_would(
    tmp_path: Path, settings: Settings
) -> None:
    source = _sources(tmp_path / "src")
    build_index(settings, sources=[source], index_dir=tmp_path / "updated", embedder=None)
    assert any(a.near_duplicates for a in IndexReader.open(tmp_path / "updated").articles)  # the copy
    changed = sorted(source.glob("00*.txt"))[1]
    changed.write_text(changed.read_text(encoding="utf-8").replace("Istanbul", "Istanbul, Turkey"), "utf-8")
    (source / "wire-copy.txt").unlink()
    (source / "new.txt").write_text("A new headline\nThe talks resumed on Monday.\n", encoding="utf-8")

    updated, fresh, said = _update_and_build(settings, tmp_path, source)
    assert "kept the cleaned text and chunks of 4 unchanged article(s)" in said
    assert "read the BM25 postings of 4 unchanged article(s) from the previous version" in said
    _assert_same_version(updated, fresh)
    assert not any(a.near_duplicates for a in IndexReader.open(updated).articles)  # the copy is gone


def test_another_pipeline_keeps_nothing(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _sources(tmp_path / "src")
    build_index(settings, sources=[source], index_dir=tmp_path / "updated", embedder=None)
    monkeypatch.setattr(_build, "pipeline_fingerprint", lambda chunking: "another cleaning or chunking")
    updated, fresh, said = _update_and_build(settings, tmp_path, source)
    assert not any(line.startswith("kept") for line in said)
    _assert_same_version(updated, fresh)


def test_an_index_without_source_hashes_keeps_nothing(bm25_index: Path) -> None:
    reader = IndexReader.open(bm25_index)
    files = {name: v for name, v in reader.manifest["files"].items() if name != SOURCE_HASHES}
    reader.manifest = {**reader.manifest, "files": files}
    assert reader.source_hashes() is None
    assert kept_articles(reader, [], [], reader.manifest["pipeline"]) == {}


def test_source_hashes_of_the_wrong_shape_are_corrupt(tmp_path: Path, bm25_index: Path) -> None:
    reader: Any = IndexReader.open(bm25_index)
    reader._array = lambda name: reader.__class__._array(reader, name)[:-1]
    with pytest.raises(IndexCorruptError, match=r"source_hashes\.npy: shape"):
        reader.source_hashes()


_MODULE = '''"""Cleaning."""

LIMIT = 3


def clean(text):
    """Drop the short lines."""
    return [line for line in text if len(line) > LIMIT]
'''


@pytest.mark.parametrize(
    ("edited", "same"),
    [
        (_MODULE.replace("LIMIT = 3", "LIMIT = 3  # why three"), True),
        (
            _MODULE.replace('"""Drop the short lines."""', '"""Drop lines of three characters or fewer."""'),
            True,
        ),
        (_MODULE.replace('"""Cleaning."""\n', ""), True),
        (_MODULE.replace("[line for line", "[\n        line\n        for line"), True),
        (_MODULE.replace("LIMIT = 3", "LIMIT = 4"), False),
        (_MODULE.replace("> LIMIT", ">= LIMIT"), False),
        (
            _MODULE.replace('"""Drop the short lines."""', "'Drop the short lines.'\n    text = text[1:]"),
            False,
        ),
    ],
    ids=["comment", "docstring", "module docstring", "layout", "constant", "operator", "statement"],
)
def test_the_pipeline_hash_follows_code_not_comments(edited: str, same: bool) -> None:
    assert edited != _MODULE
    assert (_code_of(edited) == _code_of(_MODULE)) is same
