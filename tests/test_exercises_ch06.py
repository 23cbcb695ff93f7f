"""Chapter 6's checks accept the reference answers and reject plausible wrong ones."""

import numpy as np
import torch

from helpers.exercises import ch06_regularization as ex
from notebook_support import chapter_solutions

SOLUTIONS = chapter_solutions("06_regularization")  # the notebook's own solution cells


def test_more_data_prediction_check():
    assert ex.q1.evaluate(SOLUTIONS["prediction_more_data"]).correct
    assert ex.q1.evaluate(" Degree 9 ").correct
    wrong = ex.q1.evaluate("degree 1")
    assert wrong.status == "incorrect" and "bias" in wrong.message
    assert "one of" in ex.q1.evaluate("both").message
    assert "one of" in ex.q1.evaluate(9).message


def test_diagnosis_check():
    assert ex.q2.evaluate(SOLUTIONS["diagnosis"]).correct
    assert ex.q2.evaluate("b").correct
    assert "too strong" in ex.q2.evaluate("A").message
    assert "test set" in ex.q2.evaluate("C").message
    assert "Section 2" in ex.q2.evaluate("D").message
    assert "one letter" in ex.q2.evaluate("E").message
    assert "one letter" in ex.q2.evaluate(2).message


def test_ridge_strength_experiment_check():
    assert ex.q3.evaluate(SOLUTIONS["lam_degree12"]).correct
    assert ex.q3.evaluate(0.05).correct and ex.q3.evaluate(0.3).correct  # a range of strengths works
    too_weak = ex.q3.evaluate(1e-4)
    assert too_weak.status == "incorrect" and "Variance dominates" in too_weak.message
    assert "stronger" in too_weak.message
    too_strong = ex.q3.evaluate(10.0)
    assert too_strong.status == "incorrect" and "Bias dominates" in too_strong.message
    assert "Variance dominates" in ex.q3.evaluate(0.0).message  # no penalty at all
    assert ">= 0" in ex.q3.evaluate(-1.0).message
    assert ex.q3.evaluate("a lot").status == "incorrect"


def test_soft_threshold_check():
    assert ex.q4.evaluate(SOLUTIONS["soft_threshold"]).correct
    hard = ex.q4.evaluate(lambda w, t: torch.where(w.abs() < t, torch.zeros_like(w), w))
    assert hard.status == "incorrect" and "hard thresholding" in hard.message
    crossing = ex.q4.evaluate(lambda w, t: w - t * torch.sign(w))
    assert crossing.status == "incorrect" and "exactly 0" in crossing.message


def test_early_stopping_check():
    right = SOLUTIONS["early_stopping_epochs"]
    assert ex.q5.evaluate(right).correct

    def off_by_one(losses, patience):
        stop, best = right(losses, patience)
        return stop - 1, best - 1

    def ties_count_as_improvement(losses, patience):
        # the right rule on losses nudged down a little each epoch: an equal loss now counts as better
        return right([value - 1e-9 * epoch for epoch, value in enumerate(losses)], patience)

    assert "off by one" in ex.q5.evaluate(off_by_one).message
    assert ex.q5.evaluate(ties_count_as_improvement).status == "incorrect"
    assert ex.q5.evaluate(lambda losses, patience: len(losses)).status == "incorrect"  # not a pair
