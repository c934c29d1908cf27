"""The one error hierarchy every quotedesk package raises from."""

from __future__ import annotations


class QuotedeskError(Exception):
    """Base of every error quotedesk raises on purpose; its message is meant for the user."""


class SettingsError(QuotedeskError):
    """A setting is missing or invalid; the message names it."""
