"""Settings from the environment and .env, validated with messages that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Mode, SettingsError, load_settings


def test_environment_maps_to_groups(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUOTEDESK_INDEX_DIR", str(tmp_path / "i"))
    monkeypatch.setenv("QUOTEDESK_RETRIEVAL_CLAUSE_BM25_WEIGHT", "0.5")
    monkeypatch.setenv("QUOTEDESK_RETRIEVAL_MODE", "BM25")
    monkeypatch.setenv("QUOTEDESK_TELEGRAM_TOKEN", "1:abc")
    settings = load_settings()
    assert settings.index.dir == tmp_path / "i"
    assert settings.retrieval.clause_bm25_weight == 0.5 and settings.retrieval.mode is Mode.BM25
    assert settings.telegram.token is not None and settings.telegram.token.get_secret_value() == "1:abc"
    assert "1:abc" not in str(settings) and settings.masked()["telegram"]["token"] == "**********"


def test_dotenv_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("QUOTEDESK_CHUNK_MAX_TOKENS=128\n", encoding="utf-8")
    assert load_settings().chunk.max_tokens == 128  # the test runs in tmp_path


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("QUOTEDESK_CHUNK_MAX_TOKENS", "9999", "chunk.max_tokens (QUOTEDESK_CHUNK_MAX_TOKENS)"),
        ("QUOTEDESK_RETRIEVAL_MODE", "fuzzy", "valid values: hybrid, dense, bm25"),
        ("QUOTEDESK_BM25_B", "2", "bm25.b (QUOTEDESK_BM25_B)"),
        ("QUOTEDESK_INDEX_BUILD_PRIORITY", "later", "valid values: normal, low, idle"),
    ],
)
def test_invalid_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(
        SettingsError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        load_settings()
