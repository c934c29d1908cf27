"""The embedder the settings ask for."""

from __future__ import annotations

from config import EmbeddingBackend, ModelSettings
from index._embed import Embedder, SentenceTransformerEmbedder
from index._onnx import OnnxEmbedder


def embedder_for(settings: ModelSettings) -> Embedder:
    """An embedder for ``settings.backend``; nothing is loaded until its ``warm_up``."""
    if settings.backend is EmbeddingBackend.ONNX_INT8:
        return OnnxEmbedder(settings)
    return SentenceTransformerEmbedder(settings)
