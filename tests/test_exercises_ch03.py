"""The checks of Chapter 3's exercises accept the reference solutions and reject plausible mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import helpers.exercises.ch03_choosing_an_algorithm as ex
from helpers.exercises import CORRECT, INCORRECT
from notebook_support import chapter_solutions

# ---- reference solutions: the notebook's own solution cells ----

_SOLUTIONS = chapter_solutions("03_choosing_an_algorithm")
knn_predict = _SOLUTIONS["knn_predict"]
gini = _SOLUTIONS["gini"]
best_threshold = _SOLUTIONS["best_threshold"]
choose_depth = _SOLUTIONS["choose_depth"]


# ---- plausible wrong answers ----


def knn_farthest(X_train, y_train, X_query, k):
    farthest = np.argsort(-cdist(X_query, X_train), axis=1)[:, :k]  # sorts the wrong way round
    return np.array([np.bincount(y_train[row]).argmax() for row in farthest])


def knn_always_one(X_train, y_train, X_query, k):
    return knn_predict(X_train, y_train, X_query, 1)


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


def depth_by_training(depths, train_accuracy, val_accuracy):
    return depths[int(np.argmax(train_accuracy))]


def depth_last_max(depths, train_accuracy, val_accuracy):
    best = max(val_accuracy)
    return max(d for d, v in zip(depths, val_accuracy) if v == best)


CASES = [
    (ex.q1, knn_predict, [knn_farthest, knn_always_one]),
    (ex.q2, gini, [gini_one_minus_max, gini_entropy]),
    (ex.q3, best_threshold, [threshold_at_median, threshold_unweighted]),
    (ex.q4, choose_depth, [depth_by_training, depth_last_max]),
]


@pytest.mark.parametrize("exercise, right, wrongs", CASES, ids=lambda v: getattr(v, "answer_name", ""))
def test_check_accepts_solution_and_rejects_mistakes(exercise, right, wrongs):
    assert exercise.evaluate(right).status == CORRECT, exercise.evaluate(right).message
    for wrong in wrongs:
        result = exercise.evaluate(wrong)
        assert result.status == INCORRECT, (wrong.__name__, result)
        assert result.message
