"""The report's tables as an Excel workbook, one sheet each, shares formatted as percentages.

Group names come from the scored file (a department column, say), so every text cell
that starts like a formula is neutralised with a leading apostrophe (`io.files`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.io.files import atomic_path, neutralised
from pipeline.report.summary import ReportSummary
from pipeline.report.tables import summary_tables
from pipeline.taxonomy import Taxonomy


def write_workbook(summary: ReportSummary, taxonomy: Taxonomy, path: Path) -> None:
    """The summary tables as sheets of one Excel workbook, shares formatted as percentages, atomically."""
    used: set[str] = set()
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for title, table in summary_tables(summary, taxonomy).items():
            sheet = _sheet_name(title, used)
            neutralised(table).to_excel(writer, sheet_name=sheet, index=False)
            worksheet = writer.sheets[sheet]
            for cells in worksheet.iter_cols(min_row=1):
                header = str(cells[0].value)
                width = max(len(header), *(len(str(c.value)) for c in cells[1:] if c.value is not None), 8)
                worksheet.column_dimensions[cells[0].column_letter].width = min(width + 2, 60)
                if _is_share(title, header):
                    for cell in cells[1:]:
                        cell.number_format = "0%"
                elif "F1" in header:
                    for cell in cells[1:]:
                        cell.number_format = "0.00"


def _is_share(title: str, header: str) -> bool:
    return "share" in header or (title.startswith(("By ", "Trend")) and header not in ("answered responses",))


def _sheet_name(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:31]
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[: 31 - len(str(n)) - 1]} {n}"
        n += 1
    used.add(name.lower())
    return name
