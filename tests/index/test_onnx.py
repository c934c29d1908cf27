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
    _onnx,
    _onnx_export,
    embedder_for,
    export_onnx_int8,
)
from index._onnx import (
    _MAX_PADDING_SHARE,
    EXPORT_VERSION,
    MAX_BATCH_TOKENS,
    PACKED_FILE,
    QUESTION_THREADS,
    SIDE_BY_SIDE_MIN_BATCHES_EACH,
    _batches_for_sessions,
    _even_packs,
    _length_batches,
    packed_feed,
)

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


@pytest.fixture(scope="module")
def padded_only(tmp_path_factory: pytest.TempPathFactory, exported: Settings) -> Settings:
    """The export as it was before the packed graph: questions run in padded batches."""
    copy = tmp_path_factory.mktemp("onnx") / "onnx-int8"
    copy.mkdir()
    for item in exported.model.onnx_dir.iterdir():
        if item.name != PACKED_FILE:
            (copy / item.name).write_bytes(item.read_bytes())
    return exported.model_copy(update={"model": exported.model.model_copy(update={"onnx_dir": copy})})


# A question's parts: clauses of a few lengths, and fragments such as a name.
PARTS = [*TEXTS, "Ciragan Palace", "who led the delegations", "and what did Reuters say about it"]


def test_onnx_vectors_are_close_to_pytorch(exported: Settings, embedder: Any) -> None:
    onnx = OnnxEmbedder(exported.model)
    ours = onnx.encode(TEXTS)
    reference = embedder.encode(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), onnx.dimension)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert np.min(np.sum(ours * reference, axis=1)) >= 0.97
    # Dynamic quantisation scales activations per pass, so a text's vector shifts a little with
    # the texts beside it; batching or packing must not shift it further than that. Packed, a
    # short text shares the scale of long ones ("Short." here: 0.979 to itself alone, and as
    # close to PyTorch as alone).
    alone = np.vstack([onnx.encode([t]) for t in TEXTS])
    assert np.min(np.sum(alone * ours, axis=1)) >= 0.97


def _threads(sessions: list[Any]) -> list[int]:
    return [session.get_session_options().intra_op_num_threads for session in sessions]


@pytest.mark.parametrize("cores", [1, 2])
def test_a_question_runs_on_one_core_and_a_build_on_every_core(
    exported: Settings, monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    monkeypatch.setattr(_onnx, "_cores", lambda: cores)
    onnx = OnnxEmbedder(exported.model.model_copy(update={"batch_size": 3}))
    question = onnx.encode(TEXTS[:2])
    assert onnx._session.get_session_options().intra_op_num_threads == QUESTION_THREADS
    assert onnx._every_core == []  # loaded when a build needs them
    bulk = onnx.encode(TEXTS)  # more texts than a batch: every core
    assert _threads(onnx._every_core) == [1] * cores  # a session per core, side by side
    assert np.min(np.sum(bulk[:2] * question, axis=1)) >= 0.98


# A build's texts: enough for batches of two to keep two sessions busy side by side.
BUILD_TEXTS = [*PARTS, *(f"{text} Officials said so on day {day}." for day in range(3) for text in TEXTS)]


@pytest.fixture
def on_two_cores(exported: Settings, monkeypatch: pytest.MonkeyPatch) -> OnnxEmbedder:
    """An embedder on two cores, in batches of two texts: :data:`BUILD_TEXTS` run side by side."""
    monkeypatch.setattr(_onnx, "_cores", lambda: 2)
    onnx = OnnxEmbedder(exported.model.model_copy(update={"batch_size": 2}))
    onnx.warm_up()
    return onnx


def test_many_batches_run_side_by_side_with_the_vectors_of_one_session(
    on_two_cores: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    lengths = [len(row) for row in on_two_cores._token_ids(BUILD_TEXTS)]
    assert len(_length_batches(lengths, 2)) >= SIDE_BY_SIDE_MIN_BATCHES_EACH * 2
    side_by_side = on_two_cores.encode(BUILD_TEXTS)
    assert _threads(on_two_cores._every_core) == [1, 1]
    monkeypatch.setattr(_onnx, "SIDE_BY_SIDE_MAX_SESSIONS", 1)
    one_session = OnnxEmbedder(on_two_cores._settings)
    shared = one_session.encode(BUILD_TEXTS)
    assert _threads(one_session._every_core) == [2]  # one session sharing each batch
    # The same batches, so the same int8 scales: only the threads' float sums may differ.
    assert np.min(np.sum(side_by_side * shared, axis=1)) >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(side_by_side, axis=1), 1.0, atol=1e-4)


def test_a_batch_that_fails_side_by_side_fails_the_call(
    on_two_cores: OnnxEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_padded = _onnx.run_padded
    longest = max(map(len, on_two_cores._token_ids(BUILD_TEXTS)))

    def failing(ids: Any, session: Any) -> Any:
        if len(ids[0]) == longest:
            raise RuntimeError("the longest batch failed")
        return run_padded(ids, session)

    monkeypatch.setattr(_onnx, "run_padded", failing)
    with pytest.raises(RuntimeError, match="the longest batch failed"):
        on_two_cores.encode(BUILD_TEXTS)


@pytest.mark.parametrize(("cores", "sessions", "threads"), [(1, 1, 1), (2, 2, 1), (3, 3, 1), (8, 4, 2)])
def test_side_by_side_sessions_follow_the_cores(
    exported: Settings, monkeypatch: pytest.MonkeyPatch, cores: int, sessions: int, threads: int
) -> None:
    monkeypatch.setattr(_onnx, "_cores", lambda: cores)
    onnx = OnnxEmbedder(exported.model)
    monkeypatch.setattr(onnx, "_new_session", lambda count: ("session", count))
    assert onnx._every_core_sessions() == [("session", threads)] * sessions


def test_few_batches_are_dealt_out_so_that_every_session_has_one() -> None:
    lengths = [20 + i % 7 for i in range(20)]  # an answer's value clauses: one batch of 32
    assert len(_length_batches(lengths, 32)) == 1
    batches = _batches_for_sessions(lengths, 32, 2)
    assert sorted(row for batch in batches for row in batch) == list(range(20))
    assert len(batches) >= 2
    halves = [sum(lengths[row] for row in batch) for batch in batches[:2]]
    assert abs(halves[0] - halves[1]) <= max(lengths)  # about as much for each
    many = [30] * 16 + [60] * 16 + [120] * 16 + [200] * 16
    planned = _batches_for_sessions(many, 8, 2)
    assert sorted(planned) == sorted(_length_batches(many, 8))  # enough batches: the same ones
    work = [len(batch) * max(many[i] for i in batch) for batch in planned]
    assert work == sorted(work, reverse=True)  # the most work first


def test_a_few_long_texts_run_on_every_core(exported: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_onnx, "_cores", lambda: 2)
    onnx = OnnxEmbedder(exported.model)
    short = onnx.encode(["How long did the talks last?"])
    assert onnx._every_core == []
    long = " ".join(["the talks in Istanbul lasted about an hour, officials said"] * 30)
    vectors = onnx.encode([long, "How long did the talks last?"])  # two texts, over 256 tokens
    assert len(onnx._every_core) == 2
    assert float(vectors[1] @ short[0]) >= 0.98


def test_each_batch_embedded_alone_gets_the_vectors_it_gets_with_the_rest(padded_only: Settings) -> None:
    onnx = OnnxEmbedder(padded_only.model)
    parts = PARTS
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


def test_a_batch_of_long_texts_holds_fewer_of_them() -> None:
    each = MAX_BATCH_TOKENS // 256
    assert 1 < each < 32
    assert [len(batch) for batch in _length_batches([256] * (2 * each + 3), 32)] == [each, each, 3]
    short = MAX_BATCH_TOKENS // 32
    assert [len(batch) for batch in _length_batches([short] * 40, 32)] == [32, 8]
    assert [len(batch) for batch in _length_batches([5000, 5000], 32)] == [1, 1]  # alone, whatever its length


def test_a_questions_parts_run_packed_in_one_pass(
    exported: Settings, padded_only: Settings, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    onnx = OnnxEmbedder(exported.model)
    assert onnx.batches(PARTS) == [list(range(len(PARTS)))]  # one pass: nothing for a second thread
    # Only the packed graph is loaded for questions; the plain one waits for a build.
    assert [i.name for i in onnx._session.get_inputs()] == ["input_ids", "position_ids", "pooling"]
    assert onnx._session.get_session_options().intra_op_num_threads == QUESTION_THREADS
    padded = OnnxEmbedder(padded_only.model)
    apart = np.vstack([padded.encode([text]) for text in PARTS])

    def unexpected(*args: Any) -> None:
        raise AssertionError("a question's parts were padded")

    monkeypatch.setattr("index._onnx.run_padded", unexpected)
    packed = onnx.encode(PARTS)
    assert packed.shape == (len(PARTS), onnx.dimension)
    np.testing.assert_allclose(np.linalg.norm(packed, axis=1), 1.0, atol=1e-4)
    # Only int8 activations, scaled per pass, tell the parts packed from the parts apart.
    assert np.min(np.sum(packed * apart, axis=1)) >= 0.97
    assert np.min(np.sum(packed * embedder.encode(PARTS), axis=1)) >= 0.97
    assert np.array_equal(onnx.encode(PARTS), packed)  # the same pass, the same floats


def test_parts_for_two_threads_are_two_packs_each_embedded_as_a_pass_of_its_own(exported: Settings) -> None:
    onnx = OnnxEmbedder(exported.model)
    packs = onnx.batches(PARTS, 2)
    assert len(packs) == 2
    assert sorted(row for pack in packs for row in pack) == list(range(len(PARTS)))
    # What SharedEncoding returns: each pack as encode gives it on its own.
    for pack in packs:
        alone = np.vstack([onnx.encode([PARTS[row]]) for row in pack])
        assert np.min(np.sum(onnx.encode([PARTS[row] for row in pack]) * alone, axis=1)) >= 0.97


@pytest.mark.parametrize("ways", [1, 2, 3, 9])
@pytest.mark.parametrize("lengths", [[7], [57, 12, 14, 4, 30], [10, 10, 10, 10], [3, 90, 5, 6, 7, 8, 9, 4]])
def test_even_packs_share_the_tokens_out_most_first(lengths: list[int], ways: int) -> None:
    packs = _even_packs(lengths, ways)
    assert len(packs) == min(ways, len(lengths))
    assert all(packs) and all(pack == sorted(pack) for pack in packs)
    assert sorted(row for pack in packs for row in pack) == list(range(len(lengths)))
    tokens = [sum(lengths[row] for row in pack) for pack in packs]
    assert tokens == sorted(tokens, reverse=True)
    # Longest first to the lightest: no pack ends more than its last text over another.
    assert tokens[0] - tokens[-1] <= max(lengths)


def test_an_export_without_the_packed_graph_runs_questions_padded(
    padded_only: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    onnx = OnnxEmbedder(padded_only.model)
    with caplog.at_level("WARNING", logger="quotedesk.index"):
        assert len(onnx.batches(PARTS)) > 1
    assert "quotedesk model export" in caplog.text  # how to get the packed graph
    assert not onnx._packed
    assert onnx.encode(PARTS).shape == (len(PARTS), onnx.dimension)


def test_an_export_from_before_the_written_out_graphs_runs_and_says_to_export_again(
    tmp_path: Path, exported: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="quotedesk.index"):
        OnnxEmbedder(exported.model).warm_up()
    assert not caplog.text  # a current export
    copy = tmp_path / "onnx-int8"
    copy.mkdir()
    for item in exported.model.onnx_dir.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    info = json.loads((copy / "export.json").read_text())
    del info["version"]  # as exports before it wrote
    (copy / "export.json").write_text(json.dumps(info))
    onnx = OnnxEmbedder(exported.model.model_copy(update={"onnx_dir": copy}))
    with caplog.at_level("WARNING", logger="quotedesk.index"):
        onnx.warm_up()
    assert "quotedesk model export" in caplog.text
    assert onnx._packed


@pytest.fixture(scope="module")
def bert(settings: Settings) -> Any:
    """The local model's encoder in PyTorch, as the export loads it."""
    from transformers import AutoModel

    from index import model_dir

    source = model_dir(settings.model)
    assert source is not None
    return AutoModel.from_pretrained(str(source), local_files_only=True).eval()


def _token_rows(settings: Settings, texts: list[str]) -> list[list[int]]:
    from tokenizers import Tokenizer

    from index import model_dir

    source = model_dir(settings.model)
    assert source is not None
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.no_padding()
    return [tokenizer.encode(text).ids for text in texts]


@pytest.mark.filterwarnings("ignore")  # the exporter's advice to model authors, as export_onnx_int8 does
def test_packing_gives_the_float_model_the_vectors_of_the_texts_apart(
    tmp_path: Path, settings: Settings, bert: Any
) -> None:
    """Before quantising, packed is exactly apart: a mask or position out of place would show here."""
    import onnxruntime

    from index._bert_graphs import ModelPooled
    from index._onnx import run_packed, run_padded

    _onnx_export._export_pooled(ModelPooled(bert), tmp_path / "plain.onnx")
    _onnx_export._export_packed(bert, tmp_path / "packed.onnx")
    plain = onnxruntime.InferenceSession(str(tmp_path / "plain.onnx"))
    rows = _token_rows(settings, PARTS)
    apart = np.vstack([run_padded([row], plain) for row in rows])
    packed = run_packed(rows, onnxruntime.InferenceSession(str(tmp_path / "packed.onnx")))
    np.testing.assert_allclose(packed, apart, atol=1e-5)


@pytest.mark.filterwarnings("ignore")
def test_the_written_out_batch_gives_the_float_model_its_own_vectors(
    tmp_path: Path, settings: Settings, bert: Any
) -> None:
    """A padded batch of texts of many lengths: padding masked and pooled as the model's own pass does."""
    import onnxruntime

    from index._bert_graphs import ModelPooled, PaddedBert
    from index._onnx import run_padded

    _onnx_export._export_pooled(ModelPooled(bert), tmp_path / "model.onnx")
    _onnx_export._export_pooled(PaddedBert(bert), tmp_path / "written.onnx")
    rows = _token_rows(settings, PARTS)
    own = run_padded(rows, onnxruntime.InferenceSession(str(tmp_path / "model.onnx")))
    written = run_padded(rows, onnxruntime.InferenceSession(str(tmp_path / "written.onnx")))
    np.testing.assert_allclose(written, own, atol=1e-5)


def test_a_written_out_pass_that_disagrees_is_not_exported(settings: Settings, bert: Any) -> None:
    import torch

    from index import model_dir
    from index._bert_graphs import PaddedBert

    class Unrelated(torch.nn.Module):
        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            vectors = torch.ones((input_ids.shape[0], 384))
            return torch.nn.functional.normalize(vectors, dim=1)

    source = model_dir(settings.model)
    assert source is not None
    assert _onnx_export._written_out_agrees(source, bert, PaddedBert(bert))
    assert not _onnx_export._written_out_agrees(source, bert, Unrelated())


@pytest.mark.filterwarnings("ignore")
def test_the_packed_graph_reshapes_to_constant_shapes(tmp_path: Path, bert: Any) -> None:
    """What made the written-out pass faster: no reshape waits for shapes computed at run time."""
    import onnx

    _onnx_export._export_packed(bert, tmp_path / "packed.onnx")
    graph = onnx.load(str(tmp_path / "packed.onnx")).graph
    constant = {t.name for t in graph.initializer} | {
        name for node in graph.node if node.op_type == "Constant" for name in node.output
    }
    reshapes = [node for node in graph.node if node.op_type == "Reshape"]
    assert reshapes
    assert all(node.input[1] in constant for node in reshapes)


def test_only_an_encoder_shaped_as_bert_is_packed(bert: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from index._bert_graphs import bert_shaped

    assert bert_shaped(bert)
    assert not bert_shaped(torch.nn.Linear(2, 2))
    layer = bert.encoder.layer[0]
    monkeypatch.delattr(layer, "attention")  # refused, not an AttributeError
    assert not bert_shaped(bert)
    monkeypatch.undo()
    monkeypatch.setattr(bert.config, "position_embedding_type", "relative_key")
    assert not bert_shaped(bert)  # positions relative to each other are not numbered per text


def test_a_packing_that_disagrees_is_not_kept(
    tmp_path: Path, exported: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positions numbered on across the texts, as a model counting them differently would see them:
    the export's check refuses the packed graph, and questions run padded."""

    def numbered_on(ids: Any, session: Any) -> Any:
        feed = packed_feed(ids)
        feed["position_ids"] = np.arange(feed["input_ids"].shape[1])[None]
        return session.run(None, feed)[0]

    monkeypatch.setattr(_onnx_export, "run_packed", numbered_on)
    target = tmp_path / "onnx-int8"
    info = export_onnx_int8(exported.model.model_copy(update={"onnx_dir": target}), target)
    assert info["packed"] is False
    assert not (target / PACKED_FILE).exists()
    assert len(OnnxEmbedder(exported.model.model_copy(update={"onnx_dir": target})).batches(PARTS)) > 1


def test_export_replaces_the_previous_one(exported: Settings) -> None:
    target = exported.model.onnx_dir
    assert sorted(p.name for p in target.iterdir()) == [
        "export.json",
        "model_int8.onnx",
        "packed_int8.onnx",
        "tokenizer.json",
    ]
    info = json.loads((target / "export.json").read_text())
    assert info["packed"] is True
    assert info["written_out"] is True
    assert info["version"] == EXPORT_VERSION
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
