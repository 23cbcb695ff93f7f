"""helpers.student: the student version replaces solutions with stubs and keeps nbgrader metadata."""

import nbformat
import pytest

from helpers.student import main, strip_solution, student_version

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
    assert main([str(source), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "student" / "01_x.ipynb").exists()
    answers = nbformat.read(tmp_path / "out" / "answers" / "01_x.ipynb", as_version=4)
    assert "return x * 2" in answers.cells[2].source
