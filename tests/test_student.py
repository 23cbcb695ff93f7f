"""helpers.student: the student version replaces solutions with stubs and keeps nbgrader metadata."""

import nbformat
import pytest

from helpers.student import exercises_link_line, main, strip_solution, student_version, with_exercises_link

SOLUTION = "def f(x):\n    ### BEGIN SOLUTION\n    return x * 2\n    ### END SOLUTION\n"


def test_strip_solution_keeps_the_signature_and_indents_the_stub():
    stripped = strip_solution(SOLUTION)
    assert stripped == "def f(x):\n    # YOUR CODE HERE\n    ..."
    namespace = {}
    exec(stripped, namespace)
    assert namespace["f"](1) is None


def test_strip_solution_refuses_cells_without_markers():
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        strip_solution("x = 1")


def _notebook():
    nb = nbformat.v4.new_notebook()
    statement = nbformat.v4.new_markdown_cell("```{exercise} E\n:label: e1\n```\n\n```{solution-start} e1\n```")
    answer = nbformat.v4.new_code_cell(SOLUTION, metadata={"tags": ["solution"], "nbgrader": {"solution": True, "grade_id": "a"}})
    answer.outputs = [nbformat.v4.new_output("stream", text="secret")]
    end = nbformat.v4.new_markdown_cell("```{solution-end}\n```")
    check = nbformat.v4.new_code_cell("ex.q1.check()", metadata={"nbgrader": {"grade": True, "grade_id": "c", "points": 1}})
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), statement, answer, end, check]
    return nb


def test_student_version_drops_dropdowns_and_outputs_and_keeps_metadata():
    student = student_version(_notebook())
    sources = [c.source for c in student.cells]
    assert sources == ["# Title", "def f(x):\n    # YOUR CODE HERE\n    ...", "ex.q1.check()"]
    assert student.cells[1].metadata["nbgrader"]["solution"] is True
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_command_writes_student_version_and_answer_key(tmp_path):
    source = tmp_path / "01_x.ipynb"
    nbformat.write(_notebook(), source)
    out = tmp_path / "out"
    assert main([str(source), "--student-dir", str(out / "student"), "--answers-dir", str(out / "answers")]) == 0
    assert (out / "student" / "01_x.ipynb").exists()
    answers = nbformat.read(out / "answers" / "01_x.ipynb", as_version=4)
    assert "return x * 2" in answers.cells[2].source


CONFIG = {"repository": {"url": "https://github.com/org/course", "branch": "v2"}}


def test_exercises_link_is_built_from_the_configured_repository_and_branch():
    line = exercises_link_line(CONFIG, "01_x")
    assert "https://colab.research.google.com/github/org/course/blob/v2/notebooks/exercises/01_x.ipynb" in line
    assert "Do these exercises on Colab" in line


def test_link_goes_under_the_exercises_heading_once_and_is_refreshed_in_place():
    source = "# %% [markdown]\n# ## Exercises\n#\n# Each exercise has a check.\n"
    once = with_exercises_link(source, exercises_link_line(CONFIG, "01_x"))
    assert once.splitlines()[1:4] == ["# ## Exercises", "#", exercises_link_line(CONFIG, "01_x")]
    moved = {"repository": {"url": "https://github.com/elsewhere/course", "branch": "main"}}
    again = with_exercises_link(once, exercises_link_line(moved, "01_x"))
    assert again.count("Do these exercises on Colab") == 1 and "elsewhere/course/blob/main" in again


def test_a_chapter_without_an_exercises_section_is_refused():
    with pytest.raises(ValueError, match="Exercises"):
        with_exercises_link("# %% [markdown]\n# # Title\n", "# link")


def test_student_version_is_not_a_jupytext_pair():
    notebook = _notebook()
    notebook.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    assert "jupytext" not in student_version(notebook).metadata


def test_catalogue_of_exercises_is_fresh_and_lists_every_exercise_with_its_kind():
    import yaml

    from conftest import ROOT, chapter_sources
    from helpers.exercises import KINDS
    from helpers.student import CATALOG, catalog_markdown, exercise_titles

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    expected = catalog_markdown(config, ROOT / "notebooks")
    assert (ROOT / CATALOG).read_text(encoding="utf-8") == expected, "book/exercises.md is stale: run `make student`"
    rows = [line for line in expected.splitlines() if line.startswith("| ") and not line.startswith("| #")]
    total = sum(len(exercise_titles(p.read_text(encoding="utf-8"))) for p in chapter_sources())
    assert len(rows) == total
    assert all(row.rstrip(" |").rsplit("| ", 1)[1] in KINDS for row in rows), "every exercise has a kind"
