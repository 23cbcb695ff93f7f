"""Chapter 6's checks accept the reference answers and reject plausible wrong ones."""

import numpy as np
import torch

from helpers.exercises import ch06_regularization as ex
from notebook_support import chapter_solutions

SOLUTIONS = chapter_solutions("06_regularization")  # the notebook's own solution cells


def test_ridge_check():
    assert ex.q1.evaluate(SOLUTIONS["ridge_weights"]).correct
    assert "least squares" in ex.q1.evaluate(lambda X, y, lam: np.linalg.lstsq(X, y, rcond=None)[0]).message
    assert "diagonal" in ex.q1.evaluate(lambda X, y, lam: np.linalg.solve(X.T @ X + lam, X.T @ y)).message
    assert ex.q1.evaluate(lambda X, y, lam: np.zeros(2)).status == "incorrect"  # wrong shape


def test_soft_threshold_check():
    assert ex.q2.evaluate(SOLUTIONS["soft_threshold"]).correct
    hard = ex.q2.evaluate(lambda w, t: torch.where(w.abs() < t, torch.zeros_like(w), w))
    assert hard.status == "incorrect" and "hard thresholding" in hard.message
    crossing = ex.q2.evaluate(lambda w, t: w - t * torch.sign(w))
    assert crossing.status == "incorrect" and "exactly 0" in crossing.message


def test_dropout_check():
    right = SOLUTIONS["my_dropout"]

    def no_rescale(x, p, training):
        return x * (torch.rand_like(x) >= p).to(x.dtype) if training else x

    def always_on(x, p, training):
        return x * (torch.rand_like(x) >= p).to(x.dtype) / (1 - p)

    def wrong_rate(x, p, training):
        return right(x, 1 - p, training)

    assert ex.q3.evaluate(right).correct
    assert "(1 - p)" in ex.q3.evaluate(no_rescale).message
    assert "training=False" in ex.q3.evaluate(always_on).message
    assert "25%" in ex.q3.evaluate(wrong_rate).message

    def same_mask(x, p, training):
        g = torch.Generator().manual_seed(0)
        return x * (torch.rand(x.shape, generator=g) >= p).to(x.dtype) / (1 - p) if training else x

    assert "new random mask" in ex.q3.evaluate(same_mask).message


def test_early_stopping_check():
    right = SOLUTIONS["early_stopping_epochs"]
    assert ex.q4.evaluate(right).correct

    def off_by_one(losses, patience):
        stop, best = right(losses, patience)
        return stop - 1, best - 1

    def ties_count_as_improvement(losses, patience):
        # the right rule on losses nudged down a little each epoch: an equal loss now counts as better
        return right([value - 1e-9 * epoch for epoch, value in enumerate(losses)], patience)

    assert "off by one" in ex.q4.evaluate(off_by_one).message
    assert ex.q4.evaluate(ties_count_as_improvement).status == "incorrect"
    assert ex.q4.evaluate(lambda losses, patience: len(losses)).status == "incorrect"  # not a pair
