"""`behaviours labelled …` and `behaviours split`: the labelled training data in labelled/."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich import box
from rich.table import Table

from pipeline.cli.app import (
    DEFAULT_LABELLED,
    EMBEDDING_CACHE,
    CacheOption,
    LabelledOption,
    ParamsOption,
    app,
    console,
    err_console,
    labelled_app,
    print_problems,
)
from pipeline.config import DEFAULT_PARAMS, DataParams, load_params
from pipeline.data.additions import Addition, AdditionRefused, Match, Prefer, add_labelled
from pipeline.data.dataset import dataset_card, pool_dataset, save_dataset, to_dataset_dict
from pipeline.data.label_check import suspects
from pipeline.data.rows import (
    REGISTERS,
    by_position,
    display_path,
    label_matrix,
    labelled_files,
    load_labelled,
    near_duplicate_problems,
    validate_files,
)
from pipeline.data.split import TEST_IDS, make_test_split, read_test_ids, write_test_ids
from pipeline.data.pairs import read_pairs
from pipeline.data.pool import load_pool
from pipeline.data.stats import corpus_stats, coverage_gaps, pool_gaps, pool_stats
from pipeline.data.tools.formats import ExportFormat, SuggestionsRefused, ToolFormat, write_for_tool
from pipeline.errors import InputError
from pipeline.taxonomy import load_taxonomy
from pipeline.training.fit import out_of_fold_probabilities, with_any_column
from pipeline.training.train import embed_labelled

ADDED_FILE = "added.csv"  # default target of `labelled add`, inside the labelled folder
SHORT_REGISTERS = {  # column headings narrow enough for an 80-column terminal
    "exit_survey": "exit",
    "appraisal_note": "appr",
    "coaching_note": "coach",
    "feedback_360": "360",
    "staff_survey": "staff",
    "organisational": "org",
    "brainstorm": "brain",
    "framework": "frame",
}


@labelled_app.command("validate")
def labelled_validate(
    files: Annotated[Optional[list[Path]], typer.Argument(help="Labelled CSV files (default: all in labelled/).")] = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    cache: CacheOption = EMBEDDING_CACHE,
) -> None:
    """Check schema, ids, polarity alignment, empty texts, duplicates and near duplicates (and the pool's votes); exit 2 on any problem."""
    params, taxonomy = load_params(params_file), load_taxonomy()
    rows, problems = validate_files(files or labelled_files(labelled), taxonomy)
    if len(rows) > 1:
        vectors = embed_labelled([r.text for r in rows], params, cache)[0].text_vectors()
        problems = by_position(problems + near_duplicate_problems(rows, vectors, params.data.near_duplicate_cosine))
    batches = []
    if not files:  # the whole folder: its pool, new writers' batches and contrast pairs too
        for folder in (labelled / "pool", labelled / "newwriters"):
            texts, folder_problems = load_pool(folder, taxonomy)
            batches.append(f"{len(texts)} in {display_path(folder)}")
            problems += folder_problems
        pairs, pair_problems = read_pairs(labelled / "pairs", taxonomy)
        problems += pair_problems
    print_problems(problems)
    if problems:
        err_console.print(f"{len(problems)} problem(s) in labelled data")
        raise typer.Exit(2)
    threshold = params.data.near_duplicate_cosine
    extra = f"; texts in batches: {', '.join(batches)}; {len(pairs)} contrast pairs" if batches else ""
    console.print(f"{len(rows)} labelled rows, no problems (near duplicates: cosine ≥ {threshold}){extra}", highlight=False)


@labelled_app.command("stats")
def labelled_stats(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts and gaps as JSON.")] = False,
) -> None:
    """Gold rows per behaviour × register × polarity, the pool's counts, and the gaps against the targets (params.yaml, data: and pool:)."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    stats = corpus_stats(load_labelled(labelled_files(labelled), taxonomy), taxonomy)
    gaps = coverage_gaps(stats, params.data)
    pool_figures = None
    if (labelled / "pool").is_dir():  # a labelled folder of one's own may have no pool
        pool, _ = load_pool(labelled / "pool", taxonomy)
        pairs, _ = read_pairs(labelled / "pairs", taxonomy)
        pool_figures = pool_stats(pool, len(pairs), taxonomy, params.pool.min_votes)
        gaps += pool_gaps(pool_figures, params.pool)
    if as_json:
        report = {"stats": stats, "params": dataclasses.asdict(params.data), "gaps": [dataclasses.asdict(g) for g in gaps]}
        if pool_figures is not None:
            report |= {"pool": pool_figures, "pool_params": dataclasses.asdict(params.pool)}
        print(json.dumps(report, indent=2))
        return
    _print_stats(stats, params.data)
    if pool_figures is not None:
        console.print()
        _print_pool(pool_figures, params.pool.min_votes)
    for gap in gaps:
        console.print(str(gap), style="bold yellow", markup=False, highlight=False)
    if not gaps:
        console.print("all targets met", style="green")


def _print_pool(stats: dict, min_votes: int) -> None:
    registers = ", ".join(f"{SHORT_REGISTERS[r]} {n}" for r, n in stats["registers"].items() if n)
    console.print(
        f"Pool (labelled/pool): {stats['counted']} of {stats['texts']} texts have {min_votes} votes ({registers}); "
        f"{stats['sentence_labelled']} sentence-labelled notes; {stats['no_behaviour']} with no behaviour; "
        f"{stats['pairs']} contrast pairs",
        highlight=False,
    )
    table = Table(title="Pool texts carrying each behaviour (at least half the votes)", box=box.SIMPLE_HEAD, show_edge=False)
    for column in ("behaviour", "texts", "gaps (-)"):
        table.add_column(column, justify="left" if column == "behaviour" else "right")
    for behaviour_id, b in stats["behaviours"].items():
        share = "–" if b["gap_share"] is None else f"{b['gap_share']:.0%}"
        table.add_row(behaviour_id, str(b["texts"]), share)
    console.print(table)


def _print_stats(stats: dict, targets: DataParams) -> None:
    def cell(counts: dict) -> str:
        return f"{counts['+']}/{counts['-']}" + (f" {counts['?']}?" if counts["?"] else "")

    none = stats["no_behaviour"]
    registers = Table(
        title=f"{stats['rows']} labelled rows: rows carrying each behaviour, + / - (? no polarity)",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    registers.add_column("behaviour", no_wrap=True)
    for register in REGISTERS:
        registers.add_column(SHORT_REGISTERS[register], justify="right", no_wrap=True)
    for behaviour_id, b in stats["behaviours"].items():
        registers.add_row(behaviour_id, *(cell(b["by_register"][r]) for r in REGISTERS))
    registers.add_row("no behaviour", *(str(none["by_register"][r]) for r in REGISTERS))
    console.print(registers)
    console.print()
    floor = targets.critical_share - targets.critical_share_tolerance
    against = Table(title="Against the targets, in the five user registers (params.yaml, data:)")
    against.add_column("behaviour", no_wrap=True)
    against.add_column(f"rows (≥ {targets.min_per_behaviour})", justify="right")
    against.add_column(f"- share ({targets.critical_share:.0%}, ≥ {floor:.0%})", justify="right")
    against.add_column(f"registers (≥ {targets.min_registers_per_behaviour})", justify="right")
    against.add_column("all registers", justify="right")
    for behaviour_id, b in stats["behaviours"].items():
        share = "–" if b["critical_share"] is None else f"{b['critical_share']:.0%}"
        against.add_row(behaviour_id, str(b["user_rows"]), share, str(b["user_registers"]), str(b["rows"]))
    against.add_row(f"no behaviour (≥ {targets.min_no_behaviour})", str(none["user_rows"]), "", "", str(none["rows"]))
    console.print(against)
    console.print(
        f"{stats['multi_label_share']:.0%} of the {stats['user_behaviour_rows']} behaviour rows in the user registers "
        f"carry two or more behaviours (≥ {targets.min_multi_label_share:.0%})",
        highlight=False,
    )


@labelled_app.command("add")
def labelled_add(
    new_file: Annotated[
        Path,
        typer.Argument(
            help="A labelled CSV, `behaviours score` output with corrected behaviours, or a labelling tool's export "
            "(docs/labelling_tools.md).",
            metavar="NEW",
        ),
    ],
    to: Annotated[
        Optional[Path], typer.Option("--to", help="Labelled CSV to append to (default: added.csv in labelled/).")
    ] = None,
    prefer: Annotated[
        Optional[Prefer],
        typer.Option("--prefer", help="Whose labels win when a text is already labelled otherwise (default: refuse)."),
    ] = None,
    source: Annotated[
        Optional[str], typer.Option("--source", help="Source of rows from score output (default: added:<file stem>).")
    ] = None,
    register: Annotated[
        Optional[str], typer.Option("--register", help="Register of rows from score output (required for it).")
    ] = None,
    text_column: Annotated[
        Optional[str], typer.Option("--text-column", "-c", help="The text column of score output.")
    ] = None,
    tool: Annotated[
        Optional[ExportFormat],
        typer.Option("--format", help="The labelling tool's export format (default: detected from the file)."),
    ] = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
) -> None:
    """Add newly labelled rows: skip duplicates, settle or refuse conflicts, append with provenance, check first."""
    try:
        addition = add_labelled(
            new_file, labelled, load_taxonomy(), to or labelled / ADDED_FILE, prefer, text_column, register, source,
            tool,
        )
    except AdditionRefused as refused:
        print_problems(refused.problems)
        _print_matches(refused.matches, refused.how)
        raise
    _print_addition(addition, display_path(addition.target), read_test_ids(labelled / TEST_IDS))


def _print_matches(matches: list[Match], how: str) -> None:
    for m in matches:
        console.print(
            f"{m.new.file}:{m.new.line}: {m.new.id} ({';'.join(m.new.labels) or 'no behaviour'}) {how} "
            f"{m.existing.id} ({';'.join(m.existing.labels) or 'no behaviour'}, {m.existing.file}:{m.existing.line})",
            markup=False, highlight=False, soft_wrap=True,
        )


def _print_addition(addition: Addition, target: str, test_ids: set[str]) -> None:
    plan, changed, empty = addition.plan, addition.changed, addition.empty
    _print_matches(plan.duplicates, "skipped: same text and labels as")
    if plan.conflicts:
        _print_matches(plan.conflicts, f"{addition.prefer.value} labels kept:")
    console.print(f"added {len(plan.added)}" + (f" → {target}" if plan.added else ""), highlight=False)
    console.print(f"skipped duplicates {len(plan.duplicates)}", highlight=False)
    relabelled_files = ", ".join(dict.fromkeys(r.file for r in changed))
    resolved = f"conflicts resolved {len(plan.conflicts)}" + (f" → {relabelled_files}" if changed else "")
    console.print(resolved, highlight=False)
    if empty:
        console.print(f"skipped empty answers {empty}", highlight=False)
    if addition.unlabelled:
        console.print(f"skipped not yet labelled {addition.unlabelled}", highlight=False)
    in_test = sum(r.id in test_ids for r in changed)
    if in_test:
        console.print(f"note: {in_test} relabelled row(s) are in the fixed test split: earlier figures are not comparable")
    if plan.added:
        console.print("new rows go to training (the test split is fixed); check near duplicates with `labelled validate`")


@labelled_app.command("to-tool")
def labelled_to_tool(
    suggestions: Annotated[Path, typer.Argument(help="`behaviours labelled suggest` output (CSV).", metavar="SUGGESTIONS")],
    tool: Annotated[ToolFormat, typer.Option("--format", help="The labelling tool (docs/labelling_tools.md).")],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="argilla: a folder; label-studio: tasks .json (config .xml beside); .xlsx; .csv."),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace existing output.")] = False,
) -> None:
    """Send suggestions to a labelling tool, pre-filled with the model's labels; bring them back with `labelled add`."""
    try:
        sent = write_for_tool(suggestions, tool, output, load_taxonomy(), force)
    except SuggestionsRefused as refused:
        print_problems(refused.problems)
        raise
    console.print(f"{sent.texts} texts → {', '.join(str(path) for path in sent.files)}", highlight=False)


@labelled_app.command("export")
def labelled_export(
    to: Annotated[Path, typer.Option("--to", help="Folder for dataset/ (save_to_disk), <split>.parquet, README.md.")],
    labelled: LabelledOption = DEFAULT_LABELLED,
    force: Annotated[bool, typer.Option("--force", help="Replace a folder that is not empty.")] = False,
) -> None:
    """The labelled data as a Hugging Face DatasetDict (train / test by the fixed split), Parquet and a dataset card."""
    taxonomy = load_taxonomy()
    rows = load_labelled(labelled_files(labelled), taxonomy)
    dataset = to_dataset_dict(rows, read_test_ids(labelled / TEST_IDS), taxonomy)
    pool = None
    if (labelled / "pool").is_dir():
        texts, problems = load_pool(labelled / "pool", taxonomy)
        if problems:
            raise InputError(f"{len(problems)} problem(s) in the pool (run `behaviours labelled validate`), first: {problems[0]}")
        pool = pool_dataset(texts, taxonomy)
    save_dataset(dataset, dataset_card(dataset, taxonomy, pool), to, force, pool)
    in_pool = f", pool {len(pool)} texts" if pool is not None else ""
    console.print(f"train {len(dataset['train'])} rows, test {len(dataset['test'])} rows{in_pool} → {to}", highlight=False)


@labelled_app.command("check")
def labelled_check(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    confidence: Annotated[float, typer.Option(help="How sure the model must be to count a disagreement (0-1).")] = 0.9,
    top: Annotated[int, typer.Option(help="How many rows to list.")] = 30,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the rows as JSON Lines: ids, labels and the model's doubts, no text.")
    ] = False,
    cache: CacheOption = EMBEDDING_CACHE,
) -> None:
    """List likely label errors: rows whose cross-validated predictions confidently disagree with their labels."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    rows = load_labelled(labelled_files(labelled), taxonomy)
    embedded, _ = embed_labelled([r.text for r in rows], params, cache)
    Y = label_matrix(rows, taxonomy)
    oof, _ = out_of_fold_probabilities(embedded, with_any_column(Y), params)
    found = suspects(rows, Y, oof[:, :-1], taxonomy.ids, confidence)
    if as_json:
        for suspect in found[:top]:
            row = suspect.row
            print(json.dumps({
                "id": row.id, "file": row.file, "line": row.line, "labels": list(row.labels),
                "suspicion": suspect.suspicion, "missing": list(suspect.missing), "extra": list(suspect.extra),
            }))
        return
    table = Table(title=f"{len(found)} rows where the model disagrees with {confidence:.0%} confidence (top {top})")
    for column in ("suspicion", "row", "labels", "model says not", "model says also", "text"):
        table.add_column(column, overflow="fold")
    for suspect in found[:top]:
        row = suspect.row
        table.add_row(
            f"{suspect.suspicion:.2f}", f"{row.id}\n{row.file}:{row.line}", ";".join(row.labels) or "(none)",
            ";".join(suspect.missing), ";".join(suspect.extra), row.text[:160],
        )
    console.print(table)


@app.command()
def split(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing split.")] = False,
    cache: CacheOption = EMBEDDING_CACHE,
) -> None:
    """Choose the fixed test split (labelled/test_ids.txt) that training never sees; near duplicates stay together."""
    params = load_params(params_file)
    target = labelled / TEST_IDS
    if target.exists() and not force:
        raise InputError(f"{target} exists: the test split is fixed (use --force to choose a new one)")
    rows = load_labelled(labelled_files(labelled), load_taxonomy())
    vectors = embed_labelled([r.text for r in rows], params, cache)[0].text_vectors()
    test_ids = make_test_split(rows, params.split, vectors)
    write_test_ids(test_ids, target)
    console.print(f"{len(test_ids)} of {len(rows)} rows held out for testing → {target}")
