"""Rebuilds while 8 callers ask, and while the bot serves 8 chats: no errors, and every answer comes
from one whole index version."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from pathlib import Path
from typing import Any

from telegram import Update

from bot import build_application
from config import Settings
from index import BUNDLED_CORPUS, build_index
from retrieval import Retriever
from tests.bot.conftest import bot_settings
from tests.bot.fake_bot_api import FakeBotApi, RecordingRequest, message_update

CALLERS = 8
REBUILDS = 3
QUESTION = "How long did the meeting in the edition bulletin last?"
MARKER = re.compile(r"Edition (\d+) bulletin")


def _edition(folder: Path, k: int) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(BUNDLED_CORPUS, folder)
    for i in range(20):
        (folder / f"bulletin{i:02d}.txt").write_text(
            f"Edition {k} bulletin {i}\nEdition {k} bulletin number {i}: the meeting lasted {k} hours, "
            f"delegates said after the session in room {i}.\n",
            encoding="utf-8",
        )
    return folder


def _rebuilds(
    tmp_path: Path, settings: Settings, index: Path, embedder: Any, editions: dict[str, int]
) -> None:
    for k in range(2, 2 + REBUILDS):
        report = build_index(
            settings, sources=[_edition(tmp_path / "src", k)], index_dir=index, embedder=embedder
        )
        editions[report.version] = k


def test_library_callers_during_rebuilds(tmp_path: Path, settings: Settings, embedder: Any) -> None:
    index = tmp_path / "index"
    first = build_index(settings, sources=[_edition(tmp_path / "src", 1)], index_dir=index, embedder=embedder)
    editions = {first.version: 1}
    retriever = Retriever.load(index, settings=settings)
    done = threading.Event()
    errors: list[BaseException] = []
    answers: list[Any] = []

    def caller() -> None:
        while not done.is_set():
            try:
                answers.append(retriever.ask(QUESTION))
            except BaseException as exc:  # every failure counts
                errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    try:
        _rebuilds(tmp_path, settings, index, embedder, editions)
        retriever.ask(QUESTION)  # make sure the last version is picked up before stopping
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(answers) >= CALLERS
    seen_versions = set()
    for answer in answers:
        marks = {int(m) for o in answer.outlets for q in o.quotes for m in MARKER.findall(q.text)}
        assert marks <= {editions[answer.index_version]}, (answer.index_version, marks)
        seen_versions.add(answer.index_version)
    assert len(seen_versions) >= 2  # the callers really did cross a swap
    print(f"\nconcurrency: {len(answers)} answers from {len(seen_versions)} versions, {len(errors)} errors")


async def test_bot_serves_during_rebuilds(tmp_path: Path, settings: Settings, embedder: Any) -> None:
    index = tmp_path / "index"
    first = build_index(settings, sources=[_edition(tmp_path / "src", 1)], index_dir=index, embedder=embedder)
    editions = {first.version: 1}
    api = FakeBotApi()
    app = build_application(
        bot_settings(tmp_path), Retriever.load(index, settings=settings), request=RecordingRequest(api)
    )
    await app.initialize()
    rebuilding = asyncio.create_task(
        asyncio.to_thread(_rebuilds, tmp_path, settings, index, embedder, editions)
    )
    update_id = 0
    rounds = 0
    while not rebuilding.done() or rounds == 0:
        batch = []
        for chat in range(1, CALLERS + 1):
            update_id += 1
            data = {"update_id": update_id, **message_update(QUESTION, chat_id=chat, user_id=chat)}
            batch.append(app.process_update(Update.de_json(data, app.bot)))
        await asyncio.gather(*batch)
        rounds += 1
    await rebuilding
    await app.shutdown()
    for chat in range(1, CALLERS + 1):
        # An answer may span several messages; each starts with the question.
        answers: list[str] = []
        for reply in api.sent(chat_id=chat):
            assert "something went wrong" not in reply["text"]
            if reply["text"].startswith("❓"):
                answers.append("")
            answers[-1] += reply["text"]
        assert len(answers) == rounds
        for answer in answers:
            assert len(set(MARKER.findall(answer))) <= 1  # one edition per answer
