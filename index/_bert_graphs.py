"""The encoder's forward pass as the two exported graphs run it (:mod:`index._onnx_export`).

Imported only to export: it needs torch, which nothing that answers a question imports.

Exported through the model's own modules, a pass spent much of its time outside the matrix
products. The model's code takes each reshape's shape from its input at run time (some 130 small
Shape, Gather, Unsqueeze and Concat nodes a pass); its linear layers over 3-D batches became MatMul
and Add, which ONNX Runtime fuses into SkipLayerNormalization, a slow kernel on this CPU (~0.17 ms
each for a question, against ~0.03 for a LayerNormalization); and its attention turned the padding
mask into floats with a Where over every head's scores, and guarded the softmax with another (15%
of a build's batch of 32 x 128 tokens). Written out, linear layers and layer norms run over
``[tokens, width]`` (one Gemm each), a question's reshapes have constant shapes, and the mask is
one addition. Taking turns in one process, a MultiHop-RAG question whole on one thread went 7.3
-> 5.5 ms (x0.77), and a search's parts through the embedder x0.86 (``bench/export_ab.py``). In
runs one after the other, a build's texts for 40 articles went 27.9 -> 17.7 s and 24.5 -> 16.8 s
(``bench/embedding_backends.py``). The int8 vectors are as close to PyTorch's as before.
"""

from __future__ import annotations

from typing import Any

import torch

_SELF_ATTENTION = ("query", "key", "value")
_EMBEDDINGS = ("word_embeddings", "position_embeddings", "token_type_embeddings", "LayerNorm")


def bert_shaped(encoder: Any) -> bool:
    """Whether ``encoder`` has the modules the written-out passes run: a BERT encoder with absolute
    positions. Whether it runs them as BERT does is checked by comparing vectors before quantising."""
    config = getattr(encoder, "config", None)
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    embeddings = getattr(encoder, "embeddings", None)
    if config is None or not layers or embeddings is None:
        return False
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return False
    return all(hasattr(embeddings, name) for name in _EMBEDDINGS) and all(map(_bert_layer, layers))


def _bert_layer(layer: Any) -> bool:
    """Whether ``layer`` has BERT's self-attention, its output, and the feed-forward after it."""
    attention = getattr(layer, "attention", None)
    own = getattr(attention, "self", None)
    return (
        all(hasattr(own, name) for name in _SELF_ATTENTION)
        and hasattr(attention, "output")
        and all(hasattr(layer, name) for name in ("intermediate", "output"))
    )


class ModelPooled(torch.nn.Module):
    """Padded texts to their mean-pooled, normalised vectors through the model's own forward pass:
    the reference the written-out passes are checked against, and the plain graph of a model that
    is not shaped as BERT."""

    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        tokens = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        return _mean_pooled(tokens, attention_mask)


class _WrittenOut(torch.nn.Module):
    """BERT's layers over ``[tokens, width]``, a batch's texts one after another."""

    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = int(encoder.config.num_attention_heads)
        self.head_width = int(encoder.config.hidden_size) // self.heads

    def _encoded(self, tokens: torch.Tensor, blocked: torch.Tensor, length: Any = None) -> torch.Tensor:
        """``tokens`` through every layer; ``blocked`` is added to each head's attention scores,
        and ``length`` is the padded length when the tokens are a batch of texts (None: one row)."""
        for layer in self.encoder.encoder.layer:
            attention = self._attention(layer.attention.self, tokens, blocked, length)
            attended = layer.attention.output(attention, tokens)
            tokens = layer.output(layer.intermediate(attended), attended)
        return tokens

    def _attention(
        self, attention: Any, tokens: torch.Tensor, blocked: torch.Tensor, length: Any
    ) -> torch.Tensor:
        # [texts,] tokens, heads, head width; heads go first for the products, then back.
        split = (
            (-1, self.heads, self.head_width) if length is None else (-1, length, self.heads, self.head_width)
        )
        query = attention.query(tokens).view(split).transpose(-3, -2)
        key = attention.key(tokens).view(split).transpose(-3, -2).transpose(-1, -2)
        value = attention.value(tokens).view(split).transpose(-3, -2)
        weights = torch.softmax(query @ key * self.head_width**-0.5 + blocked, dim=-1)
        context: torch.Tensor = (weights @ value).transpose(-3, -2).reshape(-1, self.heads * self.head_width)
        return context


class PackedBert(_WrittenOut):
    """Texts packed into one row of tokens (see :func:`index._onnx.packed_feed`) to their mean-pooled,
    normalised vectors: each text's tokens attend only to its own, and its positions count from 0."""

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
        return torch.nn.functional.normalize(pooling @ self._encoded(tokens, blocked), p=2, dim=1)


class PaddedBert(_WrittenOut):
    """Texts padded to the longest to their mean-pooled, normalised vectors, as :class:`ModelPooled`."""

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        length = input_ids.shape[1]
        width = self.heads * self.head_width
        embeddings = self.encoder.embeddings
        summed = (
            embeddings.word_embeddings(input_ids)
            + embeddings.position_embeddings(torch.arange(length))[None]
            + embeddings.token_type_embeddings(token_type_ids)
        )
        mask = attention_mask.to(summed.dtype)
        blocked = ((1.0 - mask) * torch.finfo(summed.dtype).min)[:, None, None, :]  # padding
        tokens = self._encoded(embeddings.LayerNorm(summed.reshape(-1, width)), blocked, length)
        return _mean_pooled(tokens.view(-1, length, width), attention_mask)


def _mean_pooled(tokens: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
    mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, p=2, dim=1)
