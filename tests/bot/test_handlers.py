"""Handlers driven offline with hand-made updates; what would be sent is checked."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bot._handlers
from bot import FeedbackStore
from retrieval import QuestionError
from tests.bot.conftest import Send
from tests.bot.fake_bot_api import BOT_USER, FakeBotApi, callback_update, mention_update, message_update
from tests.bot.telegram_html import check_telegram_html

QUESTION = "How long did the talks last?"


def buttons(payload: dict[str, Any]) -> list[str]:
    markup = payload.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_commands_are_registered(send: Send, api: FakeBotApi) -> None:
    (call,) = api.sent("setMyCommands")
    names = {c["command"] for c in call["commands"]}
    assert {"ask", "sources", "outlets", "since", "until", "about", "help"} <= names


async def test_question_gets_quotes_discrepancy_and_buttons(send: Send, api: FakeBotApi) -> None:
    await send(message_update(QUESTION))
    (reply,) = api.sent()
    text = reply["text"]
    check_telegram_html(text)
    assert reply["parse_mode"] == "HTML"
    summary = next(line for line in text.splitlines() if "Outlets disagree" in line)
    # Outlets are numbered in the order the answer lists them, most relevant first.
    assert re.fullmatch(
        r"⚖️ Outlets disagree on the duration: <b>“about an hour”</b> \(outlets \d, \d, \d\) vs "
        r"<b>“roughly 90-minute”</b> \(outlet \d\)",
        summary,
    ), summary
    assert text.index("Outlets disagree") < text.index("<blockquote>")
    assert "<b>about an hour</b>" in text and "<b>roughly 90-minute</b>" in text
    assert text.count("<blockquote>") >= 4 and "prisoner exchange with Ukraine" not in text  # 002 left out
    data = buttons(reply)
    assert {d.split(":")[0] for d in data} == {"m", "c", "f"} and len(data) == 4 * 4


async def test_each_button(send: Send, api: FakeBotApi, tmp_path: Path) -> None:
    await send(message_update(QUESTION))
    data = buttons(api.sent()[0])
    context_button = next(d for d in data if d.startswith("c:"))
    await send(callback_update(context_button))
    context = api.sent()[-1]["text"]
    check_telegram_html(context)
    assert context.startswith("📄 <b>Context from 1.") and "<b>In the backdrop" in context
    await send(callback_update(next(d for d in data if d.startswith("m:"))))
    more = api.sent()[-1]["text"]
    check_telegram_html(more)
    assert more.startswith("➕ <b>More from 1.")
    await send(callback_update(next(d for d in data if d.startswith("f:") and d.endswith(":1"))))
    assert api.sent("answerCallbackQuery")[-1]["text"] == "Thanks, noted."
    out = io.StringIO()
    assert FeedbackStore(tmp_path / "feedback.sqlite3").export(out, "csv") == 1
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["question"] == QUESTION and row["helpful"] == "1" and "about an hour" in row["quote"]


async def test_unknown_or_stale_button(send: Send, api: FakeBotApi) -> None:
    await send(callback_update("m:999:1"))
    assert "too old" in api.sent("answerCallbackQuery")[-1]["text"]
    await send(callback_update("garbage"))
    assert not api.sent()


async def test_follow_up_is_read_with_the_previous_question(send: Send, api: FakeBotApi) -> None:
    await send(message_update(QUESTION))
    await send(message_update("and what did Medinsky propose?"))
    follow = api.sent()[-1]["text"]
    check_telegram_html(follow)
    assert "Medinsky" in follow and "two to three days" in follow


async def test_reply_to_an_answer_asks_about_its_topic(send: Send, api: FakeBotApi) -> None:
    await send(message_update("How many bodies were exchanged?"))
    answer = api.sent()[-1]
    replied = {
        "message_id": 1000,
        "date": 0,
        "chat": {"id": 111, "type": "private"},
        "from": BOT_USER,
        "text": answer["text"],
    }
    await send(message_update("which outlets say 6,000?", reply_to=replied))
    assert "6,000" in api.sent()[-1]["text"]


async def test_groups_need_a_mention_a_reply_or_ask(send: Send, api: FakeBotApi) -> None:
    await send(message_update(QUESTION, chat_id=-5, chat_type="group"))
    assert not api.sent()
    await send(mention_update(QUESTION, chat_id=-5, chat_type="group"))
    await send(message_update(f"/ask {QUESTION}", chat_id=-5, chat_type="group"))
    replies = api.sent(chat_id=-5)
    assert len(replies) == 2 and all("about an hour" in r["text"] for r in replies)


async def test_ask_without_a_question_explains(send: Send, api: FakeBotApi) -> None:
    await send(message_update("/ask"))
    assert "/ask How long did the talks last?" in api.sent()[-1]["text"]


async def test_nothing_relevant_says_so(send: Send, api: FakeBotApi) -> None:
    await send(message_update("What is the boiling point of tungsten?"))
    text = api.sent()[-1]["text"]
    check_telegram_html(text)
    assert "No outlet in the index says anything about this" in text and "/sources" in text


@pytest.mark.parametrize(
    "hostile",
    [
        "<b>bold</b><script>alert(1)</script> & talks",
        "*bold* _it_ [link](http://x) `code` talks",
        "How long did the talks last? " * 400,  # over 10,000 characters
        "talks\x00\x01\x07\x1b[31m last",
        "🕊️🇺🇦🇷🇺 How long did the talks last? 👍🏽",
        "כמה זמן נמשכו השיחות؟ كم استغرقت المحادثات \u202e talks",
        "\u200b\u200b",
    ],
)
async def test_hostile_messages_get_well_formed_replies(send: Send, api: FakeBotApi, hostile: str) -> None:
    await send(message_update(hostile))
    (reply,) = api.sent()
    check_telegram_html(reply["text"])
    assert "<script>" not in reply["text"]


async def test_commands(send: Send, api: FakeBotApi) -> None:
    for command in ("/start", "/help", "/sources", "/about"):
        await send(message_update(command))
        check_telegram_html(api.sent()[-1]["text"])
    texts = [m["text"] for m in api.sent()]
    assert "/outlets" in texts[0] and "5 outlets in the index" in texts[2]
    assert "5 articles from 5 outlets" in texts[3] and "hybrid" in texts[3]
    await send(message_update("/since 2025-06-01"))
    assert "on or after 2025-06-01" in api.sent()[-1]["text"]
    await send(message_update(QUESTION))
    assert "End After Just One Hour" in api.sent()[-1]["text"]  # only the dated seed remains
    await send(message_update("/since off"))
    await send(message_update("/until yesterday"))
    assert "YYYY-MM-DD" in api.sent()[-1]["text"]


async def test_outlets_menu_restricts_the_search(send: Send, api: FakeBotApi) -> None:
    await send(message_update("/outlets"))
    menu = api.sent()[-1]
    data = buttons(menu)
    assert data[-1] == "o:all" and len(data) == 6
    labels = [b["text"] for row in menu["reply_markup"]["inline_keyboard"] for b in row]
    stalemate = data[next(i for i, label in enumerate(labels) if "Stalemate" in label)]
    await send(callback_update(stalemate))
    assert api.sent("editMessageReplyMarkup")
    await send(message_update(QUESTION))
    text = api.sent()[-1]["text"]
    assert "Stalemate" in text and "In the backdrop" not in text
    await send(callback_update("o:all"))
    await send(message_update(QUESTION))
    assert "In the backdrop" in api.sent()[-1]["text"]


@pytest.mark.parametrize("telegram_options", [{"allowed_ids": [7]}])
async def test_allowlist_refuses_once_and_tells_nothing(send: Send, api: FakeBotApi) -> None:
    await send(message_update(QUESTION))
    await send(message_update("/sources"))
    await send(callback_update("m:1:1"))
    (refusal,) = api.sent()
    assert "only the people its owner lets in" in refusal["text"]
    await send(message_update(QUESTION, chat_id=7, user_id=7))
    assert "about an hour" in api.sent(chat_id=7)[-1]["text"]


@pytest.mark.parametrize("telegram_options", [{"flood_messages": 3, "flood_seconds": 600}])
async def test_a_flooding_user_is_throttled_without_affecting_others(send: Send, api: FakeBotApi) -> None:
    for _ in range(6):
        await send(message_update("Where were the talks held?", user_id=111))
    mine = [m["text"] for m in api.sent(chat_id=111)]
    assert len(mine) == 4 and "please wait" in mine[-1]
    await send(message_update("Where were the talks held?", chat_id=222, user_id=222))
    assert "Ciragan" in api.sent(chat_id=222)[-1]["text"]


@pytest.mark.parametrize("telegram_options", [{"admin_ids": [9]}])
async def test_reload_is_for_admins(send: Send, api: FakeBotApi) -> None:
    await send(message_update("/reload"))
    assert "Only the bot's admins" in api.sent()[-1]["text"]
    await send(message_update("/reload", chat_id=9, user_id=9))
    assert "Still serving index v-" in api.sent(chat_id=9)[-1]["text"]


async def test_errors_reach_the_handler_and_the_user(
    send: Send,
    api: FakeBotApi,
    monkeypatch: pytest.MonkeyPatch,
    retriever: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(retriever, "ask", broken)
    await send(message_update(QUESTION))
    assert "something went wrong" in api.sent()[-1]["text"]
    assert "disk on fire" in caplog.text
    monkeypatch.undo()
    await send(message_update(QUESTION))
    assert "about an hour" in api.sent()[-1]["text"]


async def test_chosen_outlets_survive_a_restart(api: FakeBotApi, retriever: Any, tmp_path: Path) -> None:
    from telegram import Update

    from bot import build_application
    from tests.bot.conftest import bot_settings
    from tests.bot.fake_bot_api import RecordingRequest

    async def session(*updates: dict[str, Any]) -> None:
        app = build_application(bot_settings(tmp_path), retriever, request=RecordingRequest(api))
        await app.initialize()
        for number, update in enumerate(updates, start=1):
            await app.process_update(Update.de_json({"update_id": number, **update}, app.bot))
        await app.update_persistence()
        await app.shutdown()

    await session(message_update("/outlets"))
    menu = api.sent()[-1]["reply_markup"]["inline_keyboard"]
    stalemate = next(b["callback_data"] for row in menu for b in row if "Stalemate" in b["text"])
    await session(callback_update(stalemate))
    await session(message_update(QUESTION))  # a new application: the choice came back from disk
    text = api.sent()[-1]["text"]
    assert "Stalemate" in text and "In the backdrop" not in text


async def test_a_quick_answer_goes_out_without_a_typing_indicator(
    send: Send, api: FakeBotApi, retriever: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    retriever.warm_up()  # the first answer of a process loads the model
    retriever.ask(QUESTION)
    monkeypatch.setattr(bot._handlers, "TYPING_AFTER", 5.0)  # ample for a slow machine
    await send(message_update(QUESTION))
    assert api.sent("sendChatAction") == [] and len(api.sent()) == 1


def _answers_slowly(
    monkeypatch: pytest.MonkeyPatch, retriever: Any, answer: Callable[..., Any] | None = None
) -> None:
    """The retriever takes 0.2 s to answer (by ``answer``, else as it does), and the typing
    indicator is due after 0.05 s."""
    monkeypatch.setattr(bot._handlers, "TYPING_AFTER", 0.05)
    ask = answer or retriever.ask

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.2)
        return ask(*args, **kwargs)

    monkeypatch.setattr(retriever, "ask", slow)


def _typing_kept_waiting(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The typing indicator waits for its turn in the rate limiter until given up; the event is
    set when it is."""
    given_up = asyncio.Event()

    async def waiting_its_turn(*_: Any) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            given_up.set()
            raise

    monkeypatch.setattr(bot._handlers, "_show_typing", waiting_its_turn)
    return given_up


async def test_a_slow_answer_shows_typing_first_and_only_first(
    send: Send, api: FakeBotApi, retriever: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answers_slowly(monkeypatch, retriever)
    await send(message_update(QUESTION))
    methods = [method for method, _ in api.calls if method in ("sendChatAction", "sendMessage")]
    assert methods == ["sendChatAction", "sendMessage"]
    assert api.sent("sendChatAction")[0]["action"] == "typing"


async def test_a_typing_indicator_still_waiting_is_not_sent_after_the_answer(
    send: Send, api: FakeBotApi, retriever: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under a burst the indicator may wait its turn behind other chats' messages; sent after the
    # answer, it would claim that another is coming.
    _answers_slowly(monkeypatch, retriever)
    given_up = _typing_kept_waiting(monkeypatch)
    await send(message_update(QUESTION))
    await asyncio.wait_for(given_up.wait(), 5)
    assert len(api.sent()) == 1


async def test_a_slow_question_that_fails_gives_up_its_typing_indicator_and_says_why(
    send: Send, api: FakeBotApi, retriever: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_: Any, **__: Any) -> Any:
        raise QuestionError("the question is empty")

    _answers_slowly(monkeypatch, retriever, refused)
    given_up = _typing_kept_waiting(monkeypatch)
    await send(message_update(QUESTION))
    await asyncio.wait_for(given_up.wait(), 5)
    (reply,) = api.sent()
    assert "the question is empty" in reply["text"]
