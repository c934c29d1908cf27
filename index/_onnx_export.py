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
from index._onnx import EXPORT_FILE, MODEL_FILE, TOKENIZER_FILE

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OPSET = 17


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
                _export_pooled(source, work / "model.onnx")
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantize_dynamic(
                    work / "model.onnx", work / MODEL_FILE, weight_type=QuantType.QInt8, per_channel=True
                )
            finally:
                logging.disable(logging.NOTSET)
        (work / "model.onnx").unlink()
        shutil.copy(source / TOKENIZER_FILE, work / TOKENIZER_FILE)
        info = {"model": settings.name, "source": str(source), "max_seq_length": int(window)}
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


def _export_pooled(source: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            tokens = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    example = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    torch.onnx.export(
        Pooled().eval(),
        (example, torch.ones_like(example), torch.zeros_like(example)),
        str(out),
        input_names=list(_INPUTS),
        output_names=["embedding"],
        dynamic_axes={**axes, "embedding": {0: "batch"}},
        opset_version=_OPSET,
        dynamo=False,
    )
