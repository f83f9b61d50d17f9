"""The `behaviours` command: parses arguments, prints for people, calls the rest.

Every expected failure (bad file, missing column, missing model, bad config) is
an `InputError`: one line on stderr and exit code 2, never a traceback, and no
output file written.
"""

from __future__ import annotations

import sys

# Importing a command module registers its commands; this order is the order of `behaviours --help`.
# isort: off
from pipeline.cli import labelled, pool, suggest, training, evaluate, scoring, redact, report, drift, serve  # noqa: F401
# isort: on
from pipeline.cli.app import app, err_console
from pipeline.errors import InputError


def main() -> None:
    """Console-script entry point: one line and exit 2 for expected errors."""
    try:
        app()
    except InputError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
