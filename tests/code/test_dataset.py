"""The labelled data as a Hugging Face DatasetDict: conversion, round trip, and `behaviours labelled export`."""

from dataclasses import replace

import pandas as pd
import pytest
from datasets import DatasetDict, load_from_disk
from helpers import tiny_rows, write_labelled_csv

from pipeline.data.dataset import dataset_card, rows_from_split, save_dataset, to_dataset_dict
from pipeline.errors import InputError

TEST_IDS = {"t-001", "t-005", "t-053"}


def _content(rows):
    return [(r.id, r.text, r.labels, r.polarity, r.register, r.source) for r in rows]


def _rows():
    """The tiny set, with one row (t-003) carrying two behaviours."""
    rows = tiny_rows()
    return [replace(r, labels=("mindset", "trust"), polarity=("+", "-")) if r.id == "t-003" else r for r in rows]


@pytest.fixture()
def labelled(tmp_path):
    folder = tmp_path / "labelled"
    folder.mkdir()
    write_labelled_csv(folder / "tiny.csv", _rows())
    (folder / "test_ids.txt").write_text("".join(f"{i}\n" for i in sorted(TEST_IDS)))
    return folder


def test_splits_columns_and_multi_hot(taxonomy):
    dataset = to_dataset_dict(_rows(), TEST_IDS, taxonomy)
    assert set(dataset) == {"train", "test"}
    assert sorted(dataset["test"]["id"]) == sorted(TEST_IDS) and len(dataset["train"]) == len(_rows()) - 3
    train = dataset["train"]
    assert list(train.features) == ["id", "text", "labels", "label_ids", "polarity", "register", "source"]
    row = train[1]  # t-003: mindset (+) then trust (-)
    assert row["label_ids"] == ["mindset", "trust"] and row["polarity"] == ["+", "-"]
    assert len(row["labels"]) == 13
    assert [taxonomy.ids[k] for k, v in enumerate(row["labels"]) if v] == ["mindset", "trust"]
    none = dataset["test"][2]  # t-053, no behaviour
    assert none["labels"] == [0] * 13 and none["label_ids"] == [] and none["polarity"] == []
    assert ", ".join(taxonomy.ids) in train.info.description  # the label order travels with the data


def test_rows_from_split_round_trip(taxonomy):
    dataset = to_dataset_dict(_rows(), TEST_IDS, taxonomy)
    train, test = rows_from_split(dataset["train"]), rows_from_split(dataset["test"])
    assert sorted(_content(train + test)) == sorted(_content(_rows()))
    assert (test[0].file, test[0].line) == ("test", 1)


def test_empty_test_split(taxonomy):
    dataset = to_dataset_dict(_rows(), set(), taxonomy)
    assert len(dataset["test"]) == 0 and dataset["test"].features == dataset["train"].features


def test_card_has_counts_label_order_provenance_and_licence(taxonomy):
    card = dataset_card(to_dataset_dict(_rows(), TEST_IDS, taxonomy), taxonomy)
    assert card.startswith("---\nlanguage:")
    assert "| train | 61 | 11 | 1 |" in card and "| test | 3 | 1 | 0 |" in card
    assert "| 0 | `authenticity` | Authenticity | Being | 2 | 1 |" in card
    assert "| `authored` | 61 | 3 |" in card and "## Licence" in card
    assert "Only the brainstorm comments and the framework descriptions are real text" in card


def test_export_writes_dataset_parquet_and_card(run_cli, labelled, tmp_path):
    out = tmp_path / "export"
    code, stdout, err = run_cli("labelled", "export", "--to", out, "--labelled", labelled)
    assert code == 0, err
    assert "train 61 rows, test 3 rows" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "dataset", "test.parquet", "train.parquet"]
    loaded = load_from_disk(str(out / "dataset"))
    assert isinstance(loaded, DatasetDict)
    rows = rows_from_split(loaded["train"]) + rows_from_split(loaded["test"])
    assert sorted(_content(rows)) == sorted(_content(_rows()))
    parquet = pd.read_parquet(out / "test.parquet")
    assert sorted(parquet["id"]) == sorted(TEST_IDS) and len(parquet["labels"].iloc[0]) == 13
    assert "multi-hot over the behaviours in this order: authenticity, mindset" in (out / "README.md").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_export_refuses_a_folder_that_is_not_empty(run_cli, labelled, tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli("labelled", "export", "--to", out, "--labelled", labelled)
    assert code == 2 and "not empty (use --force to replace it)" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    code, _, err = run_cli("labelled", "export", "--to", out, "--labelled", labelled, "--force")
    assert code == 0, err
    assert not (out / "keep.txt").exists() and (out / "dataset").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "labelled"]


def test_export_into_an_empty_folder_and_bad_targets(run_cli, labelled, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("labelled", "export", "--to", empty, "--labelled", labelled)[0] == 0
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli("labelled", "export", "--to", tmp_path / "file", "--labelled", labelled)
    assert code == 2 and "is not a folder" in err
    code, _, err = run_cli("labelled", "export", "--to", tmp_path / "no" / "such", "--labelled", labelled)
    assert code == 2 and "does not exist" in err


def test_export_refuses_invalid_labelled_data(run_cli, labelled, tmp_path):
    (labelled / "bad.csv").write_text("id,text,labels,polarity,register,source\nb1,x,leadership,+,exit_survey,a\n")
    code, _, err = run_cli("labelled", "export", "--to", tmp_path / "export", "--labelled", labelled)
    assert code == 2 and "labelled data has 1 problem(s)" in err
    assert not (tmp_path / "export").exists()


def test_a_failed_export_leaves_no_half_folder(taxonomy, tmp_path, monkeypatch):
    dataset = to_dataset_dict(_rows(), TEST_IDS, taxonomy)
    out = tmp_path / "export"

    def fail(self, path):
        raise OSError("disk full")

    monkeypatch.setattr(type(dataset["train"]), "to_parquet", fail)
    with pytest.raises(OSError):
        save_dataset(dataset, "card", out)
    assert list(tmp_path.iterdir()) == []
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(OSError):
        save_dataset(dataset, "card", out, force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["export"] and (out / "old.txt").read_text() == "old"
    with pytest.raises(InputError, match="not empty"):
        save_dataset(dataset, "card", out)
