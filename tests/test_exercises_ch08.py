"""Chapter 8's checks reject plausible wrong answers (broken ones: tests/test_exercises.py)."""

import numpy as np
import pytest

from helpers.exercises import CORRECT, INCORRECT
from helpers.exercises import ch08_evaluation as ex
from notebook_support import chapter_solutions


SOLUTIONS = chapter_solutions("08_evaluation")  # the notebook's own solution cells


def test_reference_solutions_pass():
    for exercise in (ex.q1, ex.q2, ex.q3, ex.q4, ex.q5):
        result = exercise.evaluate(SOLUTIONS[exercise.answer_name])
        assert result.status == CORRECT, (exercise.name, result)


# ---- q1: predict, then run ----


def test_prediction_check_explains_each_wrong_choice():
    assert "1 / sqrt(n)" in ex.q1.evaluate("four times").message
    assert "widens" in ex.q1.evaluate("same").message
    assert ex.q1.evaluate(" Twice ").status == CORRECT  # case and spaces do not matter
    for bad in ("2x", 2, ["twice"]):
        result = ex.q1.evaluate(bad)
        assert result.status == INCORRECT and "one of" in result.message


# ---- q2: diagnose ----


@pytest.mark.parametrize("letter, evidence", [("A", "business decision"), ("C", "same grid"), ("D", "opposite")])
def test_diagnosis_check_explains_each_wrong_letter(letter, evidence):
    result = ex.q2.evaluate(letter)
    assert result.status == INCORRECT and evidence in result.message


def test_diagnosis_check_rejects_non_letters():
    assert ex.q2.evaluate("E").status == INCORRECT
    assert ex.q2.evaluate(2).status == INCORRECT
    assert ex.q2.evaluate("b").status == CORRECT


# ---- q3: implement k-fold indices ----


def test_kfold_check_rejects_overlaps_and_unequal_folds():
    def overlapping(n, k):
        indices = np.arange(n)
        return [(indices, part) for part in np.array_split(indices, k)]

    def last_fold_gets_the_rest(n, k):
        size = n // k
        folds = []
        for i in range(k):
            val = np.arange(i * size, n if i == k - 1 else (i + 1) * size)
            folds.append((np.setdiff1d(np.arange(n), val), val))
        return folds

    def float_indices(n, k):
        indices = np.arange(n)
        return [(np.setdiff1d(indices, v).astype(float), v.astype(float)) for v in np.array_split(indices, k)]

    assert "both" in ex.q3.evaluate(overlapping).message
    assert "differ by at most one" in ex.q3.evaluate(last_fold_gets_the_rest).message
    assert ex.q3.evaluate(float_indices).status == "incorrect"
    assert ex.q3.evaluate(lambda n, k: []).status == "incorrect"


# ---- q4: experiment, verified by the check's own run ----


def test_floor_check_rejects_plain_scaler_and_too_small_floors():
    assert "plain StandardScaler" in ex.q4.evaluate(0).message
    assert "negative" in ex.q4.evaluate(-0.1).message
    too_small = ex.q4.evaluate(0.01)  # the near-constant pixels still blow up
    assert too_small.status == INCORRECT and "scale_" in too_small.message
    assert ex.q4.evaluate(0.1).status == INCORRECT
    assert ex.q4.evaluate("0.5").status == INCORRECT


def test_floor_check_accepts_floors_that_meet_both_requirements():
    for good in (0.5, 1.0, 16):  # above every standard deviation: all pixels divided alike
        assert ex.q4.evaluate(good).status == CORRECT, good


# ---- q5: implement the ECE ----


def test_ece_check_rejects_unweighted_mean_of_gaps():
    def unweighted(confidences, correct, n_bins=10):
        confidences, correct = np.asarray(confidences, float), np.asarray(correct, float)
        bins = np.digitize(confidences, np.linspace(0, 1, n_bins + 1)[1:-1], right=True)
        gaps = [abs(correct[bins == m].mean() - confidences[bins == m].mean()) for m in range(n_bins) if (bins == m).any()]
        return float(np.mean(gaps))

    def accuracy_minus_confidence_overall(confidences, correct, n_bins=10):
        return float(abs(np.mean(correct) - np.mean(confidences)))

    result = ex.q5.evaluate(unweighted)
    assert result.status == "incorrect" and "share of samples" in result.message
    assert ex.q5.evaluate(accuracy_minus_confidence_overall).status == "incorrect"
