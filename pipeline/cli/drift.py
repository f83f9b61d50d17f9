"""`behaviours drift`: does a batch of answers look unlike what the model was trained on? (docs/drift.md)"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.app import (
    DEFAULT_LABELLED,
    DEFAULT_MODEL,
    EMBEDDING_CACHE,
    CacheOption,
    EncodingOption,
    LabelledOption,
    ModelOption,
    ParamsOption,
    SheetOption,
    TrackOption,
    app,
    console,
)
from pipeline.config import DEFAULT_PARAMS, load_params
from pipeline.redact.redactor import Redactor
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.tracking.runs import log_drift
from pipeline.training.drift import (
    batch_vectors,
    build_reference,
    check_drift_params,
    drift_figures,
    read_batch,
    tagged,
)

TRAINING = "training"


@app.command()
def drift(
    new_scored: Annotated[
        Path,
        typer.Argument(help="Output of `behaviours score`, or a raw export (scored now, in memory).", metavar="NEW_SCORED"),
    ],
    text_column: Annotated[
        list[str],
        typer.Option("--text-column", "-c", help="A column holding free text; repeat it for several questions."),
    ],
    against: Annotated[
        str,
        typer.Option("--against", help="`training` (the model's training data) or a previous batch's file "
                     "(scored or raw, same --text-column).", metavar="TRAINING|PREVIOUS_SCORED"),
    ] = TRAINING,
    model_dir: ModelOption = DEFAULT_MODEL,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    cache: CacheOption = EMBEDDING_CACHE,
    track: TrackOption = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON (for `report --drift`).")] = False,
) -> None:
    """Is the batch unlike the training data? Novelty, distance, tag-rate changes, new phrases, and a verdict."""
    params = load_params(params_file)
    check_drift_params(params.drift)
    taxonomy = load_taxonomy()
    batch = read_batch(new_scored, text_column, params, encoding, sheet)
    previous = None if against.lower() == TRAINING else read_batch(Path(against), text_column, params, encoding, sheet)
    reference, tagger = build_reference(labelled, model_dir, params, taxonomy, cache)
    batch = tagged(batch, tagger, params.score.chunk_size)
    if previous is not None:
        previous = tagged(previous, tagger, params.score.chunk_size)
        previous = (previous, batch_vectors(previous, tagger))
    redactor = Redactor(params.redact)
    figures = drift_figures(
        batch, batch_vectors(batch, tagger), reference, params.drift, taxonomy.ids, redactor.redact, previous
    )
    figures["batch"] = new_scored.name
    if figures["verdict"] == "relabel":
        columns = " ".join(f"--text-column {shlex.quote(c)}" for c in text_column)
        figures["next_step"] = (  # REGISTER: the batch's (exit_survey, staff_survey, ...), which drift is not told
            f"behaviours labelled suggest {shlex.quote(str(new_scored))} {columns} -n 200 -o to_label.csv --register REGISTER"
        )
    if track:
        log_drift(figures, model_dir)
    if as_json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        _print_drift(figures, taxonomy)


def _print_drift(figures: dict, taxonomy: Taxonomy) -> None:
    novelty, distance, texts = figures["novelty"], figures["distance"], figures["texts"]
    verdict = f"verdict: {figures['verdict']} — {figures['reason']}"
    console.print(verdict, markup=False, highlight=False, soft_wrap=True)
    measured = f" ({texts['measured']} sampled)" if texts["measured"] < texts["answered"] else ""
    tags = "as scored" if texts["scored"] else "tagged now"
    console.print(f"batch: {figures['batch']}, {texts['answered']} answered texts{measured}, tags {tags}; "
                  f"against the {figures['against']}", markup=False, highlight=False, soft_wrap=True)
    low, high = novelty["interval_90"]
    console.print(
        f"novelty: {novelty['far']} texts far from every one of {novelty['training_texts']} training texts "
        f"= {novelty['share']:.1%} "
        f"(90% interval {low:.1%}–{high:.1%}); {novelty['expected_share']:.0%} expected "
        f"(nearest cosine below {novelty['threshold_cosine']:.3f})", highlight=False, soft_wrap=True,
    )
    console.print(
        f"distance: domain classifier AUC {distance['domain_auc']:.2f} against the {distance['against']} "
        f"({distance['texts_each']} texts each); test-split slices give {distance['reference_auc']:.2f} "
        f"(95th percentile {distance['reference_auc_high']:.2f})", highlight=False, soft_wrap=True,
    )
    table = Table(title="Tag rates (share of answered texts)")
    for column in ("behaviour", "batch", "reference", "change", "90% interval"):
        table.add_column(column, justify="left" if column == "behaviour" else "right")
    for c in figures["tag_rates"]:
        low, high = c["interval_90"]
        table.add_row(taxonomy[c["behaviour"]].name, f"{c['batch']:.1%}", f"{c['reference']:.1%}",
                      f"{c['change']:+.1%}", f"{low:+.1%} to {high:+.1%}")
    console.print(table)
    if figures["phrases"]:
        shown = ", ".join(f"{p['phrase']} ({p['documents']} texts)" for p in figures["phrases"])
        console.print(f"over-represented: {shown}", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print("over-represented: no phrase used by enough different texts", highlight=False)
    if "next_step" in figures:
        console.print(f"next step: {figures['next_step']}", markup=False, highlight=False, soft_wrap=True)
