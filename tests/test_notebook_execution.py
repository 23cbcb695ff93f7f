"""Every chapter runs to the end with other parameters, and its student version runs too.

(nbval, run by the same test command, re-executes every committed notebook at its
default parameters and compares the cells tagged nbval-check-output.)
"""

from __future__ import annotations

import nbformat
import papermill
import pytest

from conftest import NOTEBOOKS, chapter_sources
from helpers.student import STUDENT_DIR, is_solution_cell, student_version
from notebook_support import SMOKE_PARAMETERS, code_between_markers

CHAPTERS = [p.with_suffix(".ipynb") for p in chapter_sources()]
IDS = [p.stem for p in CHAPTERS]


def _execute(notebook_path, output_path):
    return papermill.execute_notebook(
        str(notebook_path),
        str(output_path),
        parameters=SMOKE_PARAMETERS,
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )


def _check_cell_outputs(notebook) -> list[str]:
    texts = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            texts.append("".join(o.get("text", "") for o in cell.get("outputs", [])))
    return texts


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", CHAPTERS, ids=IDS)
def test_chapter_runs_with_smoke_parameters(notebook, tmp_path):
    executed = _execute(notebook, tmp_path / notebook.name)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected, "papermill should have injected the smoke parameters"
    assert all("Correct" in text for text in _check_cell_outputs(executed)), "the answer key's checks must pass"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=IDS)
def test_committed_answer_key_passes_its_checks(notebook):
    texts = _check_cell_outputs(nbformat.read(notebook, as_version=4))
    assert texts and all("✓ Correct" in text for text in texts), texts


@pytest.mark.parametrize("notebook", CHAPTERS, ids=IDS)
def test_student_version_contains_no_solution(notebook):
    original = nbformat.read(notebook, as_version=4)
    student = student_version(original)
    student_code = "\n".join(c.source for c in student.cells)
    for cell in filter(is_solution_cell, original.cells):
        solution = code_between_markers(cell.source)
        assert solution not in student_code, f"solution left in the student version:\n{solution}"
    assert "### BEGIN SOLUTION" not in student_code and "{solution-start}" not in student_code
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code"), "outputs give answers away"


def _committed_student_version(notebook):
    return NOTEBOOKS.parent / STUDENT_DIR / notebook.name


@pytest.mark.parametrize("notebook", CHAPTERS, ids=IDS)
def test_committed_student_version_is_fresh(notebook):
    committed = _committed_student_version(notebook)
    assert committed.exists(), f"{committed} is missing: run `make student` and commit it"
    expected = student_version(nbformat.read(notebook, as_version=4))
    actual = nbformat.read(committed, as_version=4)

    def cells(nb):
        return [(c.cell_type, c.source, c.metadata.get("nbgrader"), c.metadata.get("tags")) for c in nb.cells]

    assert cells(actual) == cells(expected), f"{committed} is stale: run `make student` and commit it"
    assert all(not c.get("outputs") for c in actual.cells if c.cell_type == "code")


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", CHAPTERS, ids=IDS)
def test_student_version_runs_and_reports_not_attempted(notebook, tmp_path):
    student_path = _committed_student_version(notebook)
    executed = _execute(student_path, tmp_path / f"executed_{notebook.name}")
    texts = _check_cell_outputs(executed)
    assert texts and all("Not attempted" in text for text in texts), texts
