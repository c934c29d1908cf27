"""Building and running the Telegram application."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, PicklePersistence
from telegram.request import BaseRequest

from bot._feedback import FeedbackStore
from bot._handlers import COMMANDS, QuoteDeskBot
from config import BotMode, Settings, SettingsError
from retrieval import Retriever

# Retries after a 429 (Telegram's retry_after is honoured) before a send is given up.
RATE_LIMIT_RETRIES = 3
# Start-up calls are retried this often in polling mode, so a network blip while starting does not
# stop the bot. (Not in webhook mode: python-telegram-bot 22.8's retry there runs after its webhook
# server has left no running event loop, and crashes.)
BOOTSTRAP_RETRIES = 5


def bot_token(settings: Settings) -> str:
    token = settings.telegram.token
    if token is None or not token.get_secret_value().strip():
        raise SettingsError(
            "no Telegram bot token: set QUOTEDESK_TELEGRAM_TOKEN to the token @BotFather gave you"
        )
    return token.get_secret_value().strip()


class RedactToken(logging.Filter):
    """Removes the bot token from every log record (URLs of Bot API requests contain it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg, record.args = message.replace(self._token, "<token>"), None
        return True


def protect_logs(token: str) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
    # httpx logs every request URL, token included, at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def build_application(
    settings: Settings, retriever: Retriever, *, request: BaseRequest | None = None, persistence: bool = True
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The application with every handler registered; nothing is sent until it is initialised."""
    token = bot_token(settings)
    api = settings.telegram.api_url
    builder = (
        Application.builder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        # Each update runs in its own task, so one slow question never stalls other chats.
        .concurrent_updates(True)
        .post_init(_register_commands)
    )
    if persistence:
        settings.telegram.state_file.parent.mkdir(parents=True, exist_ok=True)
        builder = builder.persistence(PicklePersistence(filepath=settings.telegram.state_file))
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        timeout = settings.telegram.request_timeout
        builder = builder.read_timeout(timeout).write_timeout(timeout).connect_timeout(timeout)
    app = builder.build()
    QuoteDeskBot(retriever, settings, FeedbackStore(settings.telegram.feedback_db)).register(app)
    return app


async def _register_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.bot.set_my_commands([BotCommand(name, text[:256]) for name, text in COMMANDS])


_log = logging.getLogger("quotedesk.bot")


def run_bot(settings: Settings, *, log: Any = _log.info) -> None:
    """Load the index and model once, then serve until SIGINT or SIGTERM."""
    token = bot_token(settings)
    telegram = settings.telegram
    if telegram.mode is BotMode.WEBHOOK and not telegram.webhook_url:
        raise SettingsError(
            "webhook mode needs QUOTEDESK_TELEGRAM_WEBHOOK_URL, the public URL Telegram posts to"
        )
    protect_logs(token)
    retriever = Retriever.load(settings=settings, progress=True, log=log, gc_freeze=True)
    retriever.warm_up()
    app = build_application(settings, retriever)
    log(f"serving index {retriever.reader.version} ({telegram.mode.value})")
    if telegram.mode is BotMode.WEBHOOK:
        assert telegram.webhook_url is not None
        secret = telegram.webhook_secret.get_secret_value() if telegram.webhook_secret else None
        app.run_webhook(
            listen=telegram.webhook_listen,
            port=telegram.webhook_port,
            url_path=urlparse(telegram.webhook_url).path.lstrip("/"),
            webhook_url=telegram.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=BOOTSTRAP_RETRIES)
