"""``quotedesk`` subcommands, built with Typer."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from config import Mode, QuotedeskError, Settings, SettingsError, load_settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Ask questions across news outlets; answers are verbatim quotes from each.",
)
index_app = typer.Typer(no_args_is_help=True, help="Build, update and inspect indexes.")
config_app = typer.Typer(no_args_is_help=True, help="Inspect the settings.")
feedback_app = typer.Typer(no_args_is_help=True, help="What users said of the bot's answers.")
eval_app = typer.Typer(no_args_is_help=True, help="Measure retrieval quality on benchmarks.")
app.add_typer(eval_app, name="eval")
app.add_typer(index_app, name="index")
app.add_typer(config_app, name="config")
app.add_typer(feedback_app, name="feedback")
model_app = typer.Typer(no_args_is_help=True, help="Prepare the embedding model.")
app.add_typer(model_app, name="model")

# Exit statuses: 1 an error, 2 bad settings or usage, 3 built but some input was skipped.
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3

IndexOption = Annotated[
    Path | None, typer.Option("--index", help="Index directory (default: the configured one).")
]
ModeOption = Annotated[str | None, typer.Option("--mode", help="hybrid, dense or bm25.")]


def _settings() -> Settings:
    return load_settings()


def _note(message: str) -> None:
    typer.echo(message, err=True)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    from index._dates import parse_date

    parsed = parse_date(value)
    if parsed is None:
        raise SettingsError(f"{option}: cannot read {value!r} as a date; use YYYY-MM-DD")
    return parsed


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    index: IndexOption = None,
    outlet: Annotated[
        list[str] | None, typer.Option("--outlet", help="Only these outlets (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only articles published on or after this date.")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles published on or before this date.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    mode: ModeOption = None,
) -> None:
    """Answer QUESTION with quotes from each outlet that addresses it."""
    from cli._render import render_answer
    from retrieval import Retriever

    settings = _settings()
    retriever = Retriever.load(index, settings=settings, progress=True, log=_note)
    answer = retriever.ask(
        question,
        outlets=outlet,
        since=_date(since, "--since"),
        until=_date(until, "--until"),
        mode=Mode.parse(mode) if mode else None,
    )
    if as_json:
        typer.echo(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_answer(answer))


@app.command()
def retrieve(
    queries: Annotated[Path, typer.Option("--queries", help='JSON Lines of {"id", "query"}.')],
    index: IndexOption = None,
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="Passages per query.")] = 10,
    mode: ModeOption = None,
) -> None:
    """Rank passages for a batch of queries; one JSON line out per query line in."""
    from retrieval import Retriever

    settings = _settings()
    chosen = Mode.parse(mode) if mode else None
    try:
        lines = queries.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuotedeskError(f"{queries}: cannot read ({exc})") from None
    retriever = Retriever.load(index, settings=settings, progress=True, log=_note)
    failures = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("query"), str):
                raise ValueError('expected {"id": ..., "query": "..."}')
            passages = retriever.search(record["query"], k=k, mode=chosen)
        except (ValueError, QuotedeskError) as exc:
            failures += 1
            _note(f"{queries}: line {number}: {exc}")
            continue
        results = [
            {"text": p.text, "doc_id": p.doc_id, "title": p.title, "outlet": p.outlet, "score": p.score}
            for p in passages
        ]
        typer.echo(
            json.dumps(
                {"id": record.get("id"), "query": record["query"], "results": results}, ensure_ascii=False
            )
        )
    if failures:
        raise typer.Exit(EXIT_ERROR)


SourceOption = Annotated[list[Path] | None, typer.Option("--source", help="File or directory (repeatable).")]


def _build(
    settings: Settings,
    sources: list[Path] | None,
    directory: Path,
    previous: Any,
    verb: str,
    echo: Any = typer.echo,
) -> None:
    """Build (or, with ``previous``, update) and report; exit 3 when input files were skipped."""
    from cli._render import render_build
    from index import Embedder, ModelUnavailableError, build_index, embedder_for

    model = embedder_for(settings.model)
    embedder: Embedder | None = model
    problem = None
    try:
        model.warm_up()
    except ModelUnavailableError as exc:
        embedder, problem = None, str(exc)
        _note(f"warning: {exc}; building a BM25-only index")
    report = build_index(
        settings,
        sources=sources or None,
        index_dir=directory,
        embedder=embedder,
        model_problem=problem,
        previous=previous,
        progress=True,
        log=_note,
    )
    echo(render_build(report, verb))
    if report.skipped:
        raise typer.Exit(EXIT_SKIPPED)


def _yield_to_answers(settings: Settings) -> None:
    """Lower the process's priority for the rest of its life: only for the commands that just build."""
    from index import lower_build_priority

    lowered = lower_build_priority(settings.index.build_priority)
    if lowered:
        _note(f"building at low priority, {lowered}, so that answers on this machine go first")


@index_app.command("build")
def index_build(source: SourceOption = None, index: IndexOption = None) -> None:
    """Build a new index from the sources and make it current."""
    settings = _settings()
    _yield_to_answers(settings)
    _build(settings, source, index or settings.index.dir, None, "built")


@index_app.command("update")
def index_update(source: SourceOption = None, index: IndexOption = None) -> None:
    """Embed only new or changed articles, drop removed ones, and make the result current."""
    from index import IndexNotFoundError, IndexReader

    settings = _settings()
    _yield_to_answers(settings)
    directory = index or settings.index.dir
    previous: IndexReader | None = None
    try:
        previous = IndexReader.open(directory, verify_checksums=settings.index.verify_checksums)
    except IndexNotFoundError:
        _note(f"no index at {directory} yet; building it in full")
    recorded = [Path(p) for p in previous.manifest.get("sources", [])] if previous else None
    _build(settings, source or recorded, directory, previous, "updated")


@model_app.command("export")
def model_export() -> None:
    """Export the model to ONNX with int8 weights, for QUOTEDESK_MODEL_BACKEND=onnx-int8."""
    from index import export_onnx_int8

    settings = _settings()
    target = settings.model.onnx_dir
    _note(f"exporting {settings.model.name} to {target} ...")
    info = export_onnx_int8(settings.model, target)
    typer.echo(
        f"exported {info['model']} to {target}; use it with QUOTEDESK_MODEL_BACKEND=onnx-int8 "
        "(indexes built with either backend answer with either)"
    )


@index_app.command("stats")
def index_stats_command(
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Articles, outlets, passages, dates, model and size of an index."""
    from cli._render import render_stats
    from index import IndexReader, index_stats

    settings = _settings()
    reader = IndexReader.open(index or settings.index.dir, verify_checksums=settings.index.verify_checksums)
    stats = index_stats(reader)
    typer.echo(json.dumps(stats, ensure_ascii=False, indent=2) if as_json else render_stats(stats))


@app.command("bot")
def bot_command() -> None:
    """Run the Telegram bot (long polling, or a webhook when QUOTEDESK_TELEGRAM_MODE=webhook)."""
    from bot import run_bot

    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("quotedesk").setLevel(logging.INFO)
    run_bot(_settings(), log=_note)


@feedback_app.command("export")
def feedback_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", help="File to write (default: stdout).")] = None,
) -> None:
    """Write the 👍/👎 feedback users gave, with question, outlet and quote."""
    from bot import FeedbackStore

    store = FeedbackStore(_settings().telegram.feedback_db)
    if fmt not in ("csv", "json"):
        raise SettingsError(f"--format: unknown format {fmt!r}; valid formats: csv, json")
    if output is None:
        count = store.export(sys.stdout, fmt)
    else:
        with output.open("w", encoding="utf-8", newline="") as handle:
            count = store.export(handle, fmt)
    _note(f"exported {count} feedback row(s)")


@eval_app.command("multihop")
def eval_multihop(
    queries: Annotated[Path, typer.Option("--queries", help="MultiHopRAG.json (the questions).")],
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="corpus.json; indexed first if --index is empty.")
    ] = None,
    index: IndexOption = None,
    split: Annotated[str, typer.Option("--split", help="dev (even positions), test (odd) or all.")] = "dev",
    mode: ModeOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N questions.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    answers: Annotated[
        bool,
        typer.Option("--answers", help="Also ask every question (null ones too) as a user would; slower."),
    ] = False,
) -> None:
    """MultiHop-RAG's retrieval protocol: Hits@10, Hits@4, MAP@10, MRR@10, beside the paper's best rows."""
    from tqdm import tqdm

    from index import IndexNotFoundError, IndexReader
    from retrieval import Retriever
    from retrieval._evaluation import as_table, dump, evaluate, load_questions

    settings = _settings()
    directory = index or settings.index.dir
    chosen = Mode.parse(mode) if mode else None
    if corpus is not None:
        try:
            IndexReader.open(directory, verify_checksums=False)
        except IndexNotFoundError:
            _build(settings, [corpus], directory, None, "built", echo=_note)
    questions = load_questions(queries, split)[:limit]
    retriever = Retriever.load(directory, settings=settings, log=_note)
    with tqdm(total=len(questions), desc=f"multihop {split}", unit="question", file=sys.stderr) as bar:

        def rank(query: str) -> list[str]:
            bar.update(1)
            return [p.text for p in retriever.search(query, k=10, mode=chosen)]

        report = evaluate(questions, rank, split)
    result = dump(report)
    if answers:
        from retrieval._evaluation import evaluate_answers

        everything = load_questions(queries, split, include_null=True)[:limit]
        with tqdm(total=len(everything), desc="asking", unit="question", file=sys.stderr) as bar:

            def ask(query: str) -> Any:
                bar.update(1)
                return retriever.ask(query, mode=chosen)

            result["answers"] = evaluate_answers(everything, ask).figures()
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(as_table(report))
        if answers:
            typer.echo("\n".join(f"{name}: {value:.4f}" for name, value in result["answers"].items()))


@eval_app.command("seeds")
def eval_seeds(
    index: IndexOption = None,
    mode: ModeOption = None,
) -> None:
    """The hand-written gold questions over the bundled seed corpus, per outlet."""
    from retrieval import Retriever
    from retrieval._evaluation import evaluate_seeds

    retriever = Retriever.load(index, settings=_settings(), progress=True, log=_note)
    chosen = Mode.parse(mode) if mode else None
    typer.echo(json.dumps(evaluate_seeds(lambda q: retriever.ask(q, mode=chosen)), indent=2))


@config_app.command("show")
def config_show() -> None:
    """The effective settings (environment, .env and defaults), secrets masked."""
    typer.echo(json.dumps(_settings().masked(), indent=2))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="quotedesk: %(message)s")
    try:
        app()
    except SettingsError as exc:
        _note(f"quotedesk: {exc}")
        sys.exit(EXIT_USAGE)
    except QuotedeskError as exc:
        _note(f"quotedesk: {exc}")
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        sys.exit(130)
