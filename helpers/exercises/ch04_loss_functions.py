"""Checks for the exercises of Chapter 4, "Loss functions".

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close


def _as_tensor(value, what: str) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.as_tensor(value)
    if not isinstance(value, torch.Tensor):
        raise Incorrect(f"{what} should be a torch tensor, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------
# q1: binary cross-entropy from logits, stable for large scores
# --------------------------------------------------------------------------


def _check_bce(bce_with_logits) -> None:
    expect_callable(bce_with_logits, "a function bce_with_logits(scores, targets)")
    g = torch.Generator().manual_seed(11)
    scores = torch.randn(20, generator=g) * 3
    targets = torch.randint(0, 2, (20,), generator=g).float()
    result = _as_tensor(call_answer(bce_with_logits, scores, targets), "bce_with_logits(...)")
    if result.ndim != 0:
        raise Incorrect(f"return the mean over the batch as a scalar tensor, got shape {tuple(result.shape)}")
    if torch.allclose(result, F.binary_cross_entropy_with_logits(scores, targets, reduction="sum")):
        raise Incorrect("you returned the sum over the batch; return the mean")
    if torch.allclose(result, F.binary_cross_entropy_with_logits(scores, 1 - targets)):
        raise Incorrect("the loss is small when the score agrees with the target; you have the two cases swapped")
    expect_close(result, F.binary_cross_entropy_with_logits(scores, targets), what="bce_with_logits(scores, targets)")
    big_scores = torch.tensor([200.0, -200.0, 150.0, -150.0])
    big_targets = torch.tensor([0.0, 1.0, 1.0, 0.0])
    big = _as_tensor(call_answer(bce_with_logits, big_scores, big_targets), "bce_with_logits(...)")
    if not torch.isfinite(big).all():
        raise Incorrect(
            "for scores of +-200 your loss is not finite: sigmoid(200) rounds to exactly 1 and log(1 - 1) = -inf. "
            "Rewrite the formula so that no log of 0 can appear"
        )
    expect_close(big, F.binary_cross_entropy_with_logits(big_scores, big_targets), what="the loss for scores of +-200")


q1 = Exercise(
    name="Exercise 1 (stable binary cross-entropy)",
    answer_name="bce_with_logits",
    checker=_check_bce,
    hints=[
        "Start from -[y log s(z) + (1 - y) log(1 - s(z))] with s the sigmoid, and simplify using "
        "log s(z) = -log(1 + exp(-z)) and log(1 - s(z)) = -z - log(1 + exp(-z)).",
        "The loss per sample can be written max(z, 0) - z*y + log(1 + exp(-|z|)); exp(-|z|) is never above 1, "
        "so nothing overflows. torch.log1p(x) computes log(1 + x) accurately for small x.",
    ],
    success="no overflow for large scores, and the same value as F.binary_cross_entropy_with_logits.",
)


# --------------------------------------------------------------------------
# q2: the gradient of the Huber loss
# --------------------------------------------------------------------------


def _huber_per_element(r: torch.Tensor, delta: float) -> torch.Tensor:
    return F.huber_loss(r, torch.zeros_like(r), delta=delta, reduction="none")


def _check_huber_gradient(huber_gradient) -> None:
    expect_callable(huber_gradient, "a function huber_gradient(residuals, delta)")
    residuals = torch.tensor([-7.0, -2.0, -1.0, -0.3, 0.0, 0.4, 0.9, 1.5, 6.0])
    for delta in (1.0, 2.0):
        r = residuals.clone().requires_grad_()
        (expected,) = torch.autograd.grad(_huber_per_element(r, delta).sum(), r)
        result = _as_tensor(call_answer(huber_gradient, residuals.clone(), delta), "huber_gradient(...)")
        if result.shape != residuals.shape:
            raise Incorrect(
                f"return one derivative per residual: shape {tuple(residuals.shape)}, got {tuple(result.shape)}"
            )
        result = result.float()
        if torch.allclose(result, 2 * residuals) or torch.allclose(result, residuals):
            raise Incorrect("that grows without limit, like the MSE's gradient; Huber's stops growing beyond delta")
        if torch.allclose(result, torch.sign(residuals)):
            raise Incorrect("that is the MAE's gradient; for small residuals Huber behaves like r^2 / 2")
        expect_close(result, expected, what=f"huber_gradient(residuals, delta={delta})")


q2 = Exercise(
    name="Exercise 2 (the gradient of the Huber loss)",
    answer_name="huber_gradient",
    checker=_check_huber_gradient,
    hints=[
        "Differentiate each piece: r^2 / 2 for |r| <= delta, and delta * (|r| - delta / 2) beyond.",
        "The derivative is r inside [-delta, delta] and delta * sign(r) outside: that is r clipped to "
        "[-delta, delta] (torch.clamp).",
    ],
    success="an outlier pulls on the fit with a force of at most delta, however far away it lies.",
)


# --------------------------------------------------------------------------
# q3: balanced class weights
# --------------------------------------------------------------------------


def _check_balanced_weights(balanced_weights) -> None:
    expect_callable(balanced_weights, "a function balanced_weights(labels, n_classes)")
    labels = torch.tensor([0] * 60 + [1] * 30 + [2] * 10)
    result = _as_tensor(call_answer(balanced_weights, labels, 3), "balanced_weights(...)").float()
    if result.shape != (3,):
        raise Incorrect(f"return one weight per class, shape (3,), got {tuple(result.shape)}")
    counts = torch.tensor([60.0, 30.0, 10.0])
    if torch.allclose(result, 1 / counts) or torch.allclose(result, 1 / (counts / 100)):
        raise Incorrect(
            "the weights go the right way (rare classes weigh more) but their scale is off: with n / (C * count_c) "
            "the weights of all n samples add up to n, as without weights"
        )
    if torch.allclose(result, counts / 100) or torch.allclose(result, counts):
        raise Incorrect("rare classes should get *larger* weights, not smaller")
    expect_close(result, 100 / (3 * counts), what="balanced_weights(labels, 3)")
    other = torch.tensor([1, 1, 1, 0, 1, 1, 1, 1])
    result = _as_tensor(call_answer(balanced_weights, other, 2), "balanced_weights(...)").float()
    expect_close(result, torch.tensor([8 / 2, 8 / 14]), what="balanced_weights on a second set of labels")


q3 = Exercise(
    name="Exercise 3 (balanced class weights)",
    answer_name="balanced_weights",
    checker=_check_balanced_weights,
    hints=[
        "Count the samples of each class with torch.bincount(labels, minlength=n_classes).",
        "The weight of class c is n / (n_classes * count_c), with n = len(labels): then every class carries "
        "the same total weight n / n_classes.",
    ],
    success="each class now carries the same total weight in the loss.",
)


# --------------------------------------------------------------------------
# q4: label-smoothed targets
# --------------------------------------------------------------------------


def _smoothed_by_torch(labels: torch.Tensor, n_classes: int, smoothing: float) -> torch.Tensor:
    """The targets torch's label smoothing uses, read off its gradient.

    The gradient of cross-entropy (summed) with respect to the logits is
    softmax(logits) - targets; at logits = 0 the softmax is 1 / n_classes.
    """
    logits = torch.zeros(len(labels), n_classes, requires_grad=True)
    loss = F.cross_entropy(logits, labels, label_smoothing=smoothing, reduction="sum")
    (gradient,) = torch.autograd.grad(loss, logits)
    return 1 / n_classes - gradient


def _check_smoothed_targets(smoothed_targets) -> None:
    expect_callable(smoothed_targets, "a function smoothed_targets(labels, n_classes, smoothing)")
    labels = torch.tensor([0, 2, 1, 3, 3])
    result = _as_tensor(call_answer(smoothed_targets, labels, 4, 0.2), "smoothed_targets(...)").float()
    if result.shape != (5, 4):
        raise Incorrect(f"return one row of n_classes target probabilities per label: shape (5, 4), got {tuple(result.shape)}")
    if not torch.allclose(result.sum(dim=1), torch.ones(5), atol=1e-5):
        raise Incorrect("each row is a probability distribution over the classes: it must add up to 1")
    off_value = result[0, 1].item()
    if abs(off_value - 0.2 / 3) < 1e-5:
        raise Incorrect(
            "you spread the smoothing over the n_classes - 1 wrong classes; the convention of Szegedy et al. "
            "and PyTorch spreads it over all n_classes, the true one included"
        )
    expect_close(result, _smoothed_by_torch(labels, 4, 0.2), what="smoothed_targets(labels, 4, 0.2)")
    # The targets must give PyTorch's label-smoothed cross-entropy.
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(5, 4, generator=g)
    ours = -(result * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    expect_close(ours, F.cross_entropy(logits, labels, label_smoothing=0.2), what="cross-entropy against your targets")
    zero = _as_tensor(call_answer(smoothed_targets, labels, 4, 0.0), "smoothed_targets(...)").float()
    expect_close(zero, F.one_hot(labels, 4).float(), what="smoothed_targets with smoothing=0 (plain one-hot)")


q4 = Exercise(
    name="Exercise 4 (label-smoothed targets)",
    answer_name="smoothed_targets",
    checker=_check_smoothed_targets,
    hints=[
        "Start from the one-hot matrix of the labels (torch.nn.functional has a one_hot), as floats, then mix "
        "it with the uniform distribution 1 / n_classes.",
        "The target is (1 - smoothing) * one_hot + smoothing / n_classes: the true class gets "
        "1 - smoothing + smoothing / n_classes, every other class smoothing / n_classes.",
    ],
    success="cross-entropy against these targets is exactly F.cross_entropy(..., label_smoothing=smoothing).",
)

EXERCISES = [q1, q2, q3, q4]
