"""Chapter 4's checks accept the reference solutions and reject plausible wrong answers."""

import torch
import torch.nn.functional as F

from helpers.exercises import ch04_loss_functions as ex
from notebook_support import chapter_solutions

SOLUTIONS = chapter_solutions("04_loss_functions")  # the notebook's own solution cells


def test_checks_accept_the_reference_solutions():
    for exercise in ex.EXERCISES:
        result = exercise.evaluate(SOLUTIONS[exercise.answer_name])
        assert result.correct, f"{exercise.name}: {result}"


def test_bce_check_rejects_the_naive_formula_the_sum_and_swapped_cases():
    def naive(scores, targets):  # right on small scores, log(0) for large ones
        p = torch.sigmoid(scores)
        return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()

    result = ex.q1.evaluate(naive)
    assert result.status == "incorrect" and "not finite" in result.message
    summed = ex.q1.evaluate(lambda s, t: F.binary_cross_entropy_with_logits(s, t, reduction="sum"))
    assert summed.status == "incorrect" and "sum" in summed.message
    swapped = ex.q1.evaluate(lambda s, t: F.binary_cross_entropy_with_logits(s, 1 - t))
    assert swapped.status == "incorrect" and "swapped" in swapped.message


def test_huber_gradient_check_rejects_mse_and_mae_gradients():
    mse_like = ex.q2.evaluate(lambda r, delta: 2 * r)
    assert mse_like.status == "incorrect" and "MSE" in mse_like.message
    mae_like = ex.q2.evaluate(lambda r, delta: torch.sign(r))
    assert mae_like.status == "incorrect" and "MAE" in mae_like.message
    assert ex.q2.evaluate(lambda r, delta: r.clamp(-1, 1)).status == "incorrect"  # ignores delta
    assert ex.q2.evaluate(lambda r, delta: r.clamp(-delta, delta).mean()).status == "incorrect"  # wrong shape


def test_balanced_weights_check_rejects_unscaled_and_inverted_weights():
    unscaled = ex.q3.evaluate(lambda y, c: 1 / torch.bincount(y, minlength=c).float())
    assert unscaled.status == "incorrect" and "scale" in unscaled.message
    inverted = ex.q3.evaluate(lambda y, c: torch.bincount(y, minlength=c).float() / len(y))
    assert inverted.status == "incorrect" and "larger" in inverted.message
    assert ex.q3.evaluate(lambda y, c: torch.ones(c)).status == "incorrect"


def test_smoothed_targets_check_rejects_the_other_convention_and_non_distributions():
    def over_wrong_classes(labels, n_classes, smoothing):
        one_hot = torch.eye(n_classes)[labels]
        return one_hot * (1 - smoothing) + (1 - one_hot) * smoothing / (n_classes - 1)

    result = ex.q4.evaluate(over_wrong_classes)
    assert result.status == "incorrect" and "n_classes - 1" in result.message
    not_normalised = ex.q4.evaluate(lambda y, c, s: F.one_hot(y, c).float() + s / c)
    assert not_normalised.status == "incorrect" and "add up to 1" in not_normalised.message
