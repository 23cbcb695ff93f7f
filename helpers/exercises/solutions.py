"""The reference solutions, generated from the chapters' solution cells.

A solution is written in one place only: the chapter's ``notebooks/NN_slug.py``,
in a code cell tagged ``solution`` between ``### BEGIN SOLUTION`` and
``### END SOLUTION``. This module copies those blocks into
``helpers/exercises/solutions.json`` so that ``ex.qN.solution()`` works where
the notebooks are not at hand (on Colab, the package is installed alone)::

    python -m helpers.exercises.solutions      # regenerate (part of `make notebooks`)

The file maps each chapter (``"01_training_loop"``) to the names its solution
cells define (``"my_mae"``) and the code between the markers. A test fails
when the file is stale.
"""

from __future__ import annotations

import ast
import json
import sys
import textwrap
from functools import lru_cache
from pathlib import Path

SOLUTIONS_FILE = Path(__file__).with_name("solutions.json")
HEADER = "generated from notebooks/ by `python -m helpers.exercises.solutions`; do not edit"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def code_between_markers(source: str) -> str:
    """The dedented code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``."""
    lines = source.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().startswith(BEGIN))
        end = next(i for i, line in enumerate(lines) if line.strip().startswith(END))
    except StopIteration:
        raise ValueError(f"a solution cell needs {BEGIN!r} ... {END!r} markers:\n{source}") from None
    return textwrap.dedent("\n".join(lines[start + 1 : end])).strip()


def defined_names(source: str) -> list[str]:
    """The top-level names a cell defines (functions, classes, assigned variables)."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return names


def chapter_solutions(notebook_py: Path) -> dict[str, str]:
    """``{defined name: solution code}`` for every solution cell of one chapter source."""
    import jupytext

    solutions = {}
    for cell in jupytext.read(notebook_py).cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
            code = code_between_markers(cell.source)
            for name in defined_names(cell.source):
                solutions[name] = code
    return solutions


def build(notebooks_dir: Path) -> dict:
    """The whole solutions file's content for every ``NN_slug.py`` under ``notebooks_dir``."""
    chapters = {p.stem: chapter_solutions(p) for p in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.py"))}
    return {"_header": HEADER, "chapters": chapters}


def write(notebooks_dir: Path, path: Path = SOLUTIONS_FILE) -> Path:
    content = json.dumps(build(notebooks_dir), indent=1, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(path)  # never a half-written file
    return path


@lru_cache(maxsize=1)
def _load() -> dict:
    if not SOLUTIONS_FILE.exists():
        return {}
    return json.loads(SOLUTIONS_FILE.read_text(encoding="utf-8"))["chapters"]


def lookup(chapter: str, answer_name: str) -> str:
    """The reference solution for ``answer_name`` in ``chapter`` (e.g. ``"01_training_loop"``)."""
    try:
        return _load()[chapter][answer_name]
    except KeyError:
        raise LookupError(
            f"no solution for {answer_name!r} in chapter {chapter!r}: regenerate "
            f"{SOLUTIONS_FILE.name} with `python -m helpers.exercises.solutions`"
        ) from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    notebooks_dir = Path(argv[0]) if argv else Path("notebooks")
    if not any(notebooks_dir.glob("[0-9][0-9]_*.py")):
        print(f"no chapter sources (NN_slug.py) under {notebooks_dir}", file=sys.stderr)
        return 2
    print(f"wrote {write(notebooks_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
