"""Loading a model runs no pickle (issue 14, supply chain): a model folder is data, never code.

A pickle (also joblib's, `numpy.load(allow_pickle=True)`'s and `torch.load`'s) can run any
code when it is read, so a model folder that someone swapped could take over the machine
scoring HR data. The shipped model is loaded with the product's own `load_tagger` in a fresh
interpreter where every pickle entry point records the attempt and raises, and it must still
load and tag; a static scan keeps pickle out of `pipeline/`.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

# Run in a new process, patched before anything imports pickle, so a library's own
# `from pickle import loads` gets the blocked one too, and no model is already cached.
LOAD_WITH_PICKLE_BLOCKED = r"""
import json, sys, pickle, _pickle
attempts = []

def blocked(name):
    def refuse(*args, **kwargs):
        attempts.append(name)
        raise RuntimeError(f"{name} called while loading the model")
    return refuse

def blocked_unpickler(module):
    class BlockedUnpickler(module.Unpickler):  # a class still, so libraries (dill) can subclass it at import
        def __init__(self, *args, **kwargs):
            blocked(f"{module.__name__}.Unpickler")()
    return BlockedUnpickler

for module in (pickle, _pickle):
    module.Unpickler = blocked_unpickler(module)
    for name in ("load", "loads"):
        setattr(module, name, blocked(f"{module.__name__}.{name}"))

def audit(event, args):  # any unpickler that looks up a class or function, however it was reached
    if event == "pickle.find_class":
        attempts.append(f"pickle.find_class {args[0]}.{args[1]}")
        raise RuntimeError("unpickling while loading the model")
sys.addaudithook(audit)

import joblib, numpy, torch
joblib.load = blocked("joblib.load")
torch.load = blocked("torch.load")
numpy_load = numpy.load
def numpy_load_without_pickle(*args, allow_pickle=False, **kwargs):
    if allow_pickle:
        return blocked("numpy.load(allow_pickle=True)")()
    return numpy_load(*args, allow_pickle=False, **kwargs)
numpy.load = numpy_load_without_pickle

from pathlib import Path
from pipeline.config import load_params
from pipeline.taxonomy import load_taxonomy
from pipeline.tagger import load_tagger

params = load_params(Path("configs/params.yaml"))
tagger = load_tagger(Path("models/default"), params, load_taxonomy().ids)
[result] = tagger.tag(["My manager pushed me to apply for the band 6 post and found me a mentor."])
try:
    pickle.loads(pickle.dumps(1))
except RuntimeError:
    pass
print(json.dumps({"behaviours": list(result.behaviours), "attempts": attempts, "backend": params.backend.name}))
"""


@pytest.mark.integration
def test_the_shipped_model_loads_and_tags_with_every_pickle_loader_blocked():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, "-c", LOAD_WITH_PICKLE_BLOCKED], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["attempts"] == ["pickle.loads"], report  # only the check at the end: the patches were live
    assert "lead_enable_others" in report["behaviours"]


PICKLE_MODULES = {"pickle", "_pickle", "cPickle", "joblib", "dill", "cloudpickle", "shelve"}


def pickle_uses(source: str) -> list[str]:
    """Where `source` imports a pickle module, calls `torch.load` or `read_pickle`, or passes allow_pickle."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in PICKLE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLE_MODULES:
            found.append(f"from {node.module} import")
        elif isinstance(node, ast.Attribute) and node.attr == "read_pickle":
            found.append("read_pickle")
        elif isinstance(node, ast.Attribute) and node.attr == "load" and getattr(node.value, "id", None) == "torch":
            found.append("torch.load")
        elif isinstance(node, ast.keyword) and node.arg == "allow_pickle":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                found.append("allow_pickle not False")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "import pickle",
        "import joblib as jl",
        "from joblib import load",
        "from _pickle import loads",
        "import torch\ntorch.load('m.pt')",
        "np.load(p, allow_pickle=True)",
        "np.load(p, allow_pickle=flag)",
        "pd.read_pickle(p)",
    ],
)
def test_the_scan_finds_each_kind_of_pickle_use(source):
    assert pickle_uses(source)


def test_pipeline_has_no_pickle_import_or_load():
    modules = sorted((PROJECT / "pipeline").rglob("*.py"))
    assert len(modules) > 20
    found = {
        str(path.relative_to(PROJECT)): uses
        for path in modules
        if (uses := pickle_uses(path.read_text(encoding="utf-8")))
    }
    assert found == {}
