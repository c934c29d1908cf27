"""The quotedesk command, run as a user runs it (a subprocess), on the seed index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.commands import QUOTEDESK


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [QUOTEDESK, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_ask_json_is_the_answer_contract(seed_index: Path) -> None:
    result = run("ask", "How long did the talks last?", "--index", str(seed_index), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answered"] and data["mode"] == "hybrid"
    assert {q["doc_id"][:3] for o in data["outlets"] for q in o["quotes"]} == {"000", "001", "003", "004"}


def test_ask_text_shows_discrepancy_first(seed_index: Path) -> None:
    result = run("ask", "How long did the talks last?", "--index", str(seed_index))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("Outlets disagree on the duration") < out.index("“In the backdrop")
    assert "“roughly 90-minute”: 1 outlet" in out


def test_first_ask_builds_the_default_index(tmp_path: Path) -> None:
    result = run("ask", "How long did the talks last?", env={"QUOTEDESK_INDEX_DIR": str(tmp_path / "fresh")})
    assert result.returncode == 0, result.stderr
    assert "building it from the bundled corpus" in result.stderr and "embedding" in result.stderr
    assert "about an hour" in result.stdout


def test_build_reports_skipped_files_and_exits_3(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "ok.txt").write_text("Headline\nSome body text.\n", encoding="utf-8")
    (source / "bad.json").write_text("[{", encoding="utf-8")
    result = run("index", "build", "--source", str(source), "--index", str(tmp_path / "idx"))
    assert result.returncode == 3, result.stderr
    assert "1 articles" in result.stdout and "bad.json: malformed JSON" in result.stdout
    stats = run("index", "stats", "--index", str(tmp_path / "idx"), "--json")
    assert json.loads(stats.stdout)["articles"] == 1


def test_update_and_stats(tmp_path: Path, seed_index: Path) -> None:
    target = tmp_path / "idx"
    shutil.copytree(seed_index, target)
    result = run("index", "update", "--index", str(target))
    assert result.returncode == 0, result.stderr
    assert "embedded 0 article(s), reused 5" in result.stdout
    assert "building at low priority, nice 19" in result.stderr
    stats = run("index", "stats", "--index", str(target))
    assert "articles: 5" in stats.stdout and "model: sentence-transformers/all-MiniLM-L6-v2" in stats.stdout


def test_retrieve_batch(tmp_path: Path, seed_index: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": 1, "query": "Ciragan Palace"}\n{"id": 2, "query": "drone attack"}\n', encoding="utf-8"
    )
    result = run(
        "retrieve", "--queries", str(queries), "--index", str(seed_index), "--k", "2", "--mode", "bm25"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == [1, 2]
    assert set(lines[0]["results"][0]) == {"text", "doc_id", "title", "outlet", "score"}
    assert "Ciragan" in lines[0]["results"][0]["text"]


@pytest.mark.parametrize(
    ("args", "env", "status", "message"),
    [
        (["ask", "talks", "--index", "/nonexistent/idx"], {}, 1, "no index at /nonexistent/idx"),
        (["ask", "talks", "--since", "not a date"], {}, 2, "--since: cannot read"),
        (["ask", "   "], {}, 1, "the question is empty"),
        (["config", "show"], {"QUOTEDESK_RETRIEVAL_CANDIDATES": "zero"}, 2, "QUOTEDESK_RETRIEVAL_CANDIDATES"),
        (["ask", "talks", "--mode", "fuzzy"], {}, 2, "valid values: hybrid, dense, bm25"),
    ],
)
def test_errors_are_clear_with_nonzero_exit(
    args: list[str], env: dict[str, str], status: int, message: str
) -> None:
    result = run(*args, env=env)
    assert result.returncode == status, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_index_names_the_file(tmp_path: Path, seed_index: Path) -> None:
    target = tmp_path / "idx"
    shutil.copytree(seed_index, target)
    victim = next(target.glob("v-*")) / "passages.npy"
    victim.write_bytes(victim.read_bytes()[:-8])
    result = run("ask", "talks", "--index", str(target))
    assert result.returncode == 1 and "passages.npy" in result.stderr and "rebuild" in result.stderr


def test_config_show_masks_the_token() -> None:
    result = run("config", "show", env={"QUOTEDESK_TELEGRAM_TOKEN": "123456:SECRET-TOKEN"})
    assert result.returncode == 0
    assert "SECRET-TOKEN" not in result.stdout and "**********" in result.stdout


def test_bot_without_token_names_the_setting() -> None:
    result = run("bot", env={"QUOTEDESK_TELEGRAM_TOKEN": ""})
    assert result.returncode == 2
    assert "QUOTEDESK_TELEGRAM_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_feedback_export(tmp_path: Path) -> None:
    from bot import FeedbackStore

    database = tmp_path / "fb.sqlite3"
    FeedbackStore(database).record(
        chat_id=1, user_id=2, question="Q?", outlet="O", doc_id="d", quote="“q”", helpful=False
    )
    env = {"QUOTEDESK_TELEGRAM_FEEDBACK_DB": str(database)}
    as_json = run("feedback", "export", "--format", "json", env=env)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)[0]["quote"] == "“q”"
    out = tmp_path / "fb.csv"
    assert run("feedback", "export", "--output", str(out), env=env).returncode == 0
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("id,at,chat_id")
    assert run("feedback", "export", "--format", "xml", env=env).returncode == 2


def test_eval_multihop_on_a_small_corpus(tmp_path: Path) -> None:
    articles = [
        {
            "title": f"Story {i}",
            "body": f"Paragraph about topic {i}.\nThe key fact number {i} is stated here.",
            "source": f"Outlet {i % 3}",
            "published_at": f"2023-10-0{i + 1}T00:00:00+00:00",
        }
        for i in range(6)
    ]
    questions = [
        {
            "query": f"What is key fact number {i}?",
            "question_type": "inference_query",
            "evidence_list": [{"fact": f"The key fact number {i} is stated here."}],
        }
        for i in range(6)
    ]
    questions.append({"query": "Unanswerable?", "question_type": "null_query", "evidence_list": []})
    (tmp_path / "corpus.json").write_text(json.dumps(articles), encoding="utf-8")
    (tmp_path / "q.json").write_text(json.dumps(questions), encoding="utf-8")
    result = run(
        "eval",
        "multihop",
        "--corpus",
        str(tmp_path / "corpus.json"),
        "--queries",
        str(tmp_path / "q.json"),
        "--index",
        str(tmp_path / "idx"),
        "--split",
        "all",
        "--mode",
        "bm25",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] == 6 and report["overall"]["hits@10"] == 1.0
    assert "paper: voyage-02 + bge-reranker-large" in report["paper"]


def test_eval_seeds(seed_index: Path) -> None:
    result = run("eval", "seeds", "--index", str(seed_index))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    found, expected = report["expected_quotes_found"].split("/")
    assert (
        found == expected
        and report["excluded_outlets_quoted"] == 0
        and report["unanswerable_declined"] == "2/2"
    )
