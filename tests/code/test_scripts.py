"""Every script beside the package still imports against it: benchmarks, their data maker, experiments, examples.

The scripts are run by hand, not by the tests, so a moved or renamed `pipeline` name
broke them silently once (issue 11). Each is loaded here as a module under a name other
than `__main__`, so its imports run and its `main()` does not. A script must keep its
work inside `main()`: importing it reads no data, loads no model and prints nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT

FOLDERS = ("benchmarks", "benchmarks/data", "experiments", "examples")
SCRIPTS = sorted(path for folder in FOLDERS for path in (PROJECT_ROOT / folder).glob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def test_every_folder_has_scripts():
    """The glob finds the scripts (an empty list would pass the test below without checking anything)."""
    for folder in FOLDERS:
        assert any(path.parent == PROJECT_ROOT / folder for path in SCRIPTS), f"no scripts found in {folder}/"


@pytest.mark.parametrize("path", SCRIPTS, ids=_name)
def test_script_imports(path: Path, monkeypatch, capsys):
    # As `python path/to/script.py` does: the script's own folder first on sys.path,
    # for scripts that import a sibling (`from score_speed import machine`).
    monkeypatch.syspath_prepend(str(path.parent))
    before = set(sys.modules)
    name = "script_" + _name(path).removesuffix(".py").replace("/", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        for loaded in set(sys.modules) - before:  # forget siblings imported by name, for the next script
            file = getattr(sys.modules[loaded], "__file__", None) or ""
            if any(Path(file).parent == PROJECT_ROOT / folder for folder in FOLDERS):
                del sys.modules[loaded]
    assert callable(getattr(module, "main", None)), f"{_name(path)} has no main()"
    assert capsys.readouterr().out == "", f"{_name(path)} prints on import: its work belongs in main()"
