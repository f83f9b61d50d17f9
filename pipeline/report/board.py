"""The board report of a scored file, written: the HTML page and, when asked, the Excel workbook.

`behaviours report` writes it from a scored file; `behaviours score --report` right after scoring.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Params
from pipeline.errors import InputError
from pipeline.io.files import atomic_write_text, check_folder, read_table
from pipeline.report.drift import DriftSection
from pipeline.report.excel import write_workbook
from pipeline.report.html import render_html
from pipeline.report.summary import Redact, ReportSummary, read_card, report_summary
from pipeline.taxonomy import Taxonomy


def check_report_files(output: Path, xlsx: Path | None) -> None:
    """Refuse report file names of the wrong type, or in a folder that does not exist, before any work."""
    if output.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{output}: the report is HTML; give a .html file")
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise InputError(f"{xlsx}: --xlsx needs a .xlsx file")
    for path in (output, xlsx):
        if path is not None:
            check_folder(path)


def min_group_size(option: int | None, params: Params) -> int:
    """--min-group-size if given, else report.min_group_size from params; at least 2 either way."""
    size = option if option is not None else params.report.min_group_size
    if size < 2:
        where = "--min-group-size" if option is not None else "report.min_group_size (params)"
        raise InputError(f"{where} must be at least 2 (got {size})")
    return size


def write_board_report(
    scored: Path,
    output: Path,
    xlsx: Path | None,
    model_dir: Path,
    redact: Redact,
    taxonomy: Taxonomy,
    *,
    group_by: list[str],
    date_column: str | None,
    min_group_size: int,
    prefix: str | None,
    drift: DriftSection | None = None,
) -> ReportSummary:
    """Summarise a scored file and write the report (example quotes go through `redact`: never on the page
    unredacted; with `drift`, its section); returns the summary."""
    check_report_files(output, xlsx)
    summary = report_summary(
        read_table(scored), taxonomy, read_card(model_dir), redact, group_by=group_by, date_column=date_column,
        min_group_size=min_group_size, prefix=prefix, source=scored.name,
    )
    atomic_write_text(output, render_html(summary, taxonomy, drift=drift))
    if xlsx is not None:
        write_workbook(summary, taxonomy, xlsx)
    return summary
