"""The tests the docs name (``test_file.py::test_name``, as evidence for a claim) exist under those names: a renamed or
removed test leaves no claim pointing at nothing."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"(test_\w+\.py)::(test_\w+)")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_")}


def test_every_test_the_docs_name_exists():
    docs = sorted(ROOT.glob("*.md")) + sorted((ROOT / "docs").glob("*.md"))
    names: dict[str, set[str]] = {}
    missing = []
    for doc in docs:
        for file, test in REFERENCE.findall(doc.read_text()):
            path = ROOT / "tests" / file
            if file not in names:
                names[file] = _test_names(path) if path.is_file() else set()
            if test not in names[file]:
                missing.append(f"{doc.relative_to(ROOT)}: {file}::{test}")
    assert not missing, "\n".join(missing)
