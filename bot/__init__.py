"""The Telegram front end: conversations that answer with quotes from each outlet."""

from bot._app import build_application, run_bot
from bot._feedback import FeedbackStore
from bot._render import answer_messages, visible_length

__all__ = ["FeedbackStore", "answer_messages", "build_application", "run_bot", "visible_length"]
