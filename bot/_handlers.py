"""Conversation handlers: questions, follow-ups, buttons and commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot._feedback import FeedbackStore
from bot._guard import Access, FloodGuard
from bot._render import (
    answer_messages,
    context_message,
    esc,
    more_message,
    sources_message,
)
from config import QuotedeskError, Settings
from retrieval import Answer, QuestionError, Retriever

_log = logging.getLogger("quotedesk.bot")

COMMANDS = (
    ("ask", "Ask a question: /ask How long did the talks last?"),
    ("sources", "Outlets in the index, with article counts and dates"),
    ("outlets", "Choose which outlets this chat searches"),
    ("since", "Only articles published on or after a date: /since 2025-06-01"),
    ("until", "Only articles published on or before a date: /until 2025-06-30"),
    ("about", "Index version, size, model and search mode"),
    ("help", "How to use this bot"),
)
HELP = (
    "Ask me a question about the news in my index and I answer with the sentences each outlet "
    "printed: quoted word for word, with its date and a link. Where outlets disagree on a number or "
    "a date, I say so first.\n\n"
    "In a private chat just write your question. In a group, mention me, reply to me, or use /ask.\n"
    "Follow up with “and …” or “what about …”, or reply to one of my answers.\n\n"
    + "\n".join(f"/{name} – {esc(text)}" for name, text in COMMANDS)
)
# A message starting like this continues the chat's previous question.
FOLLOW_UP = re.compile(r"^\s*(?:and|but|also|so|then|what about|how about)\b", re.I)
# Answers whose buttons still work, per chat; older ones ask the user to ask again.
REMEMBERED_ANSWERS = 20
# A follow-up chain keeps at most this much of the earlier questions as context.
CONTEXT_CHARS = 500
MAX_MENU_OUTLETS = 60
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# A send that fails on the network (a 5xx, a timeout, a dropped connection) is tried again this
# many times in all, waiting SEND_BACKOFF seconds, then twice that, and so on. 429s are the rate
# limiter's to retry.
SEND_ATTEMPTS = 5
SEND_BACKOFF = 0.5
# An answer ready within this many seconds goes out without a typing indicator first. Every request
# to a chat waits its turn in the rate limiter (Telegram's 30 a second), so when many chats asked at
# once the indicators had delayed the answers: 50 chats made 100 requests, and the last answer came
# 2.3 s after its question.
TYPING_AFTER = 1.0
T = TypeVar("T")


async def with_retry(send: Callable[[], Awaitable[T]]) -> T:
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await send()
        except BadRequest:  # our request is wrong; sending it again will not help
            raise
        except NetworkError:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            await asyncio.sleep(SEND_BACKOFF * 2**attempt)
    raise AssertionError("unreachable")


async def _show_typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    try:
        await with_retry(lambda: context.bot.send_chat_action(chat_id, ChatAction.TYPING))
    except TelegramError:  # the indicator is a courtesy; the answer still goes out
        _log.warning("could not show the typing indicator in chat %s", chat_id, exc_info=True)


class QuoteDeskBot:
    """Holds what the handlers share: the retriever, the feedback store, access and flood rules."""

    def __init__(self, retriever: Retriever, settings: Settings, feedback: FeedbackStore) -> None:
        self.retriever = retriever
        self.feedback = feedback
        telegram = settings.telegram
        self.access = Access(telegram.allowed_ids, telegram.admin_ids)
        self.flood = FloodGuard(telegram.flood_messages, telegram.flood_seconds)
        self._refused: set[int] = set()

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        for name, callback in (
            ("start", self.start),
            ("help", self.start),
            ("ask", self.ask),
            ("sources", self.sources),
            ("outlets", self.outlets),
            ("since", self.since),
            ("until", self.until),
            ("about", self.about),
            ("reload", self.reload),
        ):
            app.add_handler(CommandHandler(name, callback))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, self.on_text)
        )
        app.add_error_handler(self.on_error)

    # --- access ---------------------------------------------------------------------------------

    async def _admit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        user, chat = update.effective_user, update.effective_chat
        if self.access.admits(user.id if user else None, chat.id if chat else None):
            return True
        if update.callback_query is not None:
            await with_retry(update.callback_query.answer)
        if chat is not None and chat.id not in self._refused:
            self._refused.add(chat.id)
            refusal = "Sorry, this bot answers only the people its owner lets in."
            await with_retry(lambda: context.bot.send_message(chat.id, refusal))
        return False

    # --- questions ------------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or message.text is None:
            return
        text = message.text
        replied = message.reply_to_message
        to_bot = (
            replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id
        )
        if chat.type != ChatType.PRIVATE:
            mention = f"@{context.bot.username}".casefold() if context.bot.username else None
            mentioned = mention is not None and any(
                e.type == MessageEntityType.MENTION
                and text[e.offset : e.offset + e.length].casefold() == mention
                for e in message.entities
            )
            if not (mentioned or to_bot):
                return
            if mention:
                text = re.sub(re.escape(mention), " ", text, flags=re.I)
        if not await self._admit(update, context):
            return
        earlier = None
        if to_bot and replied is not None:
            earlier = _chat(context).get("asked_by_message", {}).get(replied.message_id)
        await self._answer(update, context, text, earlier)

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self._admit(update, context):
            return
        text = " ".join(context.args or [])
        if not text.strip():
            await _reply(update, "Ask like this: <code>/ask How long did the talks last?</code>")
            return
        await self._answer(update, context, text, None)

    async def _answer(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, earlier: str | None
    ) -> None:
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        assert message is not None and chat is not None
        allowed, warn, wait = self.flood.check(user.id if user else chat.id)
        if not allowed:
            if warn:
                await _reply(
                    update, f"You are asking faster than I can answer; please wait {math.ceil(wait)} s."
                )
            return
        state = _chat(context)
        if earlier is None and FOLLOW_UP.match(text):
            earlier = state.get("last_question")
        asking = asyncio.ensure_future(
            asyncio.to_thread(
                self.retriever.ask,
                text,
                outlets=state.get("outlets") or None,
                since=state.get("since"),
                until=state.get("until"),
                context=earlier,
            )
        )
        try:
            try:
                answer = await asyncio.wait_for(asyncio.shield(asking), TYPING_AFTER)
            except TimeoutError:
                typing = asyncio.create_task(_show_typing(context, chat.id))
                try:
                    answer = await asking
                finally:
                    # Sent after the reply, the indicator would claim for seconds that another is coming.
                    typing.cancel()
        except QuestionError as exc:
            await _reply(update, esc(str(exc)))
            return
        except QuotedeskError as exc:  # e.g. a chosen outlet that a rebuilt index no longer has
            await _reply(update, f"{esc(str(exc))}\nUse /outlets to choose again.")
            return
        asked = f"{earlier} {text}"[-CONTEXT_CHARS:] if earlier else text
        state["last_question"] = asked
        answer_id = _remember(state, answer, asked)
        for part in answer_messages(answer, answer_id):
            sent = await with_retry(
                lambda part=part: message.reply_text(  # type: ignore[misc]
                    part.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=part.markup,
                    link_preview_options=_NO_PREVIEW,
                    do_quote=chat.type != ChatType.PRIVATE,
                )
            )
            by_message = state.setdefault("asked_by_message", {})
            by_message[sent.message_id] = asked
            while len(by_message) > REMEMBERED_ANSWERS * 4:
                by_message.pop(next(iter(by_message)))

    # --- buttons --------------------------------------------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not await self._admit(update, context):
            return
        kind, _, rest = (query.data or "").partition(":")
        if kind == "o":
            await self._toggle_outlet(update, context, rest)
            return
        parts = rest.split(":")
        stored = _chat(context).get("answers", {}).get(parts[0])
        try:
            outlet = stored["outlets"][int(parts[1]) - 1] if stored else None
        except (ValueError, IndexError):
            outlet = None
        if stored is None or outlet is None:
            await with_retry(
                lambda: query.answer("That answer is too old for its buttons; please ask again.")
            )
            return
        number = int(parts[1])
        first = outlet["quotes"][0]
        chat = update.effective_chat
        assert chat is not None
        if kind == "f" and len(parts) == 3:
            user = update.effective_user
            await asyncio.to_thread(
                self.feedback.record,
                chat_id=chat.id,
                user_id=user.id if user else None,
                question=stored["question"],
                outlet=outlet["outlet"],
                doc_id=first["doc_id"],
                quote=first["text"],
                helpful=parts[2] == "1",
            )
            await with_retry(lambda: query.answer("Thanks, noted."))
            return
        await with_retry(query.answer)
        if kind == "c":
            found = await asyncio.to_thread(
                self.retriever.context, first["doc_id"], first["start"], first["end"]
            )
            text = context_message(number, found)
        elif kind == "m":
            passages = await asyncio.to_thread(
                self.retriever.search, stored["question"], 8, outlets=[outlet["outlet"]]
            )
            quoted = [(q["doc_id"], q["start"], q["end"]) for q in outlet["quotes"]]
            fresh = [
                p
                for p in passages
                if not any(d == p.doc_id and s < p.end and p.start < e for d, s, e in quoted)
            ]
            text = more_message(number, outlet["outlet"], fresh[:2])
        else:
            return
        await with_retry(
            lambda: context.bot.send_message(
                chat.id, text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
            )
        )

    # --- commands -------------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._admit(update, context):
            await _reply(update, HELP)

    async def sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self._admit(update, context):
            await _reply(update, sources_message(await asyncio.to_thread(self.retriever.outlets)))

    async def about(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self._admit(update, context):
            return
        stats = await asyncio.to_thread(self.retriever.stats)
        dates = stats["dates"]
        span = (
            f"{dates['first']} – {dates['last']}"
            if isinstance(dates, dict) and dates.get("first")
            else "undated"
        )
        await _reply(
            update,
            f"ℹ️ <b>Index</b> {esc(str(stats['version']))}\n"
            f"{stats['articles']} articles from {stats['outlets']} outlets, "
            f"{stats['passages']} passages, {span}\n"
            f"Model: {esc(str(stats['model'] or 'none (BM25 only)'))}\nSearch mode: {stats['answer_mode']}",
        )

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self._admit(update, context):
            return
        user = update.effective_user
        if not self.access.is_admin(user.id if user else None):
            await _reply(update, "Only the bot's admins may /reload.")
            return
        switched = await asyncio.to_thread(self.retriever.refresh)
        version = self.retriever.reader.version
        await _reply(update, f"{'Switched to' if switched else 'Still serving'} index {esc(version)}.")

    async def since(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._date_limit(update, context, "since", "on or after")

    async def until(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._date_limit(update, context, "until", "on or before")

    async def _date_limit(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, key: str, words: str
    ) -> None:
        if not await self._admit(update, context):
            return
        state = _chat(context)
        value = " ".join(context.args or []).strip()
        if value.lower() in ("", "off", "clear", "none"):
            state.pop(key, None)
            await _reply(update, f"No /{key} limit: articles of any date are searched.")
            return
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            await _reply(update, f"Give the date as YYYY-MM-DD, for example <code>/{key} 2025-06-01</code>.")
            return
        state[key] = day
        await _reply(
            update, f"Only articles published {words} {day.isoformat()}. <code>/{key} off</code> clears it."
        )

    async def outlets(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self._admit(update, context):
            return
        names = [s.outlet for s in await asyncio.to_thread(self.retriever.outlets)][:MAX_MENU_OUTLETS]
        state = _chat(context)
        state["outlet_menu"] = names
        await _reply(
            update, "Choose the outlets this chat searches (none chosen: all).", _outlet_keyboard(state)
        )

    async def _toggle_outlet(self, update: Update, context: ContextTypes.DEFAULT_TYPE, choice: str) -> None:
        query = update.callback_query
        assert query is not None
        state = _chat(context)
        menu: list[str] = state.get("outlet_menu", [])
        chosen: list[str] = list(state.get("outlets", []))
        if choice == "all":
            chosen = []
        else:
            try:
                name = menu[int(choice)]
            except (ValueError, IndexError):
                await with_retry(lambda: query.answer("That menu is out of date; send /outlets again."))
                return
            chosen = [n for n in chosen if n != name] if name in chosen else [*chosen, name]
        state["outlets"] = chosen
        searching = f"Searching {len(chosen) or 'all'} outlet{'s' if len(chosen) != 1 else ''}."
        await with_retry(lambda: query.answer(searching))
        await with_retry(lambda: query.edit_message_reply_markup(_outlet_keyboard(state)))

    # --- errors ---------------------------------------------------------------------------------

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        _log.error("error while handling an update", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                await context.bot.send_message(
                    update.effective_chat.id, "Sorry, something went wrong; please try again."
                )
            except Exception:  # the error may be the network itself; it is logged above
                _log.warning("could not tell the user about the error", exc_info=True)


def _chat(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    return context.chat_data if context.chat_data is not None else {}


def _remember(state: dict[str, Any], answer: Answer, asked: str) -> str:
    state["answer_counter"] = state.get("answer_counter", 0) + 1
    answer_id = str(state["answer_counter"])
    answers = state.setdefault("answers", {})
    answers[answer_id] = {
        "question": asked,
        "outlets": [
            {
                "outlet": o.outlet,
                "quotes": [q.model_dump(include={"doc_id", "start", "end", "text"}) for q in o.quotes],
            }
            for o in answer.outlets
        ],
    }
    while len(answers) > REMEMBERED_ANSWERS:
        answers.pop(next(iter(answers)))
    return answer_id


def _outlet_keyboard(state: dict[str, Any]) -> InlineKeyboardMarkup:
    chosen = set(state.get("outlets", []))
    rows = [
        [InlineKeyboardButton(f"{'✅' if name in chosen else '▫️'} {name[:40]}", callback_data=f"o:{i}")]
        for i, name in enumerate(state.get("outlet_menu", []))
    ]
    rows.append([InlineKeyboardButton("All outlets", callback_data="o:all")])
    return InlineKeyboardMarkup(rows)


async def _reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
    message = update.effective_message
    if message is None:
        return None
    return await with_retry(
        lambda: message.reply_text(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=_NO_PREVIEW,
            do_quote=False,
        )
    )
