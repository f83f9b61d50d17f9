"""The `behaviours` Typer app, its shared options and defaults, and what several commands print.

Every command module (`pipeline/cli/<group>.py`) registers its commands on `app` (or
`labelled_app`); a command parses its options, calls one importable function and
prints the result.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from pipeline.config import PROJECT_ROOT
from pipeline.data.rows import Problem
from pipeline.model.backend import BACKENDS
from pipeline.report.summary import ReportSummary
from pipeline.taxonomy import Taxonomy

DEFAULT_LABELLED = PROJECT_ROOT / "labelled"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "default"
EMBEDDING_CACHE = PROJECT_ROOT / ".cache" / "embeddings.sqlite3"  # labelled texts only, never scored ones

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
labelled_app = typer.Typer(
    help="The labelled training data in labelled/: validate, add, stats, export, check, suggest, to-tool.", no_args_is_help=True
)
app.add_typer(labelled_app, name="labelled")

ModelOption = Annotated[Path, typer.Option("--model", help="Model folder made by `behaviours train`.")]
ParamsOption = Annotated[Path, typer.Option("--params", help="Parameters file (YAML).")]
LabelledOption = Annotated[Path, typer.Option("--labelled", help="Folder of labelled *.csv files.")]
BackendOption = Annotated[
    Optional[str],
    typer.Option("--backend", help=f"Encoder backend: {' | '.join(BACKENDS)} (default: backend.name in params)."),
]
BackendModelOption = Annotated[
    Optional[Path],
    typer.Option("--model", help="Model folder (default: models/default, or models/static with --backend static)."),
]
InputArgument = Annotated[
    Path, typer.Argument(help="CSV, Excel (.xlsx), JSON Lines or Parquet file.", metavar="INPUT")
]
OutputOption = Annotated[Path, typer.Option("--output", "-o", help="Output file; its extension sets the format.")]
EncodingOption = Annotated[
    Optional[str],
    typer.Option("--encoding", help="Text encoding of a CSV or JSON Lines input (default: detected; e.g. cp1252)."),
]
SheetOption = Annotated[Optional[str], typer.Option("--sheet", help="The sheet of an Excel workbook (default: the first).")]
AllowFormulasOption = Annotated[
    bool,
    typer.Option(
        "--allow-formulas",
        help="Keep CSV/xlsx cells that start with = + - @ as they are (by default an apostrophe stops Excel "
        "running them; xlsx cells are text either way).",
    ),
]
CacheOption = Annotated[Path, typer.Option("--embedding-cache", help="Cache of labelled texts' vectors (SQLite).")]
TrackOption = Annotated[
    bool, typer.Option("--track/--no-track", help="Log the run to MLflow (experiments/, or MLFLOW_TRACKING_URI).")
]


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def print_problems(problems: list[Problem]) -> None:
    """Each problem on its own line, file:line first."""
    for problem in problems:
        console.print(str(problem), markup=False, highlight=False, soft_wrap=True)


def print_figures(figures: dict, taxonomy: Taxonomy, title: str) -> None:
    """Evaluation figures as tables: per behaviour, the headline, per register and polarity when present."""
    table = Table(title=title)
    for column in ("behaviour", "precision", "recall", "F1", "90% interval", "support"):
        table.add_column(column, justify="left" if column == "behaviour" else "right")
    for behaviour_id, m in figures["per_behaviour"].items():
        table.add_row(
            taxonomy[behaviour_id].name, f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}",
            interval_text(m.get("f1_interval_90"), 2), str(m["support"]),
        )
    console.print(table)
    console.print(headline(figures))
    if "calibration" in figures:
        c = figures["calibration"]
        console.print(
            f"probabilities: expected calibration error {c['expected_calibration_error']:.3f} "
            f"(90% interval {interval_text(c['interval_90'])}) over {c['pairs']} (text, behaviour) pairs",
            highlight=False,
        )
    if "per_register" in figures:
        registers = Table(title="By register")
        for column in ("register", "texts", "macro F1", "90% interval", "micro F1", "no-behaviour left untagged"):
            registers.add_column(column, justify="left" if column == "register" else "right")
        for register, m in figures["per_register"].items():
            untagged = "–" if m["none_untagged"] is None else f"{m['none_untagged']:.2f} of {m['none_texts']}"
            registers.add_row(
                register, str(m["texts"]), f"{m['macro_f1']:.3f}", interval_text(m.get("macro_f1_interval_90")),
                f"{m['micro_f1']:.3f}", untagged,
            )
        console.print(registers)
    if "polarity" in figures:
        _print_polarity(figures["polarity"])


def _print_polarity(polarity: dict) -> None:
    def fmt(value):
        return "–" if value is None else f"{value:.3f}"

    table = Table(title="Strength or gap, on the labelled behaviours the tagger found")
    for column in ("register", "found of labelled", "accuracy", "90% interval", "macro F1 (+/-)"):
        table.add_column(column, justify="left" if column == "register" else "right")
    for name, m in [*polarity["per_register"].items(), ("all", polarity)]:
        table.add_row(
            name, f"{m['found']} of {m['pairs']}", fmt(m["accuracy"]), interval_text(m.get("accuracy_interval_90")), fmt(m["macro_f1"])
        )
    console.print(table)


def headline(figures: dict) -> str:
    """The headline figures in two lines."""

    def fmt(value):
        return "–" if value is None else f"{value:.3f}"

    interval = figures.get("macro_f1_interval_90")
    between = f" (90% interval {interval_text(interval)})" if interval else ""
    none_interval = figures.get("none_untagged_interval_90")
    none_between = f" (90% interval {interval_text(none_interval)})" if none_interval else ""
    return (
        f"texts {figures['texts']}  macro-F1 {fmt(figures['macro_f1'])}{between}  micro-F1 {fmt(figures['micro_f1'])}  "
        f"exact match {fmt(figures['exact_match'])}\n"
        f"no-behaviour texts: {figures['none_texts']}, left untagged {fmt(figures['none_untagged'])}{none_between}; "
        f"texts left untagged that truly show none {fmt(figures['none_precision'])}"
    )


def interval_text(interval: list[float] | None, digits: int = 3) -> str:
    """A 90% interval as `low–high` (– when there is none)."""
    return f"{interval[0]:.{digits}f}–{interval[1]:.{digits}f}" if interval else "–"


def print_report_written(summary: ReportSummary, output: Path, xlsx: Path | None) -> None:
    """Where the report went and how many responses it covers."""
    console.print(
        f"report → {output}" + (f", summary tables → {xlsx}" if xlsx else "")
        + f" ({summary.headline.answered} answered of {summary.headline.responses} responses)",
        highlight=False, soft_wrap=True,
    )
