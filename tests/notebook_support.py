"""Reading chapter notebooks in tests: their cells, parameters and exercises."""

from __future__ import annotations

import ast
import re
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


# --------------------------------------------------------------------------
# Can a learner in Jupyter or Colab (where {glue:text} shows raw) read every glued number?
# --------------------------------------------------------------------------


def _visible_text(cell) -> str:
    texts = []
    for output in cell.get("outputs", []):
        if "scrapbook" in output.get("metadata", {}):
            continue  # the glue record itself is hidden
        if output.get("output_type") == "stream":
            texts.append("".join(output.get("text", "")))
        for key in ("text/plain", "text/html", "text/markdown", "text/latex"):
            value = output.get("data", {}).get(key)
            if value:
                texts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(texts)


def _printed_forms(value: str):
    """The ways a glued value may be printed: 96.1% also as 0.961, 0.96...; 1.234 as 1.23, 1.2, ..."""
    value = value.strip().strip("'\"")
    yield value
    percent = re.fullmatch(r"(-?[\d.]+)%", value)
    if percent:
        fraction = float(percent.group(1)) / 100
        for digits in (2, 3, 4):
            yield f"{fraction:.{digits}f}"
        return
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        return
    for digits in (0, 1, 2, 3, 4):
        yield f"{number:.{digits}f}"
    if number and abs(number) < 1:
        yield f"{number * 100:.1f}%"
        yield f"{number * 100:.0f}%"


def glued_values_not_visible(path: Path) -> tuple[int, list[str]]:
    """(number of glued values, ``name=value`` of those no visible output of their cell or the next two shows)."""
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    total, missing = 0, []
    for i, cell in enumerate(code):
        nearby = " ".join(_visible_text(c) for c in code[i : i + 3])
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            value = "".join(output.get("data", {}).get("application/papermill.record/text/plain", "")) if record else ""
            if not value:
                continue
            total += 1
            if not any(form and form in nearby for form in _printed_forms(value)):
                missing.append(f"{record.get('name')}={value}")
    return total, missing
