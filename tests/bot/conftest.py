"""Bot fixtures: an application wired to a fake Bot API through a replaced request class."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot import build_application
from config import Settings, load_settings
from retrieval import Retriever
from tests.bot.fake_bot_api import FakeBotApi, RecordingRequest

TOKEN = "123456:TEST-TOKEN-never-printed"


def bot_settings(tmp_path: Path, **telegram: Any) -> Settings:
    return load_settings(
        telegram={
            "token": TOKEN,
            "api_url": "http://127.0.0.1:9",
            "state_file": tmp_path / "state.pickle",
            "feedback_db": tmp_path / "feedback.sqlite3",
            "flood_messages": 100,
            **telegram,
        }
    )


Send = Callable[[dict[str, Any]], Awaitable[None]]


@pytest.fixture
def api() -> FakeBotApi:
    return FakeBotApi()


@pytest.fixture
def telegram_options() -> dict[str, Any]:
    return {}


@pytest.fixture
async def send(
    api: FakeBotApi, retriever: Retriever, tmp_path: Path, telegram_options: dict[str, Any]
) -> AsyncIterator[Send]:
    app = build_application(
        bot_settings(tmp_path, **telegram_options), retriever, request=RecordingRequest(api)
    )
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)

    update_ids = itertools.count(1)

    async def process(update: dict[str, Any]) -> None:
        await app.process_update(Update.de_json({"update_id": next(update_ids), **update}, app.bot))

    yield process
    await app.shutdown()
