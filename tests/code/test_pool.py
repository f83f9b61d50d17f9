"""The soft-labelled pool: batches, votes, soft labels, agreement and the test-set parts."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from pipeline.data.rows import soft_label_matrix, validate_files
from pipeline.errors import InputError
from pipeline.data.dataset import pool_dataset
from pipeline.data.pool import (
    SEAL_FILE,
    WRITER_COLUMNS,
    PoolText,
    Vote,
    agreement_figures,
    assign_part,
    krippendorff_alpha,
    load_batch,
    load_pool,
    pool_training_rows,
    prepare_batch,
    write_test_parts,
)

ROWS = [
    ("b1-0001", "She explains every rota change. Parking is awful.", "staff_survey", "trust", "+"),
    ("b1-0002", "The canteen shuts at six.", "exit_survey", "", ""),
    ("b1-0003", "Never asked what we thought. Just announced it.", "exit_survey", "collaboration_cocreation", "-"),
]


def write_batch(folder: Path, rows=ROWS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "writer.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(WRITER_COLUMNS)
        for row_id, text, register, labels, polarity in rows:
            writer.writerow([row_id, text, register, "authored:b1", "test voice", labels, polarity])
    return folder


def write_votes(folder: Path, reader: str, votes: list[dict]) -> None:
    lines = [json.dumps(vote) for vote in votes]
    (folder / f"votes_{reader}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def reader_input(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "reader_input.jsonl").read_text().splitlines()]


def agreeing_votes(folder: Path) -> list[dict]:
    """Votes that agree with the writer, tagging each label on the batch's first sentence."""
    votes = []
    for record in reader_input(folder):
        writer_row = next(row for row in ROWS if row[0] == record["id"])
        tags = [f"{label}{sign}" for label, sign in zip(writer_row[3].split(";"), writer_row[4].split(";")) if label]
        sentences = [tags] + [[] for _ in record["sentences"][1:]]
        votes.append({"id": record["id"], "labels": tags, "sentences": sentences})
    return votes


def test_prepare_batch_cuts_texts_into_sentences_without_labels(tmp_path, splitter, taxonomy):
    folder = write_batch(tmp_path / "batches" / "b1")
    assert prepare_batch(folder, splitter, taxonomy) == 3
    records = reader_input(folder)
    assert [r["id"] for r in records] == ["b1-0001", "b1-0002", "b1-0003"]
    assert records[0]["sentences"] == ["She explains every rota change.", "Parking is awful."]
    assert all(set(r) == {"id", "register", "sentences"} for r in records)  # readers never see labels


def test_prepare_batch_refuses_once_votes_exist(tmp_path, splitter, taxonomy):
    folder = write_batch(tmp_path / "b1")
    prepare_batch(folder, splitter, taxonomy)
    write_votes(folder, "r1", agreeing_votes(folder))
    with pytest.raises(InputError, match="votes exist already"):
        prepare_batch(folder, splitter, taxonomy)


def test_votes_become_soft_labels_and_sentence_labels(tmp_path, splitter, taxonomy):
    folder = write_batch(tmp_path / "b1")
    prepare_batch(folder, splitter, taxonomy)
    write_votes(folder, "r1", agreeing_votes(folder))
    dissent = agreeing_votes(folder)
    dissent[0] = {"id": "b1-0001", "labels": ["trust-"], "sentences": [["trust-"], []]}
    write_votes(folder, "r2", dissent)
    texts, problems = load_batch(folder, taxonomy)
    assert problems == []
    first = texts[0]
    assert [vote.voter for vote in first.votes] == ["writer", "r1", "r2"]
    assert first.share("trust") == 1.0
    assert first.polarity("trust") == "+"  # two of three say strength
    assert first.sentence_shares("trust") == [1.0, 0.0]
    assert texts[1].majority_labels() == {}


def test_training_rows_carry_the_vote_shares_as_soft_labels(tmp_path, splitter, taxonomy):
    folder = write_batch(tmp_path / "batches" / "b1")
    prepare_batch(folder, splitter, taxonomy)
    write_votes(folder, "r1", agreeing_votes(folder))
    dissent = agreeing_votes(folder)
    dissent[2] = {"id": "b1-0003", "labels": ["trust-"], "sentences": [["trust-"], []]}
    write_votes(folder, "r2", dissent)
    rows = pool_training_rows(tmp_path, taxonomy, min_votes=3)
    third = next(row for row in rows if row.id == "b1-0003")
    assert third.labels == ("collaboration_cocreation",)  # two of three votes
    assert dict(third.shares) == pytest.approx({"collaboration_cocreation": 2 / 3, "trust": 1 / 3})
    soft = soft_label_matrix([third, dataclasses.replace(third, shares=None)], taxonomy)
    column = {b: j for j, b in enumerate(taxonomy.ids)}
    assert soft[0, column["trust"]] == pytest.approx(1 / 3) and soft[0].sum() == pytest.approx(1.0)
    assert soft[1, column["trust"]] == 0.0 and soft[1, column["collaboration_cocreation"]] == 1.0  # gold: 0 or 1


def test_bad_votes_are_reported_with_file_and_line(tmp_path, splitter, taxonomy):
    folder = write_batch(tmp_path / "b1")
    prepare_batch(folder, splitter, taxonomy)
    votes = agreeing_votes(folder)
    votes[0] = {"id": "b1-0001", "labels": ["trust+"], "sentences": [["trust+"]]}  # one list for two sentences
    votes[2] = {"id": "b1-0003", "labels": ["teamwork+"], "sentences": [["teamwork+"], []]}
    write_votes(folder, "r1", votes)
    _, problems = load_batch(folder, taxonomy)
    messages = [str(p) for p in problems]
    assert any("votes_r1.jsonl:1: 1 sentence lists for 2 sentences" in m for m in messages)
    assert any("votes_r1.jsonl:3: bad tag 'teamwork+'" in m for m in messages)


def test_labels_and_sentence_tags_must_agree(tmp_path, splitter, taxonomy):
    folder = write_batch(tmp_path / "b1")
    prepare_batch(folder, splitter, taxonomy)
    votes = agreeing_votes(folder)
    votes[0] = {"id": "b1-0001", "labels": ["trust+", "delivery+"], "sentences": [["trust+"], []]}
    write_votes(folder, "r1", votes)
    _, problems = load_batch(folder, taxonomy)
    assert "different behaviours" in str(problems[0])


def test_ids_must_be_unique_across_batches(tmp_path, taxonomy):
    write_batch(tmp_path / "batches" / "b1")
    write_batch(tmp_path / "batches" / "b2")
    _, problems = load_pool(tmp_path, taxonomy)
    assert sum("id in more than one batch" in str(p) for p in problems) == 3


def test_polarity_tie_goes_to_the_writer():
    text = PoolText("x", "t", "exit_survey", "s", "v", "b", None, (Vote("writer", {"trust": "+"}), Vote("r1", {"trust": "-"})))
    assert text.polarity("trust") == "+"
    assert text.majority_labels() == {"trust": "+"}


def test_krippendorff_alpha_matches_worked_values():
    assert krippendorff_alpha([[1, 1], [0, 0], [1, 1], [0, 0]]) == pytest.approx(1.0)
    # Krippendorff (2011), binary example: two coders, ten units.
    coder_a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    coder_b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert krippendorff_alpha([list(pair) for pair in zip(coder_a, coder_b)]) == pytest.approx(0.095, abs=0.001)


def test_agreement_is_perfect_when_every_vote_agrees(tmp_path, splitter, taxonomy):
    folder = write_batch(tmp_path / "b1")
    prepare_batch(folder, splitter, taxonomy)
    write_votes(folder, "r1", agreeing_votes(folder))
    write_votes(folder, "r2", agreeing_votes(folder))
    texts, _ = load_batch(folder, taxonomy)
    figures = agreement_figures(texts, taxonomy)
    assert figures["texts"] == 3
    assert figures["per_behaviour"]["trust"]["pairwise_f1"] == 1.0
    assert figures["per_behaviour"]["trust"]["polarity_agreement"] == 1.0
    assert figures["no_behaviour_alpha"] == pytest.approx(1.0)


def test_test_set_parts_are_fixed_by_id_and_roughly_halved():
    parts = [assign_part(f"nw01-{i:04d}") for i in range(1, 801)]
    assert parts == [assign_part(f"nw01-{i:04d}") for i in range(1, 801)]
    assert 0.4 < parts.count("dev") / len(parts) < 0.6


def voted_test_folder(tmp_path, splitter, taxonomy) -> Path:
    folder = tmp_path / "newwriters"
    batch = write_batch(folder / "batches" / "b1")
    prepare_batch(batch, splitter, taxonomy)
    write_votes(batch, "r1", agreeing_votes(batch))
    write_votes(batch, "r2", agreeing_votes(batch))
    return folder


def test_test_parts_hold_majority_labels_in_the_gold_format(tmp_path, splitter, taxonomy):
    folder = voted_test_folder(tmp_path, splitter, taxonomy)
    written = write_test_parts(folder, taxonomy)
    rows, problems = validate_files([written["dev"][0], written["final"][0]], taxonomy)
    assert problems == []
    assert sorted(row.id for row in rows) == ["b1-0001", "b1-0002", "b1-0003"]
    labels = {row.id: (row.labels, row.polarity) for row in rows}
    assert labels["b1-0001"] == (("trust",), ("+",))
    assert labels["b1-0002"] == ((), ())


def test_a_sealed_final_part_cannot_change(tmp_path, splitter, taxonomy):
    folder = voted_test_folder(tmp_path, splitter, taxonomy)
    final, _ = write_test_parts(folder, taxonomy)["final"]
    (folder / SEAL_FILE).write_text(f"{hashlib.sha256(final.read_bytes()).hexdigest()}  final.csv\n")
    write_test_parts(folder, taxonomy)  # the same content: allowed
    votes = agreeing_votes(folder / "batches" / "b1")
    for vote in votes:
        vote.update(labels=["delivery-"], sentences=[["delivery-"]] + [[] for _ in vote["sentences"][1:]])
    write_votes(folder / "batches" / "b1", "r1", votes)
    write_votes(folder / "batches" / "b1", "r2", votes)
    with pytest.raises(InputError, match="sealed"):
        write_test_parts(folder, taxonomy)


def test_excluded_ids_stay_out_of_both_parts(tmp_path, splitter, taxonomy):
    folder = voted_test_folder(tmp_path, splitter, taxonomy)
    (folder / "excluded.csv").write_text('id,reason\nb1-0002,"the same text as a training row"\n', encoding="utf-8")
    written = write_test_parts(folder, taxonomy)
    rows, _ = validate_files([written["dev"][0], written["final"][0]], taxonomy)
    assert sorted(row.id for row in rows) == ["b1-0001", "b1-0003"]


def test_the_pool_exports_with_votes_and_soft_labels(tmp_path, splitter, taxonomy):
    folder = voted_test_folder(tmp_path, splitter, taxonomy)
    texts, _ = load_pool(folder, taxonomy)
    dataset = pool_dataset(texts, taxonomy)
    first = dataset[0]
    trust = taxonomy.ids.index("trust")
    assert len(dataset) == 3 and first["id"] == "b1-0001"
    assert [vote["voter"] for vote in first["votes"]] == ["writer", "r1", "r2"]
    assert first["soft_labels"][trust] == 1.0 and sum(first["soft_labels"]) == 1.0
    assert first["polarity"][trust] == "+" and first["polarity"].count("") == len(taxonomy) - 1
    assert len(first["sentence_soft_labels"]) == len(first["sentences"]) == 2
    assert first["sentence_soft_labels"][0][trust] == 1.0 and first["sentence_soft_labels"][1][trust] == 0.0


def test_the_pool_commands(tmp_path, run_cli):
    folder = tmp_path / "newwriters"
    batch = write_batch(folder / "batches" / "b1")
    code, out, err = run_cli("labelled", "prepare", batch)
    assert code == 0, err
    assert "3 texts ready for readers" in out
    code, _, err = run_cli("labelled", "prepare", batch)
    assert code == 0  # no votes yet: the reader input may be remade
    write_votes(batch, "r1", agreeing_votes(batch))
    write_votes(batch, "r2", agreeing_votes(batch))
    code, _, err = run_cli("labelled", "prepare", batch)
    assert code == 2 and "votes exist already" in err
    code, out, _ = run_cli("labelled", "agreement", "--folder", folder, "--json")
    assert code == 0 and json.loads(out)["all"]["texts"] == 3
    code, out, _ = run_cli("labelled", "agreement", "--folder", folder)
    assert code == 0 and "trust" in out and "agree more than independent people" in out
    code, out, err = run_cli("labelled", "test-sets", "--folder", folder)
    assert code == 0, err
    assert (folder / "dev.csv").exists() and (folder / "final.csv").exists()


def test_a_damaged_reader_input_is_one_clear_error(tmp_path, splitter, taxonomy):
    folder = write_batch(tmp_path / "b1")
    prepare_batch(folder, splitter, taxonomy)
    (folder / "reader_input.jsonl").write_text('{"id": "b1-0001", "sentences": [\n', encoding="utf-8")
    with pytest.raises(InputError, match="not a reader input"):
        load_batch(folder, taxonomy)
