"""The package is layered: no import cycle among globalfit's modules and the likelihood library, and no
function-local import of a project module (the way a cycle gets hidden)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("globalfit", "likelihoods")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py"):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def _target(node: ast.ImportFrom | ast.Import, module: str, path: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        parts = module.split(".")
        is_pkg = path.name == "__init__.py"
        base = parts if is_pkg else parts[:-1]
        base = base[: len(base) - (node.level - 1)]
        pkg = ".".join(base)
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
            for t in _target(node, name, path):
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


LAYERS = (  # (rank, module prefix); a module may import only from its own rank or below
    (0, ("globalfit", "globalfit._jax", "globalfit.errors", "globalfit.names")),
    (1, ("globalfit.physics",)),
    (2, ("likelihoods",)),
    (3, ("globalfit.problem",)),
    (4, ("globalfit.inference", "globalfit.outputs")),
    (5, ("globalfit.engine", "globalfit.cli", "globalfit.validation", "globalfit.__main__")),
)


def _rank(module: str) -> int:
    best, depth = None, -1
    for rank, prefixes in LAYERS:
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and p.count(".") > depth and (module == p or p != "globalfit"):
                best, depth = rank, p.count(".")
    assert best is not None, f"{module} is in no layer"
    return best


def test_imports_point_down():
    """physics core < likelihood library < fit problem < inference, outputs < commands (globalfit/__init__.py)."""
    graph, _ = _imports(_modules())
    up = [f"{n} (layer {_rank(n)}) imports {d} (layer {_rank(d)})" for n, deps in graph.items() for d in deps
          if _rank(d) > _rank(n) and not n.startswith(d + ".")]
    assert not up, up
