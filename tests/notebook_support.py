"""Reading chapter notebooks in tests: their cells, parameters and exercises."""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import nbformat
from functools import lru_cache

from helpers.exercises.solutions import code_between_markers  # noqa: F401 (re-exported for the tests)
from helpers.student import is_solution_cell

SMOKE_PARAMETERS = {"SEED": 1, "BUDGET": 0.5}
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@lru_cache(maxsize=None)
def chapter_solutions(slug: str) -> dict:
    """The reference solutions of chapter ``slug`` (e.g. ``"02_data_preparation"``), from its notebook."""
    return solution_namespace(NOTEBOOKS / f"{slug}.py")


def read_cells(path: Path) -> list[tuple[str, str]]:
    """(cell type, stripped source) of every cell of a .py or .ipynb notebook."""
    notebook = jupytext.read(path)
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def solution_cells(path: Path) -> list[nbformat.NotebookNode]:
    """The cells tagged ``solution``, in order."""
    return [cell for cell in jupytext.read(path).cells if is_solution_cell(cell)]


def import_statements(path: Path) -> str:
    """Every top-level import of the notebook's code cells, as code."""
    statements = []
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # cells with magics
            continue
        statements += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(statements)


def solution_namespace(path: Path) -> dict:
    """Run the notebook's imports and its solution cells; return the names they define."""
    namespace: dict = {}
    exec(import_statements(path), namespace)
    for cell in solution_cells(path):
        exec(cell.source, namespace)
    return namespace
