from collections import Counter

from helpers import tiny_rows

from pipeline.config import SplitParams
from pipeline.data.rows import LabelledRow
from pipeline.data.split import make_test_split, partition, read_test_ids, write_test_ids


def test_split_is_deterministic_stratified_and_disjoint():
    rows = tiny_rows()
    params = SplitParams(test_fraction=0.25, seed=1)
    test_ids = make_test_split(rows, params)
    assert test_ids == make_test_split(list(reversed(rows)), params)
    train, test = partition(rows, set(test_ids))
    assert {r.id for r in train}.isdisjoint({r.id for r in test})
    assert len(train) + len(test) == len(rows)
    per_behaviour = Counter(r.labels[0] for r in test if r.labels)
    assert set(per_behaviour) == {r.labels[0] for r in rows if r.labels}  # every behaviour is tested
    assert all(count == 1 for count in per_behaviour.values())  # 1 of 4 each


def test_framework_rows_always_train():
    rows = [LabelledRow(f"fw-{i}", f"definition {i}", ("trust",), ("+",), "framework", "framework", "f", i) for i in range(10)]
    assert make_test_split(rows, SplitParams(test_fraction=0.5)) == []


def test_ids_file_round_trip(tmp_path):
    path = tmp_path / "test_ids.txt"
    assert read_test_ids(path) == set()
    write_test_ids(["b", "a"], path)
    assert read_test_ids(path) == {"a", "b"}


def test_near_duplicates_stay_on_one_side():
    import numpy as np

    from pipeline.data.split import near_duplicate_groups

    rows = tiny_rows()
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(rows), 16))
    vectors[1] = vectors[0] + 0.01  # a near duplicate of row 0
    vectors[2] = vectors[1] + 0.01  # and of row 1: one chain, one group
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = near_duplicate_groups(vectors, 0.99)
    assert groups[0] == groups[1] == groups[2] and len(set(groups)) == len(rows) - 2
    for seed in range(10):
        test = set(make_test_split(rows, SplitParams(test_fraction=0.25, seed=seed), vectors))
        assert len({rows[i].id in test for i in (0, 1, 2)}) == 1
