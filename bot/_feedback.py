"""👍/👎 feedback in SQLite (standard library), exportable as CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, TextIO

from config import QuotedeskError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    user_id INTEGER,
    question TEXT NOT NULL,
    outlet TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    quote TEXT NOT NULL,
    helpful INTEGER NOT NULL
)
"""
COLUMNS = ("id", "at", "chat_id", "user_id", "question", "outlet", "doc_id", "quote", "helpful")


class FeedbackStore:
    """One SQLite file; opened per operation so any thread may record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute(_SCHEMA)
        return connection

    def record(
        self,
        *,
        chat_id: int,
        user_id: int | None,
        question: str,
        outlet: str,
        doc_id: str,
        quote: str,
        helpful: bool,
    ) -> None:
        row = (
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            chat_id,
            user_id,
            question,
            outlet,
            doc_id,
            quote,
            int(helpful),
        )
        with self._lock, self._connect() as connection:
            connection.execute(
                "INSERT INTO feedback (at, chat_id, user_id, question, outlet, doc_id, quote, helpful)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        try:
            with self._connect() as connection:
                cursor = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
                return [dict(zip(COLUMNS, row, strict=True)) for row in cursor]
        except sqlite3.DatabaseError as exc:
            raise QuotedeskError(f"{self.path}: not a readable feedback database ({exc})") from None

    def export(self, out: TextIO, fmt: str) -> int:
        """Write every row as ``csv`` or ``json``; returns how many."""
        rows = self.rows()
        if fmt == "json":
            json.dump(rows, out, ensure_ascii=False, indent=2)
            out.write("\n")
        elif fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        else:
            raise QuotedeskError(f"unknown export format {fmt!r}; valid formats: csv, json")
        return len(rows)
