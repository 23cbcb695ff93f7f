"""Write the student version and the answer key of chapter notebooks.

    python -m helpers.student notebooks/01_training_loop.ipynb   # one chapter
    python -m helpers.student                                    # every chapter

writes ``_build/exercises/student/NN_slug.ipynb`` and
``_build/exercises/answers/NN_slug.ipynb``.

How a chapter marks its exercises (see the contributors' page):

- the solution is a code cell tagged ``solution`` whose answer sits between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers), with
  nbgrader metadata (``solution: true``, a unique ``grade_id``);
- the solution cell is wrapped in sphinx-exercise's ``solution-start`` /
  ``solution-end`` markdown cells, so the site shows it in a dropdown;
- the check cell (``ex.q1.check()``) carries nbgrader metadata
  (``grade: true``, ``points``, ``locked: true``).

The student version replaces each solution block with a stub, drops the
solution dropdown markers, and clears every output (outputs would give the
answers away). Its nbgrader metadata is kept, so an instructor can feed the
answer key to ``nbgrader generate_assignment`` and autograde with
``HELPERS_GRADING=1``. The answer key is the committed notebook as it is,
outputs included.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "# YOUR CODE HERE\n..."
SOLUTION_TAG = "solution"
DROPDOWN_MARKERS = ("{solution-start}", "{solution-end}")
_BLOCK = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n(.*?)^[ \t]*{re.escape(END)}[^\n]*(\n|$)", re.M | re.S)


def strip_solution(source: str) -> str:
    """Replace every BEGIN/END SOLUTION block in ``source`` by an indented stub."""
    if BEGIN not in source:
        raise ValueError(f"a cell tagged {SOLUTION_TAG!r} has no {BEGIN!r} ... {END!r} block:\n{source}")

    def stub(match: re.Match) -> str:
        indent = match.group(1)
        return "".join(f"{indent}{line}\n" for line in STUB.splitlines())

    stripped = _BLOCK.sub(stub, source)
    if BEGIN in stripped or END in stripped:
        raise ValueError(f"unbalanced solution markers in:\n{source}")
    return stripped.rstrip("\n")


def is_solution_cell(cell) -> bool:
    return cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", [])


def is_dropdown_marker(cell) -> bool:
    return cell.cell_type == "markdown" and any(marker in cell.source for marker in DROPDOWN_MARKERS)


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with solutions stubbed and outputs cleared."""
    student = copy.deepcopy(notebook)
    cells = []
    for cell in student.cells:
        if is_dropdown_marker(cell):
            continue
        if is_solution_cell(cell):
            cell.source = strip_solution(cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    student.cells = cells
    return student


def write_versions(notebook_path: Path, out_dir: Path) -> tuple[Path, Path]:
    """Write the student version and answer key of one notebook; return their paths."""
    notebook = nbformat.read(notebook_path, as_version=4)
    if not any(is_solution_cell(c) for c in notebook.cells):
        raise ValueError(f"{notebook_path} has no cells tagged {SOLUTION_TAG!r}")
    student_path = out_dir / "student" / notebook_path.name
    answers_path = out_dir / "answers" / notebook_path.name
    for path, version in ((student_path, student_version(notebook)), (answers_path, notebook)):
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(version, path)
    return student_path, answers_path


def chapter_notebooks(root: Path = Path("notebooks")) -> list[Path]:
    """Every chapter notebook (``NN_slug.ipynb``) under ``root``."""
    return sorted(p for p in root.glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write student versions and answer keys of chapter notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapter .ipynb files (default: all)")
    parser.add_argument("--out", type=Path, default=Path("_build/exercises"), help="output folder")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or chapter_notebooks()
    if not notebooks:
        parser.error("no notebooks given and none found under notebooks/")
    for path in notebooks:
        if path.suffix != ".ipynb" or not path.exists():
            parser.error(f"{path} is not an existing .ipynb file")
        student, answers = write_versions(path, args.out)
        print(f"{path.name}: student version {student}, answer key {answers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
