"""The bot under a burst: 50 chats ask at once through a local fake Bot API; reply latency and losses.

    python bench/bot_load.py [--index DIR] [--queries MultiHopRAG.json] [--chats 50] [--json FILE]

The real ``quotedesk bot`` runs as its own process, long-polling the fake Bot API server the tests
use (tests/bot/fake_bot_api.py) on 127.0.0.1. All questions are queued at once; a chat's latency runs
from its question being queued to the bot's answer to it arriving at the server. Without
``--index`` the bundled corpus is indexed first; with ``--queries`` the questions are MultiHop-RAG's,
else questions about the bundled corpus.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for the tests' fake Bot API

from _results import write_json  # bench/ is on sys.path when a script in it runs

from config import load_settings
from index import build_index, embedder_for
from tests.bot.fake_bot_api import FakeBotApiServer, message_update
from tests.bot.test_e2e import _start_bot as start_bot
from tests.bot.test_e2e import _stop as stop_bot

SEED_QUESTIONS = [
    "How long did the talks last?",
    "Where were the talks held?",
    "What did Trump threaten?",
    "Who led the Ukrainian delegation?",
    "How many bodies were exchanged?",
]
# The bot's answer starts by repeating the question, which carries the chat's number.
ANSWER = re.compile(r"^❓ <b>.*#(\d+)</b>")
START_SECONDS = 120
REPLY_SECONDS = 300


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--queries", type=Path, default=None)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    questions = SEED_QUESTIONS
    if args.queries:
        questions = [q["query"] for q in json.loads(args.queries.read_text(encoding="utf-8"))]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        index = args.index or work / "built"
        if not args.index:
            settings = load_settings()
            build_index(settings, index_dir=index, embedder=embedder_for(settings.model))
        result = _run(work, index, [f"{questions[i % len(questions)]} #{i}" for i in range(args.chats)])
    for key, value in result.items():
        print(f"{key:24} {value}")
    write_json(args.json, result)


def _run(work: Path, index: Path, asked: list[str]) -> dict[str, object]:
    with FakeBotApiServer() as server:
        bot = start_bot(work, index, server)  # as the end-to-end tests start it, on a copy of the index
        try:
            server.api.wait_for("getUpdates", 1, timeout=START_SECONDS)
            queued = {}
            for chat, text in enumerate(asked, start=1):
                server.api.push(message_update(text, chat_id=chat, user_id=chat))
                queued[chat] = time.monotonic()
            answered: dict[int, float] = {}
            deadline = time.monotonic() + REPLY_SECONDS
            while len(answered) < len(asked) and time.monotonic() < deadline and bot.poll() is None:
                server.api.wait_for("sendMessage", len(answered) + 1, timeout=1)
                for reply in server.api.sent():
                    if ANSWER.match(reply["text"]):
                        answered.setdefault(int(reply["chat_id"]), reply["_at"])
        finally:
            stop_bot(bot, work)  # fails if the bot did not exit cleanly or logged a traceback
    latency = np.array([answered[c] - queued[c] for c in answered]) * 1000
    return {
        "chats": len(asked),
        "answered": len(answered),
        "lost": len(asked) - len(answered),
        "p50_ms": round(float(np.percentile(latency, 50)), 1) if latency.size else None,
        "p95_ms": round(float(np.percentile(latency, 95)), 1) if latency.size else None,
        "max_ms": round(float(latency.max()), 1) if latency.size else None,
        "mean_ms": round(statistics.fmean(latency), 1) if latency.size else None,
        "bot_exit_status": bot.returncode,
    }


if __name__ == "__main__":
    main()
