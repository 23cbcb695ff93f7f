"""Chapter 11's checks accept the notebook's reference solutions and reject plausible wrong answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import helpers.exercises.ch11_continual_learning as ex
from helpers.continual import backward_transfer
from notebook_support import solution_namespace

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "11_continual_learning.py"

# ---- reference solutions: the notebook's own solution cells ----

_SOLUTIONS = solution_namespace(NOTEBOOK)


def _solution(name):
    return _SOLUTIONS[name]


def test_prediction_check():
    assert ex.q1.evaluate(_solution("more_epochs_prediction")).correct
    assert ex.q1.evaluate(" (B) ").correct  # letters are read leniently
    assert "nothing in the loss" in ex.q1.evaluate("a").message
    assert "last task" in ex.q1.evaluate("c").message
    assert "one of the letters" in ex.q1.evaluate("e").message
    assert ex.q1.evaluate(2).status == "incorrect"


def test_backward_transfer_check():
    assert ex.q2.evaluate(_solution("my_backward_transfer")).correct
    assert ex.q2.evaluate(backward_transfer).correct

    def reversed_sign(R):
        return -backward_transfer(R)

    def from_the_best(R):
        R = np.asarray(R)
        return float(np.mean([R[-1, j] - R[:-1, j].max() for j in range(len(R) - 1)])) if len(R) > 1 else 0.0

    def with_last_task(R):
        R = np.asarray(R)
        return float(np.mean(R[-1] - np.diag(R)))

    def crashes_on_one_task(R):
        R = np.asarray(R)
        return float(np.mean([R[-1, j] - R[j, j] for j in range(len(R) - 1)]))  # nan for one task

    assert "sign" in ex.q2.evaluate(reversed_sign).message
    assert "forgetting" in ex.q2.evaluate(from_the_best).message
    assert "leave out the last task" in ex.q2.evaluate(with_last_task).message
    assert "single task" in ex.q2.evaluate(crashes_on_one_task).message
    assert ex.q2.evaluate(lambda R: "big").status == "incorrect"
    assert ex.q2.evaluate(lambda R: None).status == "not attempted"


def test_alarm_diagnosis_check():
    assert ex.q3.evaluate(_solution("alarm_diagnosis")).correct
    assert "window length" in ex.q3.evaluate("a").message
    assert "contain the drift" in ex.q3.evaluate("b").message
    assert "does see it" in ex.q3.evaluate("d").message


def test_smallest_memory_check():
    right = _solution("smallest_memory")
    assert right in ex.MEMORY_GRID
    assert ex.q4.evaluate(right).correct
    index = ex.MEMORY_GRID.index(right)
    if index > 0:
        assert "try larger" in ex.q4.evaluate(ex.MEMORY_GRID[index - 1]).message
    if index + 1 < len(ex.MEMORY_GRID):
        assert "smallest" in ex.q4.evaluate(ex.MEMORY_GRID[index + 1]).message
    assert "not on the grid" in ex.q4.evaluate(4).message
    assert ex.q4.evaluate(5.0).status == "incorrect" and ex.q4.evaluate(True).status == "incorrect"


def test_broken_answers_get_feedback_not_a_crash():
    def raises(*args):
        raise RuntimeError("boom")

    result = ex.q2.evaluate(raises)
    assert result.status == "incorrect" and "RuntimeError" in result.message
    for q in (ex.q1, ex.q2, ex.q3, ex.q4):
        assert q.evaluate(None).status == "not attempted"
        assert q.evaluate(object()).status == "incorrect"
