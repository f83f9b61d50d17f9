"""`behaviours labelled suggest`: the texts of a scored file or an export most worth labelling next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.batch.suggest import (
    check_suggestions_output,
    label_counts,
    read_candidates,
    suggest,
)
from pipeline.cli.app import (
    DEFAULT_LABELLED,
    BackendModelOption,
    BackendOption,
    EncodingOption,
    LabelledOption,
    OutputOption,
    ParamsOption,
    SheetOption,
    console,
    labelled_app,
)
from pipeline.config import DEFAULT_PARAMS, load_params
from pipeline.data.labelled_texts import labelled_text_keys
from pipeline.data.tools.suggestions import write_suggestions
from pipeline.data.pairs import read_pairs
from pipeline.data.pool import load_pool
from pipeline.data.rows import labelled_files, load_labelled
from pipeline.data.stats import corpus_stats, pool_stats
from pipeline.errors import InputError
from pipeline.tagger import EnsembleTagger, load_tagger
from pipeline.taxonomy import load_taxonomy
from pipeline.text import EmptyAnswers


@labelled_app.command("suggest")
def labelled_suggest(
    input_file: Annotated[
        Path, typer.Argument(help="`behaviours score` output or an export (CSV, xlsx, JSON Lines, Parquet).", metavar="SCORED_OR_EXPORT")
    ],
    output: OutputOption,
    n: Annotated[int, typer.Option("-n", min=1, help="How many texts to suggest.")] = 200,
    register: Annotated[
        Optional[str], typer.Option("--register", help="Register of the texts (required unless the input has a register column).")
    ] = None,
    text_column: Annotated[
        Optional[list[str]], typer.Option("--text-column", "-c", help="A column of answers; repeat for several (default: text).")
    ] = None,
    id_column: Annotated[Optional[str], typer.Option("--id-column", help="The column the ids are built from (default: row number).")] = None,
    id_prefix: Annotated[
        Optional[str], typer.Option("--id-prefix", help="Prefix of the ids (default: suggested-<file stem>).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    model_dir: BackendModelOption = None,
    backend: BackendOption = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
) -> None:
    """Pick the texts worth labelling next (uncertain or rare, drawn so the batch stays varied), pre-labelled by the model.

    The output is a CSV in the labelled schema plus `reason`, best first: correct the labels and polarity in place,
    then `behaviours labelled add` it.
    """
    check_suggestions_output(output, input_file, labelled, force)
    params, taxonomy = load_params(params_file), load_taxonomy()
    found = read_candidates(
        input_file, text_column, id_column, register, id_prefix or f"suggested-{input_file.stem}",
        labelled_text_keys(labelled), EmptyAnswers(params.score.empty_values), encoding, sheet, params.score.chunk_size,
    )
    left_out = f"{found.empty} empty, {found.labelled} already labelled, {found.repeated} repeated"
    if not found.candidates:
        raise InputError(f"{input_file}: no text left to suggest ({left_out})")
    pool = None
    if (labelled / "pool").is_dir():  # a labelled folder of one's own may have no pool
        texts, _ = load_pool(labelled / "pool", taxonomy)
        pool = pool_stats(texts, len(read_pairs(labelled / "pairs", taxonomy)[0]), taxonomy, params.pool.min_votes)
    counts = label_counts(corpus_stats(load_labelled(labelled_files(labelled), taxonomy), taxonomy), pool)
    tagger = load_tagger(model_dir, params, taxonomy.ids, backend)
    if isinstance(tagger, EnsembleTagger):
        raise InputError(f"{model_dir} is an ensemble: suggest reads one model's probabilities, give one of its members")
    suggestions = suggest(
        found.candidates, tagger, counts, n, params.suggest, params.data.near_duplicate_cosine,
        f"suggested:{input_file.stem}", params.score.chunk_size,
    )
    write_suggestions(suggestions, output)
    console.print(
        f"{len(suggestions)} of {len(found.candidates)} candidate texts suggested → {output} (left out: {left_out})",
        highlight=False, soft_wrap=True,
    )
    console.print("correct labels and polarity in place (see `behaviours labelled` round trips), then `behaviours labelled add`")
