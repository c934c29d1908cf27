"""The real bot under load and faults: 100 users x 20 questions through a Bot API server that fails
on purpose (500s, 429 with retry_after, dropped connections, answers slower than the client waits).
No reply is lost, the bot recovers by itself, and a flooding user is throttled alone."""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from pathlib import Path

from tests.bot.fake_bot_api import FakeBotApiServer, Faults, message_update
from tests.bot.telegram_html import check_telegram_html
from tests.bot.test_e2e import _await, _start_bot, _stop

USERS = 100
MESSAGES = 20
FLOOD_LIMIT = 25
FLOODER = 99_999
QUESTIONS = [
    "Where were the talks held?",
    "What did Trump threaten?",
    "Who led the Ukrainian delegation?",
    "What were Russia's conditions for peace?",
    "What did the Ukrainian delegation hand over about children?",
]
ASKED = re.compile(r"^❓ <b>.*#(\d+)</b>")
RESULTS = os.environ.get("QUOTEDESK_LOAD_RESULTS")


def test_hundred_users_through_faults(tmp_path: Path, seed_index: Path) -> None:
    faults = Faults(error_500=0.03, retry_429=0.02, drop=0.02, slow=0.01, slow_seconds=2.5)
    with FakeBotApiServer(faults=faults) as server:
        process = _start_bot(
            tmp_path,
            seed_index,
            server,
            QUOTEDESK_TELEGRAM_REQUEST_TIMEOUT="1.5",
            QUOTEDESK_TELEGRAM_FLOOD_MESSAGES=str(FLOOD_LIMIT),
            QUOTEDESK_TELEGRAM_FLOOD_SECONDS="3600",
        )
        try:
            _await(server, process, "getUpdates", 1, 120)
            pushed: dict[tuple[int, int], float] = {}
            started = time.monotonic()
            for n in range(MESSAGES):
                for user in range(1, USERS + 1):
                    server.api.push(
                        message_update(
                            f"{QUESTIONS[(user + n) % len(QUESTIONS)]} #{n}", chat_id=user, user_id=user
                        )
                    )
                    pushed[(user, n)] = time.monotonic()
            for n in range(FLOOD_LIMIT * 2):
                server.api.push(message_update(f"{QUESTIONS[0]} #{n}", chat_id=FLOODER, user_id=FLOODER))
            first_reply: dict[tuple[int, int], float] = {}
            deadline = time.monotonic() + 600
            while len(first_reply) < USERS * MESSAGES and time.monotonic() < deadline:
                assert process.poll() is None, "the bot died"
                server.api.wait_for("sendMessage", len(first_reply) + 1, timeout=2)
                for reply in server.api.sent():
                    chat = int(reply["chat_id"])
                    match = ASKED.match(reply["text"])
                    if chat <= USERS and match:
                        first_reply.setdefault((chat, int(match.group(1))), reply["_at"])
            elapsed = time.monotonic() - started
            # The flooder's questions went in last; let its allowed answers and its notice arrive.
            flooder: list[str] = []
            while time.monotonic() < deadline and len(flooder) < FLOOD_LIMIT + 1:
                server.api.wait_for("sendMessage", 1, chat_id=FLOODER, timeout=1)
                flooder = [r["text"] for r in server.api.sent(chat_id=FLOODER)]
            time.sleep(3)  # anything more (a second notice, a 26th answer) would arrive now
            flooder = [r["text"] for r in server.api.sent(chat_id=FLOODER)]
        finally:
            _stop(process, tmp_path)
    missing = sorted(set(pushed) - set(first_reply))
    assert not missing, f"{len(missing)} questions never answered, e.g. {missing[:5]}"
    answered = {int(m.group(1)) for t in flooder if (m := ASKED.match(t))}
    # Updates are handled concurrently, so which 25 pass the guard is not fixed; that 25 do is.
    # The guard warns once; a send that timed out after the server took it is sent again (at least
    # once delivery, as for the answers above), so one notice may arrive twice, word for word.
    notices = [t for t in flooder if "please wait" in t]
    assert len(answered) == FLOOD_LIMIT and notices and len(set(notices)) == 1
    for reply in server.api.sent()[:200]:
        check_telegram_html(reply["text"])
    latencies = sorted(first_reply[key] - pushed[key] for key in pushed)
    summary = {
        "users": USERS,
        "messages_per_user": MESSAGES,
        "questions": len(pushed),
        "answered": len(first_reply),
        "lost": len(missing),
        "faults_injected": dict(faults.injected),
        "seconds": round(elapsed, 1),
        "p50_reply_s": round(statistics.median(latencies), 2),
        "p95_reply_s": round(latencies[int(0.95 * len(latencies)) - 1], 2),
        "flooder_answers": len(answered),
        "flooder_notices": len(set(notices)),
        "flooder_notice_deliveries": len(notices),
    }
    print(f"\nbot load: {summary}")
    if RESULTS:
        Path(RESULTS).write_text(json.dumps(summary), encoding="utf-8")
    assert sum(faults.injected.values()) > 50
