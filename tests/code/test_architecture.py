"""The layer rule of docs/architecture.md: imports go one way, with no cycle and no hidden import.

- import-linter's `layers` contract (pyproject.toml, `[tool.importlinter]`): a module
  imports only from layers below its own;
- no import cycle between any two modules of `pipeline`, inside a layer too;
- no `pipeline.*` import inside a function, where it would hide a dependency (and
  could close a cycle no file shows at its top). Lazy imports of heavy third-party
  libraries stay where they are.
"""

import ast
import subprocess
import sys
from pathlib import Path

import grimp

from pipeline.config import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "pipeline"


def test_layers_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _cycle(graph) -> list[str] | None:
    """One import cycle among the graph's modules, or None (depth-first search)."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == "open":
                return path[path.index(imported) :] + [imported]
            if imported not in state and (found := visit(imported)):
                return found
        state[module] = "done"
        path.pop()
        return None

    for module in sorted(graph.modules):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_import_cycle():
    graph = grimp.build_graph("pipeline", cache_dir=None)
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    assert _cycle(graph) is None
    graph.add_import(importer="c", imported="a")
    assert _cycle(graph) == ["a", "b", "c", "a"]


def _imports_in_functions(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                    names = [inner.module] if inner.module != "pipeline" else [f"pipeline.{a.name}" for a in inner.names]
                elif isinstance(inner, ast.Import):
                    names = [alias.name for alias in inner.names]
                else:
                    continue
                found += [(inner.lineno, name) for name in names if name == "pipeline" or name.startswith("pipeline.")]
    return found


def test_no_pipeline_import_inside_a_function():
    hidden = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, name in _imports_in_functions(path.read_text(encoding="utf-8"))
    ]
    assert not hidden, "pipeline imports inside functions:\n" + "\n".join(hidden)


def test_the_function_import_check_sees_one():
    source = "import torch\n\ndef f():\n    import numpy\n    from pipeline.tagger import Tagger\n    return Tagger\n"
    assert _imports_in_functions(source) == [(5, "pipeline.tagger")]
