"""`behaviours drift` with the shipped model and the project's labelled data (issue 16): off-domain text says
`relabel`; a held-out slice of the test split and the bundled example export say `ok`."""

import json

import pandas as pd

from pipeline.config import PROJECT_ROOT
from pipeline.training.drift import held_out_test_rows

OFF_DOMAIN = PROJECT_ROOT / "tests" / "fixtures" / "drift" / "off_domain.csv"
EXAMPLE = PROJECT_ROOT / "examples" / "exit_survey_export_cp1252.csv"


def _drift(run_cli, *args):
    code, out, err = run_cli("drift", *map(str, args), "--no-track", "--json")
    assert code == 0, err
    return json.loads(out)


def test_off_domain_text_says_relabel(run_cli):
    figures = _drift(run_cli, OFF_DOMAIN, "-c", "text")
    assert figures["verdict"] == "relabel", figures["reason"]
    assert figures["next_step"].startswith("behaviours labelled suggest")


def test_a_held_out_slice_of_the_test_split_says_ok(run_cli, tmp_path, taxonomy):
    rows = held_out_test_rows(PROJECT_ROOT / "labelled", taxonomy)
    path = tmp_path / "held_out.csv"
    pd.DataFrame({"text": [r.text for r in rows]}).to_csv(path, index=False)
    figures = _drift(run_cli, path, "-c", "text")
    assert figures["verdict"] == "ok", figures["reason"]


def test_the_bundled_example_export_says_ok(run_cli):
    figures = _drift(run_cli, EXAMPLE, "-c", "leaving_reason", "-c", "could_do_better")
    assert figures["verdict"] == "ok", figures["reason"]
