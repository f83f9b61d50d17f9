"""`behaviours labelled prepare | agreement | test-sets`: the soft-labelled pool and the new writers' sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from pipeline.cli.app import DEFAULT_LABELLED, ParamsOption, console, err_console, labelled_app, print_problems
from pipeline.config import DEFAULT_PARAMS, load_params
from pipeline.data.pool import agreement_figures, load_pool, prepare_batch, write_test_parts, write_whole_test_set
from pipeline.data.rows import display_path
from pipeline.taxonomy import load_taxonomy
from pipeline.text import SentenceSplitter

POOL = DEFAULT_LABELLED / "pool"
NEW_WRITERS = DEFAULT_LABELLED / "newwriters"
FolderOption = Annotated[Path, typer.Option("--folder", help="A folder of batches (with batches/<name>/writer.csv).")]


@labelled_app.command("prepare")
def labelled_prepare(
    batches: Annotated[list[Path], typer.Argument(help="Batch folders holding a writer.csv.")],
    params_file: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Cut each batch's texts into the sentences the tagger scores, for its readers (reader_input.jsonl, no labels)."""
    params, taxonomy = load_params(params_file), load_taxonomy()
    splitter = SentenceSplitter(params.text)
    for batch in batches:
        count = prepare_batch(batch, splitter, taxonomy)
        console.print(f"{display_path(batch)}: {count} texts ready for readers", highlight=False)


def _shown(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


@labelled_app.command("agreement")
def labelled_agreement(
    folder: FolderOption = POOL,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """How far independent votes agree, per behaviour and per register: pairwise F1 and Krippendorff's alpha."""
    taxonomy = load_taxonomy()
    texts, problems = load_pool(folder, taxonomy)
    print_problems(problems)
    registers = sorted({text.register for text in texts})
    figures = {
        "all": agreement_figures(texts, taxonomy),
        "per_register": {r: agreement_figures([t for t in texts if t.register == r], taxonomy) for r in registers},
    }
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    overall = figures["all"]
    table = Table(
        title=f"{overall['texts']} texts with two or more votes in {display_path(folder)}",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for column in ("behaviour", "pairwise F1", "alpha", "same sign"):
        table.add_column(column, justify="left" if column == "behaviour" else "right")
    for behaviour, b in overall["per_behaviour"].items():
        table.add_row(behaviour, _shown(b["pairwise_f1"]), _shown(b["alpha"]), _shown(b["polarity_agreement"]))
    table.add_row("no behaviour", "", _shown(overall["no_behaviour_alpha"]), "")
    table.add_row("macro / mean", _shown(overall["pairwise_macro_f1"]), _shown(overall["mean_alpha"]), "")
    console.print(table)
    by_register = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for column in ("register", "texts", "pairwise macro-F1", "mean alpha"):
        by_register.add_column(column, justify="left" if column == "register" else "right")
    for register, f in figures["per_register"].items():
        by_register.add_row(register, str(f["texts"]), _shown(f["pairwise_macro_f1"]), _shown(f["mean_alpha"]))
    console.print(by_register)
    console.print("Readers trained on one guide agree more than independent people would.", style="dim")


@labelled_app.command("test-sets")
def labelled_test_sets(
    folder: FolderOption = NEW_WRITERS,
    whole: Annotated[
        bool, typer.Option("--whole", help="The folder is one test set (e.g. labelled/hedged): write <folder>/<name>.csv.")
    ] = False,
    params_file: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Rebuild a test folder's sets from their votes: the new writers' dev.csv and final.csv (final is sealed), or one set."""
    min_votes = load_params(params_file).pool.min_votes
    taxonomy = load_taxonomy()
    written = {"all": write_whole_test_set(folder, taxonomy, min_votes)} if whole else write_test_parts(folder, taxonomy, min_votes)
    for part, (path, count) in written.items():
        console.print(f"{part}: {count} rows in {display_path(path)}", highlight=False)
    if not any(count for _, count in written.values()):
        err_console.print(f"no text in {display_path(folder)} has {min_votes} votes yet")
        raise typer.Exit(2)
