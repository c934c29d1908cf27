"""The ``quotedesk`` command: the top of the import graph (cli -> retrieval -> index -> config)."""

from cli._app import app, main

__all__ = ["app", "main"]
