"""Grading works with nbgrader itself: the answer key goes in, a blank submission scores 0, a full one full marks.

The round trip is the one book/instructors.md tells instructors to run:
answer key in the course's source/ folder -> ``nbgrader generate_assignment`` -> a learner's
submission in submitted/<student>/ -> ``HELPERS_GRADING=1 nbgrader autograde`` -> ``nbgrader export``.

Chapter 1 (the quickest) runs on every test run; ``HELPERS_GRADE_ALL=1`` (``make grade-all``) runs every chapter.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import NOTEBOOKS, chapter_sources

CHAPTERS = [p.with_suffix(".ipynb") for p in chapter_sources()]
GRADE_ALL = os.environ.get("HELPERS_GRADE_ALL") == "1"
PARAMS = [
    pytest.param(nb, id=nb.stem, marks=[] if i == 0 or GRADE_ALL else pytest.mark.skip("HELPERS_GRADE_ALL=1 grades every chapter"))
    for i, nb in enumerate(CHAPTERS)
]


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    venv_bin = Path(sys.executable).parent  # nbgrader runs `alembic` from PATH: the venv's own
    env = {**os.environ, "HELPERS_GRADING": "1", "HELPERS_PROGRESS": "0", "PYTHONPATH": str(NOTEBOOKS.parent),
           "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    nbgrader = venv_bin / "nbgrader"
    result = subprocess.run([str(nbgrader), *args], cwd=course, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def _answered(released: nbformat.NotebookNode, answer_key: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The released notebook with every solution cell filled in from the answer key (what a perfect learner hands in)."""
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in answer_key.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solutions[grade_id]
    return released


@pytest.mark.grading
@pytest.mark.parametrize("answer_key", PARAMS)
def test_nbgrader_scores_a_blank_submission_zero_and_the_answer_key_full_marks(answer_key, tmp_path):
    course, assignment = tmp_path / "course", answer_key.stem.split("_")[0]
    (course / "source" / assignment).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.course_id = 'course'\n"
    )
    shutil.copy(answer_key, course / "source" / assignment / answer_key.name)

    _nbgrader(course, "generate_assignment", assignment, "--force")
    released_path = course / "release" / assignment / answer_key.name
    released = nbformat.read(released_path, as_version=4)
    assert "### BEGIN SOLUTION" not in "\n".join(c.source for c in released.cells), "the release still holds solutions"

    for student in ("blank", "full"):
        (course / "submitted" / student / assignment).mkdir(parents=True)
    shutil.copy(released_path, course / "submitted" / "blank" / assignment / answer_key.name)
    full = _answered(nbformat.read(released_path, as_version=4), nbformat.read(answer_key, as_version=4))
    nbformat.write(full, course / "submitted" / "full" / assignment / answer_key.name)

    _nbgrader(course, "autograde", assignment, "--force")
    _nbgrader(course, "export")

    with open(course / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(handle)}
    n_checks = sum(1 for c in released.cells if c.metadata.get("nbgrader", {}).get("grade"))
    assert scores["blank"] == (0.0, float(n_checks)), f"a blank submission must score 0: {scores}"
    assert scores["full"] == (float(n_checks), float(n_checks)), f"the answer key must score full marks: {scores}"
