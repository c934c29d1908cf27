"""SIGKILL during ``index build`` and ``index update`` at random moments: the last good index keeps
answering, readers never see a partial version, and the next build succeeds."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

from config import Settings
from index import BUNDLED_CORPUS, IndexReader, current_version_name
from retrieval import Retriever
from tests.commands import QUOTEDESK

BUILD_TRIALS = 24  # BM25-only builds: fast, so kills land in every phase
UPDATE_TRIALS = 8  # updates with the model: kills land while embedding and writing vectors
RESULTS = (
    Path(os.environ.get("QUOTEDESK_CRASH_RESULTS", "")) if os.environ.get("QUOTEDESK_CRASH_RESULTS") else None
)


def _corpus(folder: Path, edition: int, articles: int = 60) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(BUNDLED_CORPUS, folder)
    for i in range(articles):
        body = " ".join(
            f"Report {i} of edition {edition}: delegates met for {i % 7 + 1} hours in city {i}."
            for _ in range(12)
        )
        (folder / f"gen{i:03d}.txt").write_text(f"Generated story {i}\n{body}\n", encoding="utf-8")
    return folder


def _command(verb: str, source: Path, index: Path) -> list[str]:
    return [QUOTEDESK, "index", verb, "--source", str(source), "--index", str(index)]


def _run_and_kill(args: list[str], env: dict[str, str], after: float) -> bool:
    """Start, SIGKILL after ``after`` seconds; True if it was killed before finishing."""
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=after)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def _timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def _assert_serving(index: Path, settings: Settings, allowed: set[str]) -> str:
    version = current_version_name(index)
    assert version in allowed, f"CURRENT names {version}, not a completed build"
    reader = IndexReader.open(index)  # every file present, every checksum right
    assert reader.version == version
    answer = Retriever.load(index, settings=settings).ask("How long did the talks last?", mode="bm25")
    assert answer.answered and answer.index_version == version
    return version


def test_sigkill_at_random_moments(tmp_path: Path, settings: Settings) -> None:
    rng = random.Random(20261123)
    index = tmp_path / "index"
    source = _corpus(tmp_path / "src", 0)
    bm25_env = {**os.environ, "QUOTEDESK_MODEL_PATH": str(tmp_path / "no-model")}
    model_env = dict(os.environ)
    subprocess.run(_command("build", source, index), env=bm25_env, check=True, capture_output=True)
    completed = {current_version_name(index) or ""}
    build_seconds = _timed(_command("build", source, index), bm25_env)
    completed.add(current_version_name(index) or "")
    outcomes = {"trials": 0, "killed": 0, "finished_first": 0, "cli_checks": 0}

    for trial in range(BUILD_TRIALS + UPDATE_TRIALS):
        use_model = trial >= BUILD_TRIALS
        env = model_env if use_model else bm25_env
        if use_model and trial == BUILD_TRIALS:
            subprocess.run(_command("build", source, index), env=env, check=True, capture_output=True)
            completed.add(current_version_name(index) or "")
            build_seconds = _timed(_command("update", _corpus(source, trial), index), env)
            completed.add(current_version_name(index) or "")
        _corpus(source, trial + 1000)  # every trial changes the articles, so an update has work
        killed = _run_and_kill(
            _command("update" if use_model else "build", source, index),
            env,
            rng.uniform(0.1, 1.05) * build_seconds,
        )
        outcomes["trials"] += 1
        outcomes["killed" if killed else "finished_first"] += 1
        if not killed:
            completed.add(current_version_name(index) or "")
        # A kill after the pointer was swapped leaves a complete new version current.
        now = current_version_name(index) or ""
        if now not in completed and (index / now / "manifest.json").is_file():
            completed.add(now)
        _assert_serving(index, settings, completed)
        if trial % 8 == 0:
            result = subprocess.run(
                [
                    QUOTEDESK,
                    "ask",
                    "How long did the talks last?",
                    "--index",
                    str(index),
                    "--mode",
                    "bm25",
                    "--json",
                ],
                env=bm25_env,
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0 and json.loads(result.stdout)["answered"], result.stderr
            outcomes["cli_checks"] += 1

    subprocess.run(_command("build", source, index), env=bm25_env, check=True, capture_output=True)
    assert not list(index.glob(".building-*")) and not list(index.glob("CURRENT.*.tmp"))
    _assert_serving(index, settings, {current_version_name(index) or ""})
    assert outcomes["trials"] >= 30 and outcomes["killed"] >= 20
    print(f"\ncrash trials: {outcomes}")
    if RESULTS is not None:
        RESULTS.write_text(json.dumps(outcomes), encoding="utf-8")
