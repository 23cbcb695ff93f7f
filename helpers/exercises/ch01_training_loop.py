"""Checks for the exercises of Chapter 1, "The training loop, end to end".

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number


def _random_pair(seed: int, shape=(7, 3)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g), torch.randn(*shape, generator=g)


def _check_mse(my_mse) -> None:
    expect_callable(my_mse, "a function my_mse(predictions, targets)")
    predictions, targets = _random_pair(1)
    result = call_answer(my_mse, predictions, targets)
    if not isinstance(result, torch.Tensor) or result.ndim != 0:
        raise Incorrect("my_mse should return a scalar tensor (a tensor with no dimensions), e.g. via .mean()")
    if torch.allclose(result, ((predictions - targets) ** 2).sum()):
        raise Incorrect("you returned the sum of squared errors; the *mean* squared error divides by their number")
    expect_close(result, F.mse_loss(predictions, targets), what="my_mse(predictions, targets)")
    zero = call_answer(my_mse, targets, targets)
    expect_close(zero, 0.0, what="the MSE of perfect predictions")


def _classification_batch(seed: int, n: int = 6, classes: int = 4, scale: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, classes, generator=g) * scale
    labels = torch.randint(0, classes, (n,), generator=g)
    return logits, labels


def _check_cross_entropy(my_cross_entropy) -> None:
    expect_callable(my_cross_entropy, "a function my_cross_entropy(logits, labels)")
    logits, labels = _classification_batch(2)
    result = call_answer(my_cross_entropy, logits, labels)
    if not isinstance(result, torch.Tensor) or result.ndim != 0:
        raise Incorrect("my_cross_entropy should return a scalar tensor: the mean over the batch")
    expect_close(result, F.cross_entropy(logits, labels), what="my_cross_entropy(logits, labels)")
    big_logits, big_labels = _classification_batch(3, scale=1000.0)
    big = call_answer(my_cross_entropy, big_logits, big_labels)
    if not torch.isfinite(torch.as_tensor(big)).all():
        raise Incorrect("with logits around 1000 your loss is not finite: exp(1000) overflows; try torch.logsumexp")
    expect_close(big, F.cross_entropy(big_logits, big_labels), rtol=1e-4, what="the loss for very large logits")


def _check_accuracy(my_accuracy) -> None:
    expect_callable(my_accuracy, "a function my_accuracy(logits, labels)")
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 0.0, 1.0]])
    labels = torch.tensor([0, 2, 2, 1])
    result = call_answer(my_accuracy, logits, labels)
    if isinstance(result, torch.Tensor):
        raise Incorrect("return a plain Python float (use .item()), not a tensor")
    value = expect_number(result, "a fraction between 0 and 1")
    if value == 2:
        raise Incorrect("you returned the number of correct predictions; divide by the number of samples")
    if not 0 <= value <= 1:
        raise Incorrect(f"an accuracy lies between 0 and 1, got {value}")
    expect_close(value, 0.5, what="my_accuracy on a batch with 2 of 4 right")
    logits, labels = _classification_batch(4, n=50, classes=5)
    expect_close(
        call_answer(my_accuracy, logits, labels),
        (logits.argmax(1) == labels).float().mean().item(),
        what="my_accuracy on a random batch",
    )


def line_training_loss(learning_rate: float, steps: int = 30, seed: int = 0) -> tuple[float, float]:
    """(MSE after ``steps`` steps of gradient descent on a noisy line, best MSE any line reaches)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(150, 1, generator=g) * 4 - 2
    y = 3 * x - 1 + 0.5 * torch.randn(150, 1, generator=g)
    w, b = torch.tensor([-0.5], requires_grad=True), torch.zeros(1, requires_grad=True)
    for _ in range(steps):
        loss = ((w * x + b - y) ** 2).mean()
        grad_w, grad_b = torch.autograd.grad(loss, (w, b))
        with torch.no_grad():
            w -= learning_rate * grad_w
            b -= learning_rate * grad_b
    final = ((w * x + b - y) ** 2).mean().item()
    design = torch.cat([x, torch.ones_like(x)], dim=1)
    best_params = torch.linalg.lstsq(design, y).solution
    best = ((design @ best_params - y) ** 2).mean().item()
    return final, best


def _check_learning_rate(chosen_learning_rate) -> None:
    lr = expect_number(chosen_learning_rate, "a learning rate (a positive number)")
    if lr <= 0:
        raise Incorrect("a learning rate must be positive: a negative one climbs uphill")
    final, best = line_training_loss(lr)
    if final != final or final > 1e6:  # NaN or exploded
        raise Incorrect("with this learning rate the loss explodes: every step overshoots; try a smaller one")
    if final > 1.1 * best:
        raise Incorrect(
            f"after 30 steps the loss is {final:.3f}, more than 10% above the best possible {best:.3f}: "
            "the steps are too small, or so large that they bounce around the minimum"
        )


q1 = Exercise(
    "Exercise 1 (mean squared error)",
    answer_name="my_mse",
    checker=_check_mse,
    hints=[
        "Subtract, square, then average: three tensor operations.",
        "`(predictions - targets) ** 2` squares each error; `.mean()` averages them into a scalar tensor.",
    ],
    solution="return ((predictions - targets) ** 2).mean()",
    success="your MSE matches F.mse_loss.",
)

q2 = Exercise(
    "Exercise 2 (cross-entropy)",
    answer_name="my_cross_entropy",
    checker=_check_cross_entropy,
    hints=[
        "Cross-entropy per sample is log(sum_j exp(z_j)) minus the logit of the true class.",
        "`torch.logsumexp(logits, dim=1)` computes log(sum exp) without overflow; pick the true-class "
        "logits with `logits[torch.arange(len(labels)), labels]`.",
    ],
    solution="""
    true_class_logit = logits[torch.arange(len(labels)), labels]
    return (torch.logsumexp(logits, dim=1) - true_class_logit).mean()
    """,
    success="your cross-entropy matches F.cross_entropy, even for huge logits.",
)

q3 = Exercise(
    "Exercise 3 (accuracy)",
    answer_name="my_accuracy",
    checker=_check_accuracy,
    hints=[
        "The predicted class of a row is the position of its largest logit.",
        "`logits.argmax(dim=1) == labels` gives True/False per row; turn it into a float mean and `.item()`.",
    ],
    solution="return (logits.argmax(dim=1) == labels).float().mean().item()",
    success="your accuracy is right.",
)

q4 = Exercise(
    "Exercise 4 (choose a learning rate)",
    answer_name="chosen_learning_rate",
    checker=_check_learning_rate,
    hints=[
        "Section 4's table shows a rate that crawls, one that converges and one that explodes.",
        "For this problem, rates between about 0.1 and 0.5 converge within 30 steps; 1.0 explodes.",
    ],
    solution="chosen_learning_rate = 0.2",
    success="that learning rate converges in 30 steps.",
)
