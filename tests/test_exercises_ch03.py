"""The checks of Chapter 3's exercises accept the reference solutions and reject plausible mistakes."""

from __future__ import annotations

import numpy as np
import pytest

import helpers.exercises.ch03_choosing_an_algorithm as ex
from helpers.exercises import CORRECT, INCORRECT, NOT_ATTEMPTED
from notebook_support import chapter_solutions

# ---- reference solutions: the notebook's own solution cells ----

_SOLUTIONS = chapter_solutions("03_choosing_an_algorithm")
knn1_train_accuracy = _SOLUTIONS["knn1_train_accuracy"]
gini = _SOLUTIONS["gini"]
next_grid = _SOLUTIONS["next_grid"]
best_threshold = _SOLUTIONS["best_threshold"]
linear_svm_result = _SOLUTIONS["linear_svm_result"]


# ---- plausible wrong answers ----


def gini_one_minus_max(labels):
    counts = np.bincount(labels)
    return 1 - counts.max() / counts.sum()


def gini_entropy(labels):
    p = np.bincount(labels) / len(labels)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def threshold_at_median(x, y):
    t = float(np.median(x))
    left, right = y[x <= t], y[x > t]
    return t, (len(left) * gini(left) + len(right) * gini(right)) / len(y)


def threshold_unweighted(x, y):
    values = np.unique(x)
    best = (None, np.inf)
    for t in (values[:-1] + values[1:]) / 2:
        score = gini(y[x <= t]) + gini(y[x > t])  # forgets to weight by the sizes of the halves
        if score < best[1]:
            best = (t, score)
    return best


def _svm_answer(grid, *, use_fold_1=False, pick=None):
    tuned = ex._rerun_linear_svm(grid)
    C = tuned.best["C"] if pick is None else pick
    label = f"C={C:g}"
    accuracy = tuned.scores.loc[label, "fold 1"] if use_fold_1 else tuned.mean
    return {"grid": grid, "C": C, "cv_accuracy": float(accuracy)}


CASES = [
    (ex.q1, knn1_train_accuracy, [0.95, 97.0, 0.5, "high"]),
    (ex.q2, gini, [gini_one_minus_max, gini_entropy]),
    (ex.q3, next_grid, [[0.001, 0.01, 0.1], [2.0, 5.0, 10.0], [0.5, 1.0, 2.0], [1.0, 10.0], [-1.0, 1.0, 10.0], "10"]),
    (ex.q4, best_threshold, [threshold_at_median, threshold_unweighted]),
]


@pytest.mark.parametrize("exercise, right, wrongs", CASES, ids=lambda v: getattr(v, "answer_name", ""))
def test_check_accepts_solution_and_rejects_mistakes(exercise, right, wrongs):
    assert exercise.evaluate(right).status == CORRECT, exercise.evaluate(right).message
    for wrong in wrongs:
        result = exercise.evaluate(wrong)
        assert result.status == INCORRECT, (wrong, result)
        assert result.message


def test_q1_message_for_a_percentage():
    assert "fraction" in ex.q1.evaluate(97.0).message


def test_q3_messages_name_the_mistake():
    assert "other way" in ex.q3.evaluate([0.001, 0.01, 0.1]).message
    assert "keep the current best" in ex.q3.evaluate([2.0, 5.0, 10.0]).message
    assert "reach further" in ex.q3.evaluate([0.5, 1.0, 2.0]).message
    assert "at least three" in ex.q3.evaluate([1.0, 10.0]).message


def test_q5_accepts_the_solution_and_rejects_mistakes():
    assert ex.q5.evaluate(linear_svm_result).status == CORRECT, ex.q5.evaluate(linear_svm_result).message
    grid = list(linear_svm_result["grid"])
    # the best value on the edge of a narrower grid
    edge = ex.q5.evaluate(_svm_answer([linear_svm_result["C"], 10 * linear_svm_result["C"], 100 * linear_svm_result["C"]]))
    assert edge.status == INCORRECT and "edge" in edge.message
    # the first fold's score reported instead of the mean over the folds
    fold_1 = _svm_answer(grid, use_fold_1=True)
    if abs(fold_1["cv_accuracy"] - linear_svm_result["cv_accuracy"]) > 0.005:
        assert "mean over all three folds" in ex.q5.evaluate(fold_1).message
    # a C that is not the one with the best held-out accuracy (e.g. the largest: best on training data)
    wrong_pick = _svm_answer(grid, pick=grid[-1])
    result = ex.q5.evaluate(wrong_pick)
    assert result.status == INCORRECT and "rerunning your grid" in result.message
    for broken in ({"grid": grid}, {"grid": [1, 2], "C": 1, "cv_accuracy": 0.9},
                   {"grid": [3, 2, 1], "C": 2, "cv_accuracy": 0.9}, {"grid": grid, "C": 7.7, "cv_accuracy": 0.9}, [1, 2]):
        result = ex.q5.evaluate(broken)
        assert result.status == INCORRECT and result.message, broken
    assert ex.q5.evaluate(None).status == NOT_ATTEMPTED
