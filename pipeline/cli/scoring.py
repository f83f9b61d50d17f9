"""`behaviours tag` (one text) and `behaviours score` (every row of a file)."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.batch.chunks import ScoreOptions
from pipeline.batch.partial import ProgressLines
from pipeline.batch.scoring import ScoreSummary, open_scoring, score_export
from pipeline.batch.spark import executor_backend, require_spark, score_on_spark
from pipeline.cli.app import (
    AllowFormulasOption,
    BackendModelOption,
    BackendOption,
    EncodingOption,
    InputArgument,
    OutputOption,
    ParamsOption,
    SheetOption,
    app,
    console,
    err_console,
    print_report_written,
)
from pipeline.config import DEFAULT_PARAMS, ScoreParams, load_params
from pipeline.errors import InputError
from pipeline.io.exports import MAX_CELL_CHARS
from pipeline.io.files import check_output, refuse_overwriting_inputs
from pipeline.redact.patterns import KINDS as IDENTIFIER_KINDS
from pipeline.report.board import check_report_files, min_group_size, write_board_report
from pipeline.report.drift import read_drift
from pipeline.report.summary import model_figures, read_card
from pipeline.tagger import TagResult, load_tagger
from pipeline.taxonomy import Taxonomy, load_taxonomy


@app.command()
def tag(
    text: Annotated[Optional[str], typer.Argument(help="The text to tag (or use --file).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="A UTF-8 text file to tag.")] = None,
    model_dir: BackendModelOption = None,
    backend: BackendOption = None,
    params_file: ParamsOption = DEFAULT_PARAMS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Tag one text: each behaviour found, its score and the sentences that are the evidence."""
    if (text is None) == (file is None):
        raise InputError("give either a text or --file, not both or neither")
    if file is not None:
        if file.exists() and not file.is_file():
            raise InputError(f"{file}: " + ("is a folder; give a text file" if file.is_dir() else "not a regular file"))
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{file}: file not found") from None
        except UnicodeDecodeError:
            raise InputError(f"{file}: not UTF-8 text") from None
        except PermissionError:
            raise InputError(f"{file}: not allowed to read it") from None
    if len(text) > MAX_CELL_CHARS:
        raise InputError(f"the text has {len(text):,} characters; the longest tagged is {MAX_CELL_CHARS:,}")
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    result = load_tagger(model_dir, params, taxonomy.ids, backend).tag([text])[0]
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
        strength = result.polarity[behaviour_id]
        shown = f"▲ strength ({strength:.2f})" if strength >= 0.5 else f"▼ gap ({1 - strength:.2f})"
        console.print(
            f"[bold]{behaviour.name}[/bold] ({behaviour.theme.name})  score {result.scores[behaviour_id]:.2f}  {shown}",
            highlight=False,
        )
        for item in result.evidence:
            if item["behaviour"] == behaviour_id:
                sign = "▲" if item["polarity"] == "+" else "▼"
                console.print(f"    {sign} “{item['sentence']}”  ({item['score']:.2f})", markup=False, highlight=False)


@app.command()
def score(
    input_file: InputArgument,
    output: OutputOption,
    text_column: Annotated[
        list[str], typer.Option("--text-column", "-c", help="A column holding free text; repeat it for several questions.")
    ],
    model_dir: BackendModelOption = None,
    backend: BackendOption = None,
    params_file: ParamsOption = DEFAULT_PARAMS,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    combined: Annotated[
        bool, typer.Option("--combined", help="With several --text-column: also one result per respondent over them all.")
    ] = False,
    id_column: Annotated[
        Optional[str], typer.Option("--id-column", help="The respondent id column: must exist; repeated ids are reported.")
    ] = None,
    group_by: Annotated[
        Optional[list[str]], typer.Option("--group-by", help="A grouping column (directorate, staff group…) that must exist.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run of the same input, options and model.")
    ] = False,
    redact_output: Annotated[
        bool,
        typer.Option("--redact", help="Replace names, e-mails, phone/NHS/staff numbers, postcodes in the text columns "
                     "and evidence of the output with [NAME], [EMAIL], ... (tags come from the original text)."),
    ] = False,
    allow_formulas: AllowFormulasOption = False,
    report: Annotated[
        Optional[Path],
        typer.Option("--report", help="Then write the board report of the output (as `behaviours report`)."),
    ] = None,
    report_xlsx: Annotated[
        Optional[Path], typer.Option("--report-xlsx", help="With --report: also the report's tables as .xlsx.")
    ] = None,
    date_column: Annotated[
        Optional[str],
        typer.Option("--date-column", help="With --report: a date column for the trend by month or quarter."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no notes on reading the file.")] = False,
    drift: Annotated[
        Optional[Path], typer.Option("--drift", help="With --report: add a section from `behaviours drift --json` output.")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="process (this process) | spark (Spark's executors; docs/spark.md).")
    ] = "process",
    spark_master: Annotated[
        Optional[str], typer.Option("--spark-master", help="With --engine spark: e.g. local[4] (default: spark.master).")
    ] = None,
) -> None:
    """Score every row of a file: keeps all input columns, adds behaviours, score_<id>, evidence and status.

    With several --text-column each question's columns are prefixed `<column>__`. Rows
    are written as they are scored to a partial folder next to the output, so an
    interrupted run can be continued with --resume; the output file appears only
    when every row is scored. --report then writes the board report of the output,
    grouped by the --group-by columns (the combined result with several questions).
    """
    check_output(output, input_file)  # fail before any work
    if report is None and (report_xlsx is not None or date_column is not None or drift is not None):
        needing = "--report-xlsx" if report_xlsx is not None else "--date-column" if date_column is not None else "--drift"
        raise InputError(f"{needing} needs --report")
    if report is not None:
        check_report_files(report, report_xlsx)
        refuse_overwriting_inputs([p for p in (report, report_xlsx) if p is not None], [input_file, output])
        if len(text_column) > 1 and not combined:
            raise InputError("--report with several --text-column needs --combined (the report covers one result "
                             "per respondent), or run `behaviours report --prefix` on the output")
    if engine not in ("process", "spark"):
        raise InputError(f"--engine must be process or spark, not {engine!r}")
    if engine == "process" and spark_master is not None:
        raise InputError("--spark-master needs --engine spark")
    if engine == "spark" and resume:
        raise InputError("--resume continues a single-process run; a Spark run starts again (drop --resume)")
    if engine == "spark":
        require_spark()
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    drift_section = read_drift(drift, taxonomy) if drift is not None else None  # refused before scoring
    if backend is None and engine == "spark":
        backend = executor_backend(model_dir, params)
    options = ScoreOptions(
        text_columns=tuple(text_column), combined=combined, id_column=id_column, group_by=tuple(group_by or ()),
        encoding=encoding, sheet=sheet, chunk_size=params.score.chunk_size,
        max_evidence=params.score.max_evidence_per_behaviour, backend=backend or params.backend.name,
        redact=params.redact if redact_output else None, allow_formulas=allow_formulas,
        empty_values=tuple(params.score.empty_values),
    )
    group_size = 0

    def check_report_model(model_dir: Path) -> None:
        """The report's group size and the model's test figures (the report shows them): refused before scoring."""
        nonlocal group_size
        group_size = min_group_size(None, params)
        model_figures(read_card(model_dir))

    scoring = open_scoring(
        input_file, output, options, params, taxonomy.ids, model_dir, resume=resume, date_column=date_column,
        needs_redactor=redact_output or report is not None, check_model=check_report_model if report is not None else None,
    )
    run = scoring.run
    if not quiet:
        for note in scoring.export.notes:
            err_console.print(f"note: {input_file}: {note}", markup=False, highlight=False, soft_wrap=True)
        if scoring.done:
            err_console.print(f"resuming: {len(scoring.done)} chunk(s) already scored in {run.folder}", highlight=False)
    try:
        if engine == "spark":
            with _sigterm_interrupts():
                result = score_on_spark(scoring, output, params, input_file, spark_master or params.spark.master, not quiet)
        else:
            with _sigterm_interrupts(), _score_progress(scoring.export.rows, quiet, params.score) as on_rows:
                result = score_export(
                    scoring.export, scoring.tagger, options, output, run, scoring.done, params.score, on_rows,
                    scoring.redactor if redact_output else None,
                )
    except KeyboardInterrupt:
        if run.folder.exists():
            err_console.print(f"interrupted: scored chunks kept in {run.folder}; rerun with --resume to continue")
        else:
            err_console.print("interrupted before the first chunk was scored; nothing kept")
        raise typer.Exit(130) from None
    if result.duplicate_ids:
        err_console.print(
            f"warning: {result.duplicate_ids} id(s) in --id-column {id_column!r} appear on more than one row",
            markup=False, highlight=False,
        )
    _print_summary(result.summary, taxonomy, output)
    console.print(f"distinct answers tagged in this run: {result.distinct_tagged} (each identical answer once)", highlight=False)
    if result.redacted is not None:  # counts only: never the text that was replaced
        console.print(
            "identifiers replaced in the text columns (and in their evidence): "
            + ", ".join(f"[{kind}] {result.redacted[kind]}" for kind in IDENTIFIER_KINDS),
            markup=False, highlight=False, soft_wrap=True,
        )
    if report is not None:
        try:
            summary = write_board_report(
                output, report, report_xlsx, scoring.model_dir, scoring.redactor.redact, taxonomy,
                group_by=list(group_by or ()), date_column=date_column, min_group_size=group_size, prefix=None,
                drift=drift_section,
            )
        except InputError as exc:
            raise InputError(f"{output} is written, but not the report: {exc}") from None
        print_report_written(summary, report, report_xlsx)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """A `kill` (SIGTERM) stops scoring as Ctrl-C does: finished chunks kept for --resume, an empty folder removed."""

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _score_progress(total: int | None, quiet: bool, batch: ScoreParams) -> Iterator[Callable[[int], None]]:
    """A rich bar (rows, rows/s, time left) on a terminal, plain lines every ~10 s otherwise, nothing if quiet."""
    if quiet:
        yield lambda rows: None
    elif err_console.is_terminal:
        columns = (
            TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("rows {task.fields[rate]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err_console, transient=True) as progress:
            task = progress.add_task("score", total=total, rate="")
            start = time.monotonic()

            def advance(rows: int) -> None:
                progress.advance(task, rows)
                done = progress.tasks[0].completed
                progress.update(task, rate=f"{done / max(time.monotonic() - start, 1e-9):,.1f}/s")

            yield advance
    else:
        lines = ProgressLines(total, lambda line: err_console.print(line, highlight=False), batch.progress_interval)
        yield lines.add
        lines.finish()


def _print_summary(summary: ScoreSummary, taxonomy: Taxonomy, output: Path) -> None:
    names = [name for name, _ in summary.results]
    table = Table(title=f"{summary.rows} rows scored → {output}")
    table.add_column("theme")
    table.add_column("behaviour")
    if len(names) == 1:
        table.add_column("rows", justify="right")
        table.add_column("share of answered", justify="right")
    else:
        for name in names:
            table.add_column(f"{name}\nrows (share of answered)", justify="right")
    for behaviour in taxonomy.behaviours:
        cells = []
        for name in names:
            count, answered = summary.tagged.get(name, Counter())[behaviour.id], summary.answered[name]
            share = f"{count / answered if answered else 0.0:.0%}"
            cells += [str(count), share] if len(names) == 1 else [f"{count} ({share})"]
        table.add_row(behaviour.theme.name, behaviour.name, *cells)
    console.print(table)
    for name in names:
        label = "" if len(names) == 1 else f"{name}: "
        console.print(
            f"{label}answered: {summary.answered[name]}; with no behaviour: {summary.untagged[name]}; "
            f"empty: {summary.empty[name]}",
            highlight=False,
        )
