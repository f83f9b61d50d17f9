"""`behaviours report`: the board report of scored responses (HTML, and an Excel summary)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.app import DEFAULT_MODEL, ModelOption, ParamsOption, app, print_report_written
from pipeline.config import DEFAULT_PARAMS, load_params
from pipeline.io.files import refuse_overwriting_inputs
from pipeline.redact.redactor import Redactor
from pipeline.report.board import check_report_files, write_board_report
from pipeline.report.board import min_group_size as group_size
from pipeline.report.drift import read_drift
from pipeline.taxonomy import load_taxonomy


@app.command("report")
def report_command(
    scored: Annotated[
        Path, typer.Argument(help="Output of `behaviours score` (CSV, Excel, JSON Lines or Parquet).", metavar="SCORED")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML report to write (one file, opens offline).")],
    xlsx: Annotated[Optional[Path], typer.Option("--xlsx", help="Also write the summary tables to this .xlsx.")] = None,
    group_by: Annotated[
        Optional[list[str]], typer.Option("--group-by", help="A column to compare groups by (repeat for more).")
    ] = None,
    date_column: Annotated[
        Optional[str], typer.Option("--date-column", help="A date column: trend by month or quarter.")
    ] = None,
    min_group_size: Annotated[
        Optional[int],
        typer.Option("--min-group-size", help="Groups with fewer answered responses are merged or left out "
                     "(default: report.min_group_size in params, 10)."),
    ] = None,
    prefix: Annotated[
        Optional[str], typer.Option("--prefix", help="Which scored question, when several were (or `combined`).")
    ] = None,
    model_dir: ModelOption = DEFAULT_MODEL,
    params_file: ParamsOption = DEFAULT_PARAMS,
    drift: Annotated[
        Optional[Path], typer.Option("--drift", help="Add a section from `behaviours drift --json` output (DRIFT.json).")
    ] = None,
) -> None:
    """A board-ready HTML report of scored responses (and an Excel summary): shares, strengths and gaps, groups, trend."""
    check_report_files(output, xlsx)
    refuse_overwriting_inputs([p for p in (output, xlsx) if p is not None], [scored])
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    drift_section = read_drift(drift, taxonomy) if drift is not None else None
    summary = write_board_report(
        scored, output, xlsx, model_dir, Redactor(params.redact).redact, taxonomy, group_by=group_by or [],
        date_column=date_column, min_group_size=group_size(min_group_size, params), prefix=prefix, drift=drift_section,
    )
    print_report_written(summary, output, xlsx)
