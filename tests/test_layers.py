"""The package's layers hold and its import graph has no cycle (issue 16, item 2).

The contract is ``[tool.importlinter]`` in ``pyproject.toml`` (layers, top to bottom, and the
torch-free analysis); docs/architecture.md explains it. ``lint-imports`` checks it here, so a
broken contract fails the fast suite with import-linter's own report: the offending import
chain, each step with its file and line. Function-level imports count as much as top-level ones.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[1]
#: The project modules that subclass transformers classes at import time: imported in functions only.
DEFERRED = {"taskdiff.transfer.trainer", "taskdiff.difficulty.callbacks"}
#: ``lint-imports`` in this interpreter (the console script's own function; argv after ``-c``).
_LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``lint-imports --config CONFIG --no-cache`` in ``cwd`` (its packages importable from there)."""
    return subprocess.run([sys.executable, "-c", _LINT, "--config", str(config), "--no-cache"], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (or a module importing itself)."""
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []
    for root in imports:
        if root in index:
            continue
        work = [(root, iter(imports[root]))]  # iterative Tarjan: no recursion limit on deep graphs
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(imports[child])))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = stack[stack.index(node):]
                del stack[stack.index(node):]
                if len(part) > 1 or node in imports[node]:
                    cycles.append(sorted(part))
    return cycles


def describe_cycle(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """``a -> b (a.py:3) -> a (b.py:7)``: one way around ``cycle``, with the import lines."""
    first = cycle[0]
    back = graph.find_shortest_chain(importer=cycle[1], imported=first) if len(cycle) > 1 else (first,)
    there = graph.find_shortest_chain(importer=first, imported=cycle[1]) if len(cycle) > 1 else (first, first)
    chain = list(there) + list(back)[1:]
    steps = [chain[0]]
    for importer, imported in zip(chain, chain[1:]):
        lines = graph.get_import_details(importer=importer, imported=imported)
        where = f" (line {lines[0]['line_number']}: {lines[0]['line_contents']})" if lines else ""
        steps.append(f"{imported}{where}")
    return " -> ".join(steps)


def test_layers_contract_is_kept():
    result = lint_imports(REPO / "pyproject.toml", REPO)
    assert result.returncode == 0, (f"the import contract of pyproject.toml is broken (docs/architecture.md "
                                    f"says which layer may import which):\n{result.stdout}\n{result.stderr}")
    assert "taskdiff layers KEPT" in result.stdout and "broken" in result.stdout


def test_no_import_cycles():
    graph = grimp.build_graph("taskdiff", cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe_cycle(graph, c) for c in cycles)


def test_a_planted_cycle_is_found_and_described():
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c", "p.d"):
        graph.add_module(name)
    for importer, imported, line in (("p.a", "p.b", 3), ("p.b", "p.c", 4), ("p.c", "p.a", 5), ("p.d", "p.a", 6)):
        graph.add_import(importer=importer, imported=imported, line_number=line, line_contents=f"import {imported}")
    assert import_cycles(graph) == [["p.a", "p.b", "p.c"]]
    assert describe_cycle(graph, ["p.a", "p.b", "p.c"]) == ("p.a -> p.b (line 3: import p.b) -> p.c (line 4: "
                                                             "import p.c) -> p.a (line 5: import p.a)")


def test_a_broken_layer_fails_with_its_import_chain(tmp_path):
    """The check can fail: a lower layer importing a higher one, through a third module."""
    pkg = tmp_path / "layered"
    pkg.mkdir()
    files = {"__init__.py": "", "top.py": "", "middle.py": "import layered.top\n",
             "bottom.py": "from layered import middle\n"}
    for name, text in files.items():
        (pkg / name).write_text(text)
    config = tmp_path / "contract.toml"
    config.write_text(textwrap.dedent("""\
        [tool.importlinter]
        root_package = "layered"

        [[tool.importlinter.contracts]]
        name = "layers"
        type = "layers"
        containers = ["layered"]
        layers = ["top", "bottom"]
        """))
    result = lint_imports(config, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "layers BROKEN" in result.stdout
    assert "layered.bottom -> layered.middle (l.1)" in result.stdout
    assert "layered.middle -> layered.top (l.1)" in result.stdout


def _import_graph_tool():
    spec = importlib.util.spec_from_file_location("import_graph", REPO / "tools" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_architecture_doc_shows_the_real_graph():
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- import-graph:begin -->\n(.*?)\n<!-- import-graph:end -->", doc, re.S)
    assert found, "docs/architecture.md lost its import-graph markers"
    assert found.group(1) == _import_graph_tool().doc_block(), (
        "docs/architecture.md's dependency graph differs from the imports: paste the output of "
        "`.venv/bin/python tools/import_graph.py --doc` between its markers (and check the layers text)")


def test_only_the_documented_project_imports_are_deferred():
    tool = _import_graph_tool()
    project = {(file, name) for file, _, name in tool.deferred_imports() if name.startswith("taskdiff.")}
    assert {name for _, name in project} <= DEFERRED, (
        f"function-level imports of project modules other than {sorted(DEFERRED)}: "
        f"{sorted(p for p in project if p[1] not in DEFERRED)} - import them at module level")
    eager = {file for file, _, _ in tool.eager_imports()}
    assert eager <= {"taskdiff/transfer/trainer.py", "taskdiff/difficulty/callbacks.py"}, (
        f"torch / transformers / ... imported at module level in {sorted(eager)}: import them in the functions")
    assert not tool.eager_imports(tuple(DEFERRED)), "a module imports trainer.py / callbacks.py at module level"
