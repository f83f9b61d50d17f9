"""The `behaviours` command: parses arguments, prints for people, calls the rest.

Every expected failure (bad file, missing column, missing model, bad config) is
an `InputError`: one line on stderr and exit code 2, never a traceback, and no
output file written.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.config import DEFAULT_PARAMS, PROJECT_ROOT, Params, load_params
from pipeline.data import LabelledRow, label_matrix, labelled_files, load_labelled, validate_files
from pipeline.encode import CachedEncoder, load_encoder
from pipeline.errors import InputError
from pipeline.evaluate import evaluation_report
from pipeline.io import read_table, table_format, write_table
from pipeline.model import load_model, save_model
from pipeline.split import make_test_split, partition, read_test_ids, write_test_ids
from pipeline.tagger import Tagger, TagResult
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.text import SentenceSplitter
from pipeline.train import fit_model, summarise

DEFAULT_LABELLED = PROJECT_ROOT / "labelled"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "default"
EMBEDDING_CACHE = PROJECT_ROOT / ".cache" / "embeddings.sqlite3"  # labelled texts only, never scored ones
TEST_IDS = "test_ids.txt"  # inside the labelled folder
OUTPUT_COLUMNS = ("behaviours", "evidence", "status")

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    help=(
        "Tag NHS and public-sector free text (exit surveys, appraisals, coaching notes, 360 feedback, "
        "staff-survey comments) with the thirteen behaviours of the System Leadership Behaviours "
        "Framework, with the sentences that are the evidence. Everything runs on this machine."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
labelled_app = typer.Typer(help="Check the labelled training data in labelled/.", no_args_is_help=True)
app.add_typer(labelled_app, name="labelled")

ModelOption = Annotated[Path, typer.Option("--model", help="Model folder made by `behaviours train`.")]
ParamsOption = Annotated[Path, typer.Option("--params", help="Parameters file (YAML).")]
LabelledOption = Annotated[Path, typer.Option("--labelled", help="Folder of labelled *.csv files.")]


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _load_tagger(model_dir: Path, params: Params, taxonomy: Taxonomy) -> Tagger:
    model = load_model(model_dir, taxonomy.ids)
    return Tagger(model, max_evidence=params.score.max_evidence_per_behaviour)


def _tag_rows(tagger: Tagger, rows: list[LabelledRow], chunk_size: int) -> np.ndarray:
    """Predicted multi-hot matrix for labelled rows, through the same path users score with."""
    index = {b: j for j, b in enumerate(tagger.model.behaviours)}
    predicted = np.zeros((len(rows), len(index)), dtype=np.int8)
    for start in range(0, len(rows), chunk_size):
        results = tagger.tag([r.text for r in rows[start : start + chunk_size]])
        for offset, result in enumerate(results):
            predicted[start + offset, [index[b] for b in result.behaviours]] = 1
    return predicted


# ---------------------------------------------------------------- labelled data


@labelled_app.command("validate")
def labelled_validate(
    files: Annotated[Optional[list[Path]], typer.Argument(help="Labelled CSV files (default: all in labelled/).")] = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
) -> None:
    """Check schema, behaviour ids, polarity alignment, empty texts and duplicates; exit 2 on any problem."""
    rows, problems = validate_files(files or labelled_files(labelled), load_taxonomy())
    for problem in problems:
        console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    if problems:
        err_console.print(f"{len(problems)} problem(s) in labelled data")
        raise typer.Exit(2)
    console.print(f"{len(rows)} labelled rows, no problems")


@app.command()
def split(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing split.")] = False,
) -> None:
    """Choose the fixed test split (labelled/test_ids.txt) that training never sees."""
    params = load_params(params_file)
    target = labelled / TEST_IDS
    if target.exists() and not force:
        raise InputError(f"{target} exists: the test split is fixed (use --force to choose a new one)")
    rows = load_labelled(labelled_files(labelled), load_taxonomy())
    test_ids = make_test_split(rows, params.split)
    write_test_ids(test_ids, target)
    console.print(f"{len(test_ids)} of {len(rows)} rows held out for testing → {target}")


# ---------------------------------------------------------------- training and evaluation


def _print_report(report: dict, taxonomy: Taxonomy, title: str) -> None:
    table = Table(title=title)
    for column in ("behaviour", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "behaviour" else "right")
    for behaviour_id, m in report["per_behaviour"].items():
        table.add_row(
            taxonomy[behaviour_id].name, f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}", str(m["support"])
        )
    console.print(table)
    console.print(_headline(report))
    if "per_register" in report:
        registers = Table(title="By register")
        for column in ("register", "texts", "macro F1", "micro F1", "no-behaviour left untagged"):
            registers.add_column(column, justify="left" if column == "register" else "right")
        for register, m in report["per_register"].items():
            untagged = "–" if m["none_untagged"] is None else f"{m['none_untagged']:.2f} of {m['none_texts']}"
            registers.add_row(register, str(m["texts"]), f"{m['macro_f1']:.3f}", f"{m['micro_f1']:.3f}", untagged)
        console.print(registers)


def _headline(report: dict) -> str:
    def fmt(value):
        return "–" if value is None else f"{value:.3f}"

    return (
        f"texts {report['texts']}  macro-F1 {fmt(report['macro_f1'])}  micro-F1 {fmt(report['micro_f1'])}  "
        f"exact match {fmt(report['exact_match'])}\n"
        f"no-behaviour texts: {report['none_texts']}, left untagged {fmt(report['none_untagged'])}; "
        f"texts left untagged that truly show none {fmt(report['none_precision'])}"
    )


@app.command()
def train(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    model_dir: Annotated[Path, typer.Option("--model-dir", help="Where to write the model folder.")] = DEFAULT_MODEL,
    cache: Annotated[
        Path, typer.Option("--embedding-cache", help="Cache of labelled texts' vectors (SQLite).")
    ] = EMBEDDING_CACHE,
) -> None:
    """Train on labelled/ (minus the test split), tune thresholds, evaluate on the test split, save the model."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    rows = load_labelled(labelled_files(labelled), taxonomy)
    train_rows, test_rows = partition(rows, read_test_ids(labelled / TEST_IDS))
    console.print(f"training on {len(train_rows)} rows; {len(test_rows)} held out for testing")
    encoder = CachedEncoder(load_encoder(params.encoder), cache)
    splitter = SentenceSplitter(params.text)
    model, cv_figures = fit_model(train_rows, params, taxonomy, encoder, splitter)
    console.print("cross-validated on the training rows: " + _headline(cv_figures))
    if test_rows:
        tagger = Tagger(model, encoder=encoder, splitter=splitter)
        predicted = _tag_rows(tagger, test_rows, params.score.chunk_size)
        report = evaluation_report(label_matrix(test_rows, taxonomy), predicted, [r.register for r in test_rows], taxonomy)
        model.card["evaluation"]["test"] = summarise(report)
        _print_report(report, taxonomy, "Held-out test split")
    save_model(model, model_dir)
    console.print(f"model saved to {model_dir} ({encoder.encoded} pieces encoded, the rest from the embedding cache)")


@app.command()
def evaluate(
    files: Annotated[
        Optional[list[Path]], typer.Argument(help="Labelled CSV files to evaluate on (default: the test split).")
    ] = None,
    model_dir: ModelOption = DEFAULT_MODEL,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Per-behaviour precision/recall/F1, micro and macro F1, exact match and no-behaviour figures."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    if files:
        rows = load_labelled(files, taxonomy)
    else:
        _, rows = partition(load_labelled(labelled_files(labelled), taxonomy), read_test_ids(labelled / TEST_IDS))
        if not rows:
            raise InputError(f"no test split in {labelled / TEST_IDS} (run `behaviours split`)")
    tagger = _load_tagger(model_dir, params, taxonomy)
    predicted = _tag_rows(tagger, rows, params.score.chunk_size)
    report = evaluation_report(label_matrix(rows, taxonomy), predicted, [r.register for r in rows], taxonomy)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report, taxonomy, "Evaluation on " + (", ".join(map(str, files)) if files else "the test split"))


# ---------------------------------------------------------------- tagging and scoring


@app.command()
def tag(
    text: Annotated[Optional[str], typer.Argument(help="The text to tag (or use --file).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="A UTF-8 text file to tag.")] = None,
    model_dir: ModelOption = DEFAULT_MODEL,
    params_file: ParamsOption = DEFAULT_PARAMS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Tag one text: each behaviour found, its score and the sentences that are the evidence."""
    if (text is None) == (file is None):
        raise InputError("give either a text or --file, not both or neither")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{file}: file not found") from None
        except UnicodeDecodeError:
            raise InputError(f"{file}: not UTF-8 text") from None
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    result = _load_tagger(model_dir, params, taxonomy).tag([text])[0]
    if as_json:
        print(json.dumps(result.__dict__, indent=2, ensure_ascii=False))
    else:
        _print_tag_result(result, taxonomy)


def _print_tag_result(result: TagResult, taxonomy: Taxonomy) -> None:
    if result.status == "empty":
        console.print("The text is empty: nothing to tag.")
        return
    if not result.behaviours:
        best = max(result.scores, key=result.scores.get)
        console.print(
            "No behaviour from the framework found in this text "
            f"(closest: {taxonomy[best].name}, score {result.scores[best]:.2f}; tags need 0.50)."
        )
        return
    for behaviour_id in result.behaviours:
        behaviour = taxonomy[behaviour_id]
        console.print(
            f"[bold]{behaviour.name}[/bold] ({behaviour.theme.name})  score {result.scores[behaviour_id]:.2f}",
            highlight=False,
        )
        for item in result.evidence:
            if item["behaviour"] == behaviour_id:
                console.print(f"    “{item['sentence']}”  ({item['score']:.2f})", markup=False, highlight=False)


def _result_columns(results: list[TagResult], ids: tuple[str, ...]) -> dict[str, list]:
    columns: dict[str, list] = {"behaviours": [";".join(r.behaviours) for r in results]}
    for behaviour_id in ids:
        columns[f"score_{behaviour_id}"] = [r.scores.get(behaviour_id) for r in results]
    columns["evidence"] = [json.dumps(r.evidence, ensure_ascii=False) for r in results]
    columns["status"] = [r.status for r in results]
    return columns


@app.command()
def score(
    input_file: Annotated[Path, typer.Argument(help="CSV, Excel (.xlsx), JSON Lines or Parquet file.", metavar="INPUT")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file; its extension sets the format.")],
    text_column: Annotated[str, typer.Option("--text-column", "-c", help="The column holding the free text.")],
    model_dir: ModelOption = DEFAULT_MODEL,
    params_file: ParamsOption = DEFAULT_PARAMS,
    encoding: Annotated[str, typer.Option("--encoding", help="Text encoding of a CSV input.")] = "utf-8",
) -> None:
    """Score every row of a file: keeps all input columns, adds behaviours, score_<id>, evidence and status."""
    table_format(output)  # fail before any work if the output type is unknown
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    frame = read_table(input_file, encoding=encoding)
    if text_column not in frame.columns:
        raise InputError(f"{input_file}: no column {text_column!r}; columns are: {', '.join(map(str, frame.columns))}")
    reserved = set(OUTPUT_COLUMNS) | {f"score_{b}" for b in taxonomy.ids}
    clashes = [c for c in frame.columns if c in reserved]
    if clashes:
        raise InputError(f"{input_file}: already has output column(s) {', '.join(clashes)} (was it scored before?)")
    tagger = _load_tagger(model_dir, params, taxonomy)
    texts = frame[text_column].tolist()
    results: list[TagResult] = []
    chunk = params.score.chunk_size
    with Progress(
        TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err_console, transient=True, disable=len(texts) <= chunk,
    ) as progress:
        task = progress.add_task("score", total=len(texts))
        for start in range(0, len(texts), chunk):
            results += tagger.tag(texts[start : start + chunk])
            progress.update(task, advance=min(chunk, len(texts) - start))
    scored = pd.concat([frame, pd.DataFrame(_result_columns(results, taxonomy.ids), index=frame.index)], axis=1)
    write_table(scored, output)
    _print_summary(results, taxonomy, output)


def _print_summary(results: list[TagResult], taxonomy: Taxonomy, output: Path) -> None:
    statuses = Counter(r.status for r in results)
    scored = [r for r in results if r.status == "ok"]
    counts = Counter(b for r in scored for b in r.behaviours)
    table = Table(title=f"{len(results)} rows scored → {output}")
    for column in ("theme", "behaviour", "rows", "share of answered"):
        table.add_column(column, justify="right" if column in ("rows", "share of answered") else "left")
    for behaviour in taxonomy.behaviours:
        share = counts[behaviour.id] / len(scored) if scored else 0.0
        table.add_row(behaviour.theme.name, behaviour.name, str(counts[behaviour.id]), f"{share:.0%}")
    console.print(table)
    untagged = sum(1 for r in scored if not r.behaviours)
    console.print(
        f"answered: {len(scored)}; with no behaviour: {untagged}; empty: {statuses.get('empty', 0)}",
        highlight=False,
    )


def main() -> None:
    """Console-script entry point: one line and exit 2 for expected errors."""
    try:
        app()
    except InputError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
