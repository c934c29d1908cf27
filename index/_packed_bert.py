"""A BERT encoder's forward pass written out for the packed graph (:data:`index._onnx.PACKED_FILE`).

Imported only to export: it needs torch, which nothing that answers a question imports.

Exported through the model's own modules, the packed graph spent about a third of a question's
pass outside the matrix products. The model's code takes each reshape's shape from its input at
run time (some 130 small Shape, Gather, Unsqueeze and Concat nodes), and its linear layers over a
batch of one became MatMul and Add, which ONNX Runtime fuses into SkipLayerNormalization, a slow
kernel on this CPU (~0.17 ms each, against ~0.03 for a LayerNormalization). Written out over one
row of tokens, ``[tokens, width]``, every reshape has a constant shape and every linear layer is
one Gemm. The first 300 MultiHop-RAG questions, one thread, taking turns: 7.3 -> 5.5 ms a
question (x0.77), and the int8 vectors come out as close to PyTorch's (mean cosine 0.9941 against
0.9939).
"""

from __future__ import annotations

from typing import Any

import torch

_SELF_ATTENTION = ("query", "key", "value")
_EMBEDDINGS = ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm")


def bert_shaped(encoder: Any) -> bool:
    """Whether ``encoder`` has the modules :class:`PackedBert` runs: a BERT encoder with absolute
    positions. Whether it runs them as BERT does is checked by comparing vectors after export."""
    config = getattr(encoder, "config", None)
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    embeddings = getattr(encoder, "embeddings", None)
    if config is None or not layers or embeddings is None:
        return False
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return False
    return all(hasattr(embeddings, name) for name in _EMBEDDINGS) and all(
        all(hasattr(layer.attention.self, name) for name in _SELF_ATTENTION)
        and all(hasattr(layer, name) for name in ("intermediate", "output"))
        for layer in layers
    )


class PackedBert(torch.nn.Module):
    """Texts packed into one row of tokens (see :func:`index._onnx.packed_feed`) to their mean-pooled,
    normalised vectors: each text's tokens attend only to its own, and its positions count from 0."""

    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = int(encoder.config.num_attention_heads)
        self.head_width = int(encoder.config.hidden_size) // self.heads

    def forward(
        self, input_ids: torch.Tensor, position_ids: torch.Tensor, pooling: torch.Tensor
    ) -> torch.Tensor:
        member = (pooling > 0).to(pooling.dtype)  # texts x tokens
        blocked = (1.0 - member.T @ member) * torch.finfo(pooling.dtype).min  # another text's token
        embeddings = self.encoder.embeddings
        tokens = embeddings.LayerNorm(
            embeddings.word_embeddings(input_ids[0])
            + embeddings.position_embeddings(position_ids[0])
            + embeddings.token_type_embeddings.weight[0]
        )
        for layer in self.encoder.encoder.layer:
            attended = layer.attention.output(self._attention(layer.attention.self, tokens, blocked), tokens)
            tokens = layer.output(layer.intermediate(attended), attended)
        return torch.nn.functional.normalize(pooling @ tokens, p=2, dim=1)

    def _attention(self, attention: Any, tokens: torch.Tensor, blocked: torch.Tensor) -> torch.Tensor:
        """Multi-head self-attention over ``[tokens, width]``, heads first in between."""
        heads, width = self.heads, self.head_width
        query = attention.query(tokens).view(-1, heads, width).transpose(0, 1)
        key = attention.key(tokens).view(-1, heads, width).permute(1, 2, 0)
        value = attention.value(tokens).view(-1, heads, width).transpose(0, 1)
        weights = torch.softmax(query @ key * width**-0.5 + blocked, dim=-1)
        context: torch.Tensor = (weights @ value).transpose(0, 1).reshape(-1, heads * width)
        return context
