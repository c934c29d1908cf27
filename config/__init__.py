"""quotedesk's settings and its error hierarchy: the bottom of the import graph."""

from config._errors import QuotedeskError, SettingsError
from config._settings import (
    BUNDLED_MODEL_NAME,
    MODEL_WINDOW_TOKENS,
    BM25Settings,
    BotMode,
    BuildPriority,
    ChunkSettings,
    DenseIndex,
    EmbeddingBackend,
    IndexSettings,
    Mode,
    ModelSettings,
    RetrievalSettings,
    Settings,
    TelegramSettings,
    default_data_dir,
    load_settings,
)

__all__ = [
    "BUNDLED_MODEL_NAME",
    "MODEL_WINDOW_TOKENS",
    "BM25Settings",
    "BotMode",
    "BuildPriority",
    "ChunkSettings",
    "DenseIndex",
    "EmbeddingBackend",
    "IndexSettings",
    "Mode",
    "ModelSettings",
    "QuotedeskError",
    "RetrievalSettings",
    "Settings",
    "SettingsError",
    "TelegramSettings",
    "default_data_dir",
    "load_settings",
]
