"""Settings of `suggest` compared at the first step of the learning curve, on sets where choices are made.

    .venv/bin/python experiments/suggest_settings.py '{"gate4": {"gate_weight": 4}}' [--seeds 48] [--validation 400]

benchmarks/active_learning.py measures `suggest` against random picks on the test split
and the new writers' development part; settings are chosen here, never on the test split.
From the benchmark's seed of 500 rows, each setting (a JSON object of `suggest:` values
from configs/params.yaml, by name; "random" is the random picks) adds one step of 250
picks, `--seeds` times with a new draw each, and the retrained head is measured on

- `development`: the new writers' development part, as in the benchmark;
- `validation`: `--validation` gold training rows held out from the candidates (seeded),
  texts by the writers of the test split's corpus, which the development part is not:
  a setting that helps only new writers' text, or only the corpus's, shows here.

Prints each setting's mean on both sets, minus random's, with a 90% bootstrap interval
(each side's seeds resampled on their own), and writes
`experiments/suggest_settings.json`, keeping the settings an earlier run there measured the
same way (seeds, held-out and seed rows). The first step is where settings differ most: after
500 labels the model's doubts are those of a weak model.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import active_learning  # noqa: E402  (the benchmark module: its curve, head and data)

from pipeline.config import SuggestParams  # noqa: E402
from pipeline.data.rows import label_matrix  # noqa: E402
from pipeline.training.train import embed_labelled  # noqa: E402

TAXONOMY = active_learning.TAXONOMY
SETS = ("development", "validation")
RESULTS = ROOT / "experiments" / "suggest_settings.json"


def read_settings(text: str) -> dict[str, dict]:
    """The settings argument, checked: a JSON object of names, each an object of `suggest:` settings
    (a one-line exit if not)."""
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as error:
        sys.exit(f"settings: not JSON ({error.msg} at character {error.pos})")
    if not isinstance(settings, dict) or not all(isinstance(values, dict) for values in settings.values()):
        sys.exit('settings: give a JSON object of names, each an object of suggest settings, '
                 'e.g. {"gate4": {"gate_weight": 4}}')
    known = set(SuggestParams.__dataclass_fields__)
    for name, values in settings.items():
        unknown = sorted(set(values) - known)
        if unknown:
            sys.exit(f"{name}: {unknown[0]!r} is not a suggest setting; they are: {', '.join(sorted(known))}")
    return settings | {"random": {}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", help='JSON: {"name": {suggest setting: value}}; "random" for random picks')
    parser.add_argument("--seeds", type=int, default=48)
    parser.add_argument("--validation", type=int, default=400, help="gold training rows held out to measure on")
    parser.add_argument("--seed", type=int, default=13, help="chooses the held-out and the seed rows")
    args = parser.parse_args()
    settings = read_settings(args.settings)
    params = active_learning.benchmark_params()
    gold_train, pool, _, dev = active_learning.labelled_sets(params)  # the test split is never read further
    held_out = set(np.random.default_rng(args.seed).choice(len(gold_train), args.validation, replace=False).tolist())
    validation = [row for i, row in enumerate(gold_train) if i in held_out]
    universe = [row for i, row in enumerate(gold_train) if i not in held_out] + pool

    texts = [r.text for r in universe + dev + validation]
    embedded_all, _ = embed_labelled(texts, params, ROOT / ".cache" / "embeddings.sqlite3")
    n, d = len(universe), len(dev)
    embedded = embedded_all.subset(np.arange(n))
    evaluations = {
        "development": (embedded_all.subset(np.arange(n, n + d)), label_matrix(dev, TAXONOMY)),
        "validation": (embedded_all.subset(np.arange(n + d, len(texts))), label_matrix(validation, TAXONOMY)),
    }
    Y = label_matrix(universe, TAXONOMY)
    start = np.random.default_rng(args.seed).choice(n, size=500, replace=False)
    ids = TAXONOMY.ids
    seed_head = active_learning.Head(embedded.subset(start), Y[start], params, ids)

    figures: dict[str, dict[str, list[float]]] = {}
    for name, values in settings.items():
        strategy = "random" if name == "random" else "suggest"
        setting = replace(params, suggest=replace(params.suggest, **values))
        figures[name] = {s: [] for s in SETS}
        for seed in range(args.seeds):
            records = active_learning.run_curve(
                strategy, seed, seed_head, start, universe, embedded, Y, evaluations, setting, ids,
                step=250, steps=1, log=lambda line: None,
            )
            for r in records:
                if r["labels"] > 500:
                    figures[name][r["set"]].append(r["macro_f1"])
            print(f"{name} seed {seed}: " + ", ".join(f"{s} {figures[name][s][-1]:.3f}" for s in SETS), flush=True)

    results = {
        "method": {"seed_rows": 500, "step": 250, "seeds": args.seeds, "validation_rows": len(validation),
                   "candidates": n, "development_rows": d},
        "settings": settings,
        "first_step": {},
    }
    for name in settings:
        results["first_step"][name] = {}
        for s in SETS:
            ours, random = figures[name][s], figures["random"][s]
            results["first_step"][name][s] = {
                "mean": round(float(np.mean(ours)), 4),
                "minus_random": round(float(np.mean(ours) - np.mean(random)), 4),
                "minus_random_interval_90": active_learning.difference_interval(ours, random),
            }
            shown = results["first_step"][name][s]
            print(f"{name:12s} {s:12s} {shown['mean']:.4f}  minus random {shown['minus_random']:+.4f} "
                  f"({shown['minus_random_interval_90'][0]:+.4f} to {shown['minus_random_interval_90'][1]:+.4f})")
    RESULTS.write_text(json.dumps(with_earlier(results), indent=2) + "\n")


def with_earlier(results: dict) -> dict:
    """`results` and the settings an earlier run measured the same way (same method), which this run did not."""
    earlier = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if earlier.get("method") != results["method"]:
        return results
    kept = [name for name in earlier["settings"] if name not in results["settings"]]
    return results | {
        "settings": {name: earlier["settings"][name] for name in kept} | results["settings"],
        "first_step": {name: earlier["first_step"][name] for name in kept} | results["first_step"],
    }


if __name__ == "__main__":
    main()
