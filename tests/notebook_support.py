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


_NUMBER = re.compile(r"[-+−]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?%?", re.I)


def _as_number(text: str):
    """``"+0.6%"`` -> (0.006, decimals in percent units 1, is_percent True); None if not a number."""
    text = text.strip().strip("'\"").replace("−", "-").replace(",", "")
    percent = text.endswith("%")
    body = text.rstrip("%").lstrip("+")
    try:
        number = float(body)
    except ValueError:
        return None
    decimals = len(body.split(".")[1]) if "." in body and "e" not in body.lower() else 0
    return (number / 100 if percent else number), decimals, percent


def _shown(value: str, text: str) -> bool:
    """Is ``value`` (a glued text) readable in ``text``: verbatim, or as a printed number that rounds to it?

    A glued ``96.1%`` is matched by a printed 96.1%, 96.12%, 0.961 or 0.9612; a glued ``0.25`` by 0.2500.
    """
    value = value.strip().strip("'\"")
    if value and value in text:
        return True
    glued = _as_number(value)
    if glued is None:
        return False
    target, decimals, percent = glued
    scale = 100 if percent else 1
    tolerance = 0.5 * 10 ** (-decimals) / scale + 1e-12
    for match in _NUMBER.finditer(text):
        printed = _as_number(match.group())
        if printed is None:
            continue
        number = printed[0]
        candidates = [number] if printed[2] else [number, number / 100]  # 96.1 printed for a glued 96.1%
        if percent or not printed[2]:
            if any(abs(c - target) <= tolerance for c in candidates):
                return True
        elif abs(number - target) <= tolerance:
            return True
    return False


def glued_values_not_visible(path: Path) -> tuple[int, list[str]]:
    """(number of glued values, ``name=value`` of those that no visible output shows: not their cell's, nor the two code cells after it).

    Not the cells before: a learner reads top to bottom, and a number printed before it is computed
    and glued may be a different one.
    """
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
            if not _shown(value, nearby):
                missing.append(f"{record.get('name')}={value}")
    return total, missing
