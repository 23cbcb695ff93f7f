"""Every chapter's checks accept its reference solution, and the solution shown is the one in the notebook.

Solutions are written once, in the notebooks' solution cells; helpers/exercises/solutions.json is
generated from them (``python -m helpers.exercises.solutions``) and must not go stale.

Each chapter's own tests/test_exercises_chNN.py shows that its checks reject plausible wrong answers;
the broken answers every check must survive (a function that raises, returns None, returns the wrong
type or shape; a non-number for a number) are tried here, on every chapter at once.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

from conftest import chapter_sources
from conftest import NOTEBOOKS
from helpers.exercises import CORRECT, INCORRECT, KINDS, NOT_ATTEMPTED, Exercise, solutions
from notebook_support import code_between_markers, solution_cells, solution_namespace

CHAPTERS = chapter_sources()
IDS = [p.stem for p in CHAPTERS]


def exercises_of(source) -> list[Exercise]:
    module = importlib.import_module(f"helpers.exercises.ch{source.stem}")
    names = sorted((n for n in dir(module) if n[:1] == "q" and n[1:].isdigit()), key=lambda n: int(n[1:]))
    return [getattr(module, name) for name in names]


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_checks_accept_the_reference_solutions(source):
    namespace = solution_namespace(source)
    for exercise in exercises_of(source):
        result = exercise.evaluate(namespace.get(exercise.answer_name, None))
        assert result.correct, f"{exercise.name} rejects the notebook's own solution: {result}"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_exercises_are_of_at_least_three_kinds(source):
    exercises = exercises_of(source)
    undeclared = [e.name for e in exercises if e.kind is None]
    assert not undeclared, f"say each exercise's kind ({', '.join(KINDS)}): {undeclared}"
    kinds = [e.kind for e in exercises]
    assert len(set(kinds)) >= 3, f"at least three kinds of exercise, found {kinds}"
    assert kinds.count("implement") <= 2, f"mostly thinking, not typing: {kinds}"


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_solution_shown_to_learners_is_the_notebooks(source):
    exercises = exercises_of(source)
    cells = solution_cells(source)
    assert len(exercises) == len(cells), "one Exercise per solution cell"
    for exercise, cell in zip(exercises, cells):
        assert exercise.answer_name in cell.source, f"{exercise.name}: the solution cell never defines {exercise.answer_name}"
        assert exercise.solution_code == code_between_markers(cell.source), f"{exercise.name}: solutions.json is stale"
        assert len(exercise.hints) >= 2, f"{exercise.name} needs at least two hints"


def _raises(*args, **kwargs):
    raise RuntimeError("boom")


def _returns_none(*args, **kwargs):
    return None


def _returns_text(*args, **kwargs):
    return "not an answer"


def _returns_wrong_shape(*args, **kwargs):
    return np.full((13, 17), 0.5)


BROKEN_FUNCTIONS = [_raises, _returns_text, _returns_wrong_shape]
NOT_NUMBERS = ["0.1", [0.1, 0.2], float("nan")]


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_broken_answers_get_feedback_not_a_crash(source):
    """Whatever the learner writes, the check answers with a verdict and a message; it never raises."""
    namespace = solution_namespace(source)
    for exercise in exercises_of(source):
        reference = namespace[exercise.answer_name]
        if inspect.isfunction(reference):  # the learner writes a function
            raised = exercise.evaluate(_raises)
            assert raised.status == INCORRECT and "RuntimeError: boom" in raised.message, (exercise.name, raised)
            assert exercise.evaluate(_returns_none).status == NOT_ATTEMPTED, exercise.name
            for broken in BROKEN_FUNCTIONS + [42, "my answer"]:
                result = exercise.evaluate(broken)
                assert result.status == INCORRECT and result.message, (exercise.name, broken, result)
        else:  # a value: a number, a choice, an object such as a transform pipeline
            for broken in NOT_NUMBERS + [_raises]:
                result = exercise.evaluate(broken)
                assert result.status == INCORRECT and result.message, (exercise.name, broken, result)
        assert exercise.evaluate(reference).status == CORRECT, exercise.name


@pytest.mark.parametrize("source", CHAPTERS, ids=IDS)
def test_checks_report_not_attempted_for_empty_answers(source):
    for exercise in exercises_of(source):
        for empty in (None, ...):
            assert exercise.evaluate(empty).status == "not attempted"


def test_generated_solutions_file_is_fresh():
    import json

    on_disk = json.loads(solutions.SOLUTIONS_FILE.read_text(encoding="utf-8"))
    assert on_disk == solutions.build(NOTEBOOKS), (
        "helpers/exercises/solutions.json is stale: run `python -m helpers.exercises.solutions` (part of `make notebooks`)"
    )


def test_no_exercise_module_repeats_a_solution():
    for source in CHAPTERS:
        module_text = (NOTEBOOKS.parent / "helpers" / "exercises" / f"ch{source.stem}.py").read_text()
        for cell in solution_cells(source):
            code = code_between_markers(cell.source)
            for line in code.splitlines():
                line = line.strip()
                if len(line) > 40:  # a distinctive line of solution code
                    assert line not in module_text, f"ch{source.stem}.py repeats the solution line {line!r}"


def test_no_exercise_test_retypes_a_solution():
    """Tests take the reference solutions from the notebook (notebook_support.chapter_solutions)."""
    for source in CHAPTERS:
        test_file = NOTEBOOKS.parent / "tests" / f"test_exercises_ch{source.stem[:2]}.py"
        if not test_file.exists():
            continue
        test_text = test_file.read_text()
        for cell in solution_cells(source):
            for line in code_between_markers(cell.source).splitlines():
                line = line.strip()
                if len(line) > 40:
                    assert line not in test_text, f"{test_file.name} retypes the solution line {line!r}"
