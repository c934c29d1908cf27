"""The real ``quotedesk bot`` process against a fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot.conftest import TOKEN
from tests.bot.fake_bot_api import FakeBotApiServer, callback_update, message_update
from tests.bot.telegram_html import check_telegram_html
from tests.commands import QUOTEDESK

STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server() -> Iterator[FakeBotApiServer]:
    with FakeBotApiServer() as running:
        yield running


def _start_bot(
    tmp_path: Path, seed_index: Path, server: FakeBotApiServer, **extra: str
) -> subprocess.Popen[str]:
    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    env = {
        **os.environ,
        "QUOTEDESK_TELEGRAM_TOKEN": TOKEN,
        "QUOTEDESK_TELEGRAM_API_URL": server.url,
        "QUOTEDESK_INDEX_DIR": str(index),
        "QUOTEDESK_TELEGRAM_STATE_FILE": str(tmp_path / "state.pickle"),
        "QUOTEDESK_TELEGRAM_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
        "QUOTEDESK_TELEGRAM_FLOOD_MESSAGES": "1000",
        **extra,
    }
    log = (tmp_path / "bot.log").open("w")
    return subprocess.Popen(
        [QUOTEDESK, "bot"], env=env, stdout=log, stderr=subprocess.STDOUT, text=True, cwd=tmp_path
    )


def _await(
    server: FakeBotApiServer, process: subprocess.Popen[str], method: str, count: int, timeout: float = 60
) -> list[dict[str, Any]]:
    """Calls of ``method`` once there are ``count``; fails at once if the bot process died."""
    deadline = time.monotonic() + timeout
    while True:
        found = server.api.wait_for(method, count, timeout=1)
        if len(found) >= count:
            return found
        assert process.poll() is None, f"the bot exited with {process.returncode}"
        assert time.monotonic() < deadline, f"{len(found)} of {count} {method} calls after {timeout} s"


def _stop(process: subprocess.Popen[str], tmp_path: Path) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "bot.log").read_text()
    assert TOKEN not in log and "TEST-TOKEN" not in log
    assert "Traceback" not in log
    return log


def _buttons(payload: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in payload["reply_markup"]["inline_keyboard"] for b in row]


def test_polling_conversation(tmp_path: Path, seed_index: Path, server: FakeBotApiServer) -> None:
    api = server.api
    process = _start_bot(tmp_path, seed_index, server)
    try:
        _await(server, process, "getUpdates", 1, STARTUP_SECONDS)
        assert api.sent("setMyCommands")
        api.push(message_update("How long did the talks last?"))
        (answer,) = _await(server, process, "sendMessage", 1)
        check_telegram_html(answer["text"])
        assert (
            "Outlets disagree on the duration" in answer["text"]
            and "<b>roughly 90-minute</b>" in answer["text"]
        )
        presses = [d for d in _buttons(answer) if d.endswith(":1") or d.count(":") == 2][:3]  # first outlet
        for data in presses:
            api.push(callback_update(data))
        replies = _await(server, process, "sendMessage", 3)
        assert any(r["text"].startswith("📄 <b>Context") for r in replies)
        assert any(r["text"].startswith("➕ <b>More from") for r in replies)
        assert _await(server, process, "answerCallbackQuery", 3)
        hostile = ["<i>x</i><script>", "a" * 10_000, "\x00\x1b talks", "🕊️ talks ✨", "\u202eטקסט talks"]
        for text in hostile:
            api.push(message_update(text))
        replies = _await(server, process, "sendMessage", 3 + len(hostile))
        assert len(replies) == 3 + len(hostile)
        for reply in replies:
            check_telegram_html(reply["text"])
    finally:
        _stop(process, tmp_path)
    assert (tmp_path / "feedback.sqlite3").exists()


def test_webhook_with_secret_token(tmp_path: Path, seed_index: Path) -> None:
    # Connections close after each answer here: with keep-alive, python-telegram-bot 22.8 fails to
    # register the webhook (its webhook server start leaves no running event loop for httpx).
    with FakeBotApiServer(keep_alive=False) as server:
        _webhook_conversation(tmp_path, seed_index, server)


def _webhook_conversation(tmp_path: Path, seed_index: Path, server: FakeBotApiServer) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    process = _start_bot(
        tmp_path,
        seed_index,
        server,
        QUOTEDESK_TELEGRAM_MODE="webhook",
        QUOTEDESK_TELEGRAM_WEBHOOK_PORT=str(port),
        QUOTEDESK_TELEGRAM_WEBHOOK_URL=url,
        QUOTEDESK_TELEGRAM_WEBHOOK_SECRET="s3cret-webhook",
    )
    try:
        (registered,) = _await(server, process, "setWebhook", 1, STARTUP_SECONDS)
        # python-telegram-bot registers the webhook before its server listens; Telegram retries, so do we.
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None and time.monotonic() < deadline, "webhook server never listened"
            time.sleep(0.1)
        assert registered["url"] == url and registered["secret_token"] == "s3cret-webhook"

        def post(update: dict[str, Any], secret: str | None) -> int:
            body = json.dumps({"update_id": 1, **update}).encode()
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            if secret is not None:
                request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                return int(exc.code)

        assert post(message_update("Where were the talks held?"), None) == 403
        assert post(message_update("Where were the talks held?"), "wrong") == 403
        assert post(message_update("Where were the talks held?"), "s3cret-webhook") == 200
        (answer,) = _await(server, process, "sendMessage", 1)
        check_telegram_html(answer["text"])
        assert "Ciragan Palace" in answer["text"]
    finally:
        log = _stop(process, tmp_path)
    assert "s3cret-webhook" not in log
