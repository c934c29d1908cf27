"""The onnx-int8 backend: exported from the local model, close to PyTorch, clear when missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from config import EmbeddingBackend, Settings, SettingsError, load_settings
from index import (
    ModelUnavailableError,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    embedder_for,
    export_onnx_int8,
)
from index._onnx import _MAX_PADDING_SHARE, QUESTION_THREADS, _length_batches

TEXTS = [
    "How long did the talks in Istanbul last?",
    "The delegations met for about an hour at the Ciragan Palace.",
    "Ukraine and Russia agreed to exchange the bodies of fallen soldiers.",
    "Short.",
    "A roughly 90-minute session ended without a ceasefire, officials said, "
    "and both sides promised to meet again after consulting their capitals.",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Settings:
    target = tmp_path_factory.mktemp("onnx") / "onnx-int8"
    onnx_settings = settings.model.model_copy(update={"onnx_dir": target, "backend": "onnx-int8"})
    export_onnx_int8(onnx_settings, target)
    return settings.model_copy(update={"model": onnx_settings})


def test_onnx_vectors_are_close_to_pytorch(exported: Settings, embedder: Any) -> None:
    onnx = OnnxEmbedder(exported.model)
    ours = onnx.encode(TEXTS)
    reference = embedder.encode(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), onnx.dimension)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert np.min(np.sum(ours * reference, axis=1)) >= 0.97
    # Dynamic quantisation scales activations per batch, so a text's vector shifts a little with
    # its batch-mates; batching and length sorting must not shift it further than that.
    alone = np.vstack([onnx.encode([t]) for t in TEXTS])
    assert np.min(np.sum(alone * ours, axis=1)) >= 0.98


def test_a_question_runs_on_one_core_and_a_build_on_every_core(exported: Settings) -> None:
    onnx = OnnxEmbedder(exported.model.model_copy(update={"batch_size": 2}))
    question = onnx.encode(TEXTS[:2])
    assert onnx._session.get_session_options().intra_op_num_threads == QUESTION_THREADS
    assert onnx._bulk_session is None  # not even loaded until a build needs it
    bulk = onnx.encode(TEXTS)
    assert onnx._bulk_session.get_session_options().intra_op_num_threads == 0  # every core
    assert np.min(np.sum(bulk[:2] * question, axis=1)) >= 0.98


def test_a_few_long_texts_run_on_every_core(exported: Settings) -> None:
    onnx = OnnxEmbedder(exported.model)
    short = onnx.encode(["How long did the talks last?"])
    assert onnx._bulk_session is None
    long = " ".join(["the talks in Istanbul lasted about an hour, officials said"] * 30)
    vectors = onnx.encode([long, "How long did the talks last?"])  # two texts, over 256 tokens
    assert onnx._bulk_session is not None
    assert float(vectors[1] @ short[0]) >= 0.98


def test_each_batch_embedded_alone_gets_the_vectors_it_gets_with_the_rest(exported: Settings) -> None:
    onnx = OnnxEmbedder(exported.model)
    # A question's parts: clauses of a few lengths, and fragments such as a name.
    parts = [*TEXTS, "Ciragan Palace", "who led the delegations", "and what did Reuters say about it"]
    batches = onnx.batches(parts)
    assert len(batches) > 1
    assert sorted(row for batch in batches for row in batch) == list(range(len(parts)))
    lengths = [len(onnx._tokenizer.encode(text).ids) for text in parts]
    work = [len(batch) * max(lengths[row] for row in batch) for batch in batches]
    assert work == sorted(work, reverse=True)  # the most work first
    together = onnx.encode(parts)
    for batch in batches:
        assert np.array_equal(onnx.encode([parts[row] for row in batch]), together[batch])
    assert onnx.batches([]) == []
    long = " ".join(["the talks in Istanbul lasted about an hour, officials said"] * 30)
    assert onnx.batches([long, *TEXTS]) == [list(range(len(TEXTS) + 1))]  # for every core: not shared


@pytest.mark.parametrize("size", [1, 3, 32])
def test_length_batches_cover_each_row_once_with_little_padding(size: int) -> None:
    lengths = [57, 12, 14, 15, 30, 13, 256, 250, 12, 60, 58, 7]
    batches = _length_batches(lengths, size)
    assert sorted(row for batch in batches for row in batch) == list(range(len(lengths)))
    for batch in batches:
        widths = [lengths[row] for row in batch]
        padded = max(widths) * len(batch)
        assert len(batch) <= size
        assert len(batch) == 1 or padded - sum(widths) <= _MAX_PADDING_SHARE * padded
    # A question (57 tokens) is not padded together with its short clauses.
    assert not any({0, 1} <= set(batch) for batch in batches)


def test_export_replaces_the_previous_one(exported: Settings) -> None:
    target = exported.model.onnx_dir
    assert sorted(p.name for p in target.iterdir()) == ["export.json", "model_int8.onnx", "tokenizer.json"]
    assert not list(target.parent.glob(f".{target.name}-*"))  # no scratch directories left


def test_a_missing_export_says_how_to_make_one(tmp_path: Path, settings: Settings) -> None:
    model = settings.model.model_copy(update={"onnx_dir": tmp_path / "absent"})
    with pytest.raises(ModelUnavailableError, match="quotedesk model export"):
        OnnxEmbedder(model).warm_up()


def test_an_export_of_another_model_is_refused(tmp_path: Path, exported: Settings) -> None:
    copy = tmp_path / "other"
    copy.mkdir()
    for item in exported.model.onnx_dir.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    (copy / "export.json").write_text(json.dumps({"model": "someone/else", "max_seq_length": 256}))
    model = exported.model.model_copy(update={"onnx_dir": copy})
    with pytest.raises(ModelUnavailableError, match="someone/else"):
        OnnxEmbedder(model).warm_up()


def test_the_backend_setting_picks_the_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(embedder_for(load_settings().model), SentenceTransformerEmbedder)
    monkeypatch.setenv("QUOTEDESK_MODEL_BACKEND", "onnx-int8")
    settings = load_settings()
    assert settings.model.backend is EmbeddingBackend.ONNX_INT8
    assert isinstance(embedder_for(settings.model), OnnxEmbedder)
    monkeypatch.setenv("QUOTEDESK_MODEL_BACKEND", "tensorflow")
    with pytest.raises(SettingsError, match="valid values: torch, onnx-int8"):
        load_settings()
