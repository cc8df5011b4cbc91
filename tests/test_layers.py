"""The package is layered: no import cycle among globalfit's modules and the likelihood library, and no
function-local import of a project module (the way a cycle gets hidden)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("globalfit", "likelihoods")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).glob("*.py"):
            out[f"{pkg}.{f.stem}" if f.stem != "__init__" else pkg] = f
    return out


def _target(node: ast.ImportFrom | ast.Import, module: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = module.split(".")[: -node.level] if not module.endswith("__init__") else module.split(".")
        pkg = ".".join(base if module in PACKAGES else module.split(".")[: len(module.split(".")) - node.level])
        return [f"{pkg}.{node.module}" if node.module else pkg]
    return [node.module]


def _imports(modules: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    graph, local = {}, []
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        deps = set()
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for t in _target(node, name):
                # `from . import x` names a module x of the package
                cands = [t] + ([f"{t}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) else [])
                for c in cands:
                    if c in modules and c != name:
                        deps.add(c)
                        if node.col_offset > 0:
                            local.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {c}")
        graph[name] = deps
    return graph, local


def test_no_import_cycle_and_no_local_project_imports():
    graph, local = _imports(_modules())
    assert not local, local
    state: dict[str, int] = {}

    def visit(n, stack):
        state[n] = 1
        for d in graph[n]:
            if d == "likelihoods" and n.startswith("likelihoods."):
                continue  # a likelihood module registers itself with its package's registry
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack + [n, d]))
            if not state.get(d):
                visit(d, stack + [n])
        state[n] = 2

    for n in graph:
        if not state.get(n):
            visit(n, [])
