"""The token never reaches a log line; hostile questions get bounded, clear answers everywhere."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from pathlib import Path

import pytest

from bot._app import protect_logs
from config import load_settings
from retrieval import QuestionError, Retriever
from tests.commands import QUOTEDESK

TOKEN = "987654:SECRET-token-value"
HOSTILE = [
    "<b>talks</b><script>alert(1)</script>",
    "**talks** _last_ [x](javascript:alert(1)) `rm -rf`",
    "(.*)+$[\\d{99999}] talks?",
    "переговоры 会谈 محادثات talks",
    "🕊️🔥 talks 👍🏽",
    "talks\x00\x1b[2J\x7f last",
    "How long did the talks last? " * 3500,  # about 100,000 characters
]


def test_token_is_redacted_from_every_log_line(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    protect_logs(TOKEN)
    logging.getLogger("httpx").warning("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
    logging.getLogger("telegram.ext").error("failed for bot%s", TOKEN)
    logging.getLogger("quotedesk").warning(f"token {TOKEN} in an f-string")
    out = stream.getvalue()
    assert TOKEN not in out and out.count("<token>") == 3
    assert logging.getLogger("httpx").level == logging.WARNING  # request URLs are not logged at INFO


def test_config_show_and_errors_never_print_the_token(tmp_path: Path) -> None:
    env = {
        "QUOTEDESK_TELEGRAM_TOKEN": TOKEN,
        "QUOTEDESK_TELEGRAM_WEBHOOK_SECRET": "hook-secret",
        "QUOTEDESK_TELEGRAM_MODE": "webhook",
        "QUOTEDESK_INDEX_DIR": str(tmp_path / "none"),
    }
    shown = subprocess.run(
        [QUOTEDESK, "config", "show"], env=env, capture_output=True, text=True, check=False
    )
    failed = subprocess.run([QUOTEDESK, "bot"], env=env, capture_output=True, text=True, check=False)
    assert failed.returncode == 2 and "QUOTEDESK_TELEGRAM_WEBHOOK_URL" in failed.stderr
    for result in (shown, failed):
        assert (
            TOKEN not in result.stdout + result.stderr and "hook-secret" not in result.stdout + result.stderr
        )
    assert json.loads(shown.stdout)["telegram"]["token"] == "**********"


def test_settings_repr_hides_the_token() -> None:
    settings = load_settings(telegram={"token": TOKEN})
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


@pytest.mark.parametrize("question", HOSTILE, ids=range(len(HOSTILE)))
def test_library_answers_hostile_questions(retriever: Retriever, question: str) -> None:
    answer = retriever.ask(question)
    assert len(answer.question) <= retriever.settings.retrieval.max_question_chars
    assert "\x00" not in answer.question and "\x1b" not in answer.question
    retriever.search(question, k=3)


def test_cli_answers_hostile_questions(seed_index: Path) -> None:
    for question in HOSTILE:
        question = question.replace("\x00", "\x01")  # argv cannot hold a NUL byte
        result = subprocess.run(
            [QUOTEDESK, "ask", question, "--index", str(seed_index), "--mode", "bm25", "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)["question"]) <= 1000
    for empty in ("", "   ", "\x01\x02", "!!!"):
        result = subprocess.run(
            [QUOTEDESK, "ask", empty, "--index", str(seed_index), "--mode", "bm25"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1 and "the question is empty" in result.stderr


def test_empty_question_is_a_clear_error(retriever: Retriever) -> None:
    with pytest.raises(QuestionError, match="empty"):
        retriever.ask("\u200b \t")
