"""Errors raised by building, storing and opening indexes."""

from __future__ import annotations

from config import QuotedeskError


class IndexNotFoundError(QuotedeskError):
    """No index exists at the given directory."""


class IndexCorruptError(QuotedeskError):
    """An index file is missing, truncated or altered; the message names the file."""


class IndexMismatchError(QuotedeskError):
    """The index was built with another embedding model or format than the one configured."""


class BuildError(QuotedeskError):
    """A build could not produce an index (no readable article, no source, a busy index)."""


class ModelUnavailableError(QuotedeskError):
    """The embedding model could not be loaded; BM25 still works."""
