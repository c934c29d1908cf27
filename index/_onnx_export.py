"""Exporting the local embedding model to ONNX with int8 weights, for :class:`~index.OnnxEmbedder`."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from config import ModelSettings
from index._embed import OFFLINE_ENV, model_dir
from index._errors import ModelUnavailableError
from index._onnx import (
    EXPORT_FILE,
    EXPORT_VERSION,
    MODEL_FILE,
    PACKED_FILE,
    TOKENIZER_FILE,
    padded_feed,
    run_packed,
    run_padded,
)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_PACKED_INPUTS = ("input_ids", "position_ids", "pooling")
_OPSET = 17
# Before quantising, the written-out batch graph must give these texts (a question and parts of
# one, of a few lengths) the model's own vectors, and the packed graph the plain graph's for each
# alone, to this cosine: packing relies on the model numbering positions from 0 in each text, as
# BERT does (all-MiniLM-L6-v2: 0.9999993).
_CHECK_TEXTS = (
    "How long did the talks in Istanbul last?",
    "Ciragan Palace",
    "as reported by both Reuters and the BBC",
    "Who led the delegations",
)
_AGREEMENT_MIN_COSINE = 0.9999


def export_onnx_int8(settings: ModelSettings, target: Path) -> dict[str, Any]:
    """Export the configured model to ``target`` (replaced atomically); returns what was written."""
    source = model_dir(settings)
    if source is None or not (source / TOKENIZER_FILE).is_file():
        raise ModelUnavailableError(f"no local model with a {TOKENIZER_FILE} to export: {source}")
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ModelUnavailableError(f"{source}: only mean-pooling models can be exported")
    window = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"]
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        # The exporter's and quantiser's advice is for model authors, not for someone running this.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)
            try:
                graphs = _export_quantised(source, work)
            finally:
                logging.disable(logging.NOTSET)
        shutil.copy(source / TOKENIZER_FILE, work / TOKENIZER_FILE)
        info = {"model": settings.name, "source": str(source), "max_seq_length": int(window)}
        # Whether questions run packed (see _export_packed), and whether both graphs run the
        # forward pass written out (see _export_quantised).
        info.update(graphs, version=EXPORT_VERSION)
        (work / EXPORT_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        # A reader sees the old export or the new one, never half of one.
        old = target.with_name(f".{target.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        work.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return info


def _export_quantised(source: Path, work: Path) -> dict[str, bool]:
    """Both graphs, with int8 weights, in ``work``: the plain one, and the packed one. A BERT
    encoder's forward pass is exported written out (:mod:`index._bert_graphs`) where it gives the
    model's own vectors. Returns whether the packed graph was kept (see :data:`_CHECK_TEXTS`) and
    whether the plain one is written out."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    from index._bert_graphs import ModelPooled, PaddedBert, bert_shaped

    encoder = AutoModel.from_pretrained(str(source), local_files_only=True).eval()
    bert = bert_shaped(encoder)
    padded = PaddedBert(encoder) if bert else None
    written_out = padded is not None and _written_out_agrees(source, encoder, padded)
    _export_pooled(padded if written_out else ModelPooled(encoder), work / "model.onnx")
    graphs = [("model.onnx", MODEL_FILE)]
    if bert:
        _export_packed(encoder, work / "packed.onnx")
        if _packing_agrees(source, work / "model.onnx", work / "packed.onnx"):
            graphs.append(("packed.onnx", PACKED_FILE))
    for plain, quantised in graphs:
        quantize_dynamic(work / plain, work / quantised, weight_type=QuantType.QInt8, per_channel=True)
    for scratch in ("model.onnx", "packed.onnx"):
        (work / scratch).unlink(missing_ok=True)
    return {"packed": len(graphs) == 2, "written_out": written_out}


def _export_pooled(pooled: Any, out: Path) -> None:
    """The graph for a batch: texts padded to the longest, mean-pooled over their own tokens, by
    ``pooled`` (:class:`~index._bert_graphs.PaddedBert` or :class:`~index._bert_graphs.ModelPooled`)."""
    import torch

    example = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    torch.onnx.export(
        pooled.eval(),
        (example, torch.ones_like(example), torch.zeros_like(example)),
        str(out),
        input_names=list(_INPUTS),
        output_names=["embedding"],
        dynamic_axes={**axes, "embedding": {0: "batch"}},
        opset_version=_OPSET,
        dynamo=False,
    )


def _written_out_agrees(source: Path, encoder: Any, written_out: Any) -> bool:
    """Whether ``written_out`` gives :data:`_CHECK_TEXTS`, padded as one batch, the vectors the
    model's own forward pass gives them (in PyTorch, before export)."""
    import torch

    from index._bert_graphs import ModelPooled

    feed = [torch.from_numpy(inputs) for inputs in padded_feed(_check_ids(source)).values()]
    with torch.no_grad():
        agreement = (written_out.eval()(*feed) * ModelPooled(encoder).eval()(*feed)).sum(dim=1)
    return bool(agreement.min() >= _AGREEMENT_MIN_COSINE)


def _export_packed(encoder: Any, out: Path) -> None:
    """The graph for a question's parts: their tokens one after another in a single row, each
    text's positions numbered from 0 and its tokens attending only to each other, then mean-pooled
    by ``pooling`` (a row per text, 1/length over its tokens). The same vectors as the texts apart,
    with no padding, in one pass: a pass reads every weight once, which is most of its time for
    short texts (one MultiHop-RAG question's parts: 11.1 ms in ~2.3 padded batches, 8.4 packed).
    The forward pass is written out (:class:`~index._bert_graphs.PackedBert`), which took a
    search's parts x0.86 again."""
    import torch

    from index._bert_graphs import PackedBert

    ids = torch.ones((1, 8), dtype=torch.long)
    pooling = torch.zeros((2, 8))
    pooling[0, :5], pooling[1, 5:] = 1 / 5, 1 / 3
    torch.onnx.export(
        PackedBert(encoder).eval(),
        (ids, torch.tensor([[0, 1, 2, 3, 4, 0, 1, 2]]), pooling),
        str(out),
        input_names=list(_PACKED_INPUTS),
        output_names=["embedding"],
        dynamic_axes={
            "input_ids": {1: "tokens"},
            "position_ids": {1: "tokens"},
            "pooling": {0: "texts", 1: "tokens"},
            "embedding": {0: "texts"},
        },
        opset_version=_OPSET,
        dynamo=False,
    )


def _packing_agrees(source: Path, plain: Path, packed: Path) -> bool:
    """Whether the float ``packed`` graph gives :data:`_CHECK_TEXTS` the vectors ``plain`` gives
    each of them alone."""
    import numpy as np
    import onnxruntime

    ids = _check_ids(source)
    session = onnxruntime.InferenceSession(str(plain))
    apart = np.vstack([run_padded([row], session) for row in ids])
    together = run_packed(ids, onnxruntime.InferenceSession(str(packed)))
    return bool(np.min(np.sum(apart * together, axis=1)) >= _AGREEMENT_MIN_COSINE)


def _check_ids(source: Path) -> list[list[int]]:
    """:data:`_CHECK_TEXTS` as the model's tokenizer splits them, unpadded."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source / TOKENIZER_FILE))
    tokenizer.no_padding()
    return [tokenizer.encode(text).ids for text in _CHECK_TEXTS]
