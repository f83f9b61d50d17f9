"""The test sets stay honest: the sealed part does not change, and nothing crosses a test/training line."""

from __future__ import annotations

import hashlib
import shutil
from urllib.parse import urlsplit

import numpy as np
import pytest

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.rows import labelled_files, near_duplicate_pairs, text_key, validate_files
from pipeline.encoders.cached import CachedEncoder
from pipeline.encoders.load import load_encoder
from pipeline.data.pairs import pair_part, read_pairs
from pipeline.data.pool import SEAL_FILE, load_pool, write_test_parts, write_whole_test_set
from pipeline.data.split import read_test_ids
from pipeline.tagger import embed_texts

LABELLED = PROJECT_ROOT / "labelled"
NEW_WRITERS = LABELLED / "newwriters"


@pytest.fixture(scope="module")
def sides(taxonomy) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(id, text, source) of every test row and every training row.

    Test: the gold test split, the new writers' parts, the hedged set, the test half of
    the contrast pairs. Training: the other gold rows, the pool, the training half of the pairs.
    """
    gold, problems = validate_files(labelled_files(LABELLED), taxonomy)
    assert problems == []
    test_ids = read_test_ids(LABELLED / "test_ids.txt")
    new_writers, problems = validate_files(
        [NEW_WRITERS / "dev.csv", NEW_WRITERS / "final.csv", LABELLED / "hedged" / "hedged.csv"], taxonomy
    )
    assert problems == []
    pool, problems = load_pool(LABELLED / "pool", taxonomy)
    assert problems == []
    pairs, problems = read_pairs(LABELLED / "pairs", taxonomy)
    assert problems == []
    pair_rows = {part: [row for pair in pairs if pair_part(pair.pair_id) == part for row in pair.rows("pairs")] for part in ("train", "test")}
    tests = [(r.id, r.text, r.source) for r in [*(r for r in gold if r.id in test_ids), *new_writers, *pair_rows["test"]]]
    training = [(r.id, r.text, r.source) for r in [*(r for r in gold if r.id not in test_ids), *pair_rows["train"]]]
    return tests, training + [(t.id, t.text, t.source) for t in pool]


def test_the_sealed_final_part_is_unchanged():
    sealed = (NEW_WRITERS / SEAL_FILE).read_text().split()[0]
    assert hashlib.sha256((NEW_WRITERS / "final.csv").read_bytes()).hexdigest() == sealed


def test_committed_parts_are_the_majority_of_the_committed_votes(tmp_path, taxonomy):
    copy = tmp_path / "newwriters"
    shutil.copytree(NEW_WRITERS, copy)
    write_test_parts(copy, taxonomy)
    for part in ("dev.csv", "final.csv"):
        assert (copy / part).read_bytes() == (NEW_WRITERS / part).read_bytes(), f"{part} is stale: rebuild it"


def test_the_hedged_set_is_the_majority_of_its_committed_votes(tmp_path, taxonomy):
    copy = tmp_path / "hedged"
    shutil.copytree(LABELLED / "hedged", copy)
    write_whole_test_set(copy, taxonomy)
    assert (copy / "hedged.csv").read_bytes() == (LABELLED / "hedged" / "hedged.csv").read_bytes(), "hedged.csv is stale"


def test_no_text_is_on_both_sides(sides):
    tests, training = sides
    training_keys = {text_key(text): row_id for row_id, text, _ in training}
    shared = [(row_id, training_keys[text_key(text)]) for row_id, text, _ in tests if text_key(text) in training_keys]
    assert shared == []


def _page(source: str) -> str | None:
    if not source.startswith(("http://", "https://")):
        return None
    parts = urlsplit(source.strip())
    return (parts.netloc.lower().rstrip(".").removeprefix("www.") + parts.path.rstrip("/")).lower()


def test_no_source_page_is_on_both_sides(sides):
    tests, training = sides
    test_pages = {_page(source) for _, _, source in tests} - {None}
    training_pages = {_page(source) for _, _, source in training} - {None}
    assert test_pages, "the test sets hold real passages"
    assert test_pages & training_pages == set()


@pytest.mark.integration
def test_no_near_duplicate_is_on_both_sides(sides, real_splitter):
    """Cosine of frozen-MiniLM text vectors (the split's grouping threshold) between every test and training text.

    The encoder is loaded here, not shared: other tests adapt the shared one in place.
    """
    tests, training = sides
    params = load_params()
    encoder = CachedEncoder(load_encoder(params.encoder), PROJECT_ROOT / ".cache" / "embeddings.sqlite3")
    threshold = params.split.group_cosine
    vectors = embed_texts([text for _, text, _ in tests + training], real_splitter, encoder).text_vectors()
    n = len(tests)
    crossing = [
        (tests[i][0], training[j - n][0], round(cosine, 3))
        for i, j, cosine in near_duplicate_pairs(np.asarray(vectors), threshold)
        if i < n <= j
    ]
    assert crossing == [], "leave one side out in its folder's excluded.csv"
