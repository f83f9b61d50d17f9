"""`behaviours redact`: identifiers in a file's text columns replaced with [NAME], [EMAIL], …"""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.batch.redaction import redact_export
from pipeline.cli.app import (
    AllowFormulasOption,
    EncodingOption,
    InputArgument,
    OutputOption,
    ParamsOption,
    SheetOption,
    app,
    console,
    err_console,
)
from pipeline.config import DEFAULT_PARAMS, load_params
from pipeline.io.exports import open_export
from pipeline.io.files import check_fits, check_output
from pipeline.redact.patterns import KINDS
from pipeline.redact.redactor import Redactor


@app.command()
def redact(
    input_file: InputArgument,
    output: OutputOption,
    text_columns: Annotated[
        list[str], typer.Option("--text-column", "-c", help="A free-text column to redact (repeat for several).")
    ],
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    params_file: ParamsOption = DEFAULT_PARAMS,
    allow_formulas: AllowFormulasOption = False,
) -> None:
    """Replace names, e-mails, phone, NHS and staff numbers and postcodes in text columns with [NAME], [EMAIL], ...

    The input is read as `behaviours score` reads it (encoding and delimiter detected,
    Excel title rows and merged headers handled; every cell as text) and redacted
    chunk by chunk (score.chunk_size rows); the output appears only when complete.
    """
    check_output(output, input_file)  # fail before any work
    params = load_params(params_file)
    export = open_export(input_file, encoding=encoding, sheet=sheet)
    columns = list(dict.fromkeys(text_columns))
    export.require(columns, "--text-column")
    check_fits(output, export.rows, input_file)
    redactor = Redactor(params.redact)
    for note in export.notes:
        err_console.print(f"note: {input_file}: {note}", markup=False, highlight=False, soft_wrap=True)
    rows, counts = redact_export(export, columns, output, redactor, params.score.chunk_size, allow_formulas)
    console.print(f"{rows} rows, {len(columns)} column(s) redacted → {output}", highlight=False)
    for kind in KINDS:  # counts only: never the text that was replaced
        console.print(f"[{kind}] {counts[kind]}", markup=False, highlight=False)
