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


def _check_mae(my_mae) -> None:
    expect_callable(my_mae, "a function my_mae(predictions, targets)")
    predictions, targets = _random_pair(1)
    result = call_answer(my_mae, predictions, targets)
    if not isinstance(result, torch.Tensor) or result.ndim != 0:
        raise Incorrect("my_mae should return a scalar tensor (a tensor with no dimensions), e.g. via .mean()")
    if torch.allclose(result, (predictions - targets).abs().sum()):
        raise Incorrect("you returned the sum of absolute errors; the *mean* absolute error divides by their number")
    if torch.allclose(result, ((predictions - targets) ** 2).mean()):
        raise Incorrect("that is the mean *squared* error; take absolute values instead of squares")
    expect_close(result, F.l1_loss(predictions, targets), what="my_mae(predictions, targets)")
    expect_close(call_answer(my_mae, targets, targets), 0.0, what="the MAE of perfect predictions")


def _logits(seed: int, n: int = 6, classes: int = 4, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, classes, generator=g) * scale


def _check_softmax(my_softmax) -> None:
    expect_callable(my_softmax, "a function my_softmax(logits)")
    logits = _logits(2)
    result = call_answer(my_softmax, logits)
    if not isinstance(result, torch.Tensor):
        raise Incorrect(f"my_softmax should return a tensor, got {type(result).__name__}")
    if result.shape != logits.shape:
        raise Incorrect(f"for logits of shape {tuple(logits.shape)} return probabilities of the same shape, "
                        f"got {tuple(result.shape)}")
    if torch.allclose(result.sum(dim=0), torch.ones(logits.shape[1])) and not torch.allclose(
        result.sum(dim=1), torch.ones(len(logits))
    ):
        raise Incorrect("your columns sum to 1; each *row* (one sample) should: normalise along dim=1")
    expect_close(result, torch.softmax(logits, dim=1), what="my_softmax(logits)")
    big = call_answer(my_softmax, _logits(3, scale=1000.0))
    if not torch.isfinite(torch.as_tensor(big)).all():
        raise Incorrect("with logits around 1000 you get NaN: exp(1000) overflows. Subtracting the same number "
                        "from every logit of a row does not change its probabilities")
    expect_close(big, torch.softmax(_logits(3, scale=1000.0), dim=1), what="the probabilities for huge logits")


def _noisy_line(seed: int = 0, n: int = 150):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 4 - 2
    y = 3 * x - 1 + 0.5 * torch.randn(n, 1, generator=g)
    return x, y


def _reference_line(x, y, learning_rate: float, steps: int) -> tuple[float, float]:
    w, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    for _ in range(steps):
        grad_w, grad_b = torch.autograd.grad(((w * x + b - y) ** 2).mean(), (w, b))
        with torch.no_grad():
            w -= learning_rate * grad_w
            b -= learning_rate * grad_b
    return w.item(), b.item()


def _check_train_line(train_line) -> None:
    expect_callable(train_line, "a function train_line(x, y, learning_rate, steps)")
    x, y = _noisy_line(seed=5)
    for learning_rate, steps in ((0.1, 3), (0.05, 40)):
        result = call_answer(train_line, x.clone(), y.clone(), learning_rate, steps)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Incorrect(f"return a pair (w, b), got {type(result).__name__}")
        w, b = (expect_number(v, "w and b as Python floats") for v in result)
        expected = _reference_line(x, y, learning_rate, steps)
        if not (abs(w - expected[0]) < 1e-3 and abs(b - expected[1]) < 1e-3):
            raise Incorrect(
                f"after {steps} steps with learning rate {learning_rate} your (w, b) differ from plain gradient "
                "descent started at 0. Did you reset the gradients after each step, and step against them?"
            )


def line_training_loss(learning_rate: float, steps: int = 30, seed: int = 0) -> tuple[float, float]:
    """(MSE after ``steps`` steps of gradient descent on a noisy line, best MSE any line reaches)."""
    x, y = _noisy_line(seed)
    w, b = _reference_line(x, y, learning_rate, steps)
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
    "Exercise 1 (mean absolute error)",
    answer_name="my_mae",
    checker=_check_mae,
    hints=[
        "Subtract, take absolute values, then average: three tensor operations.",
        "Each absolute error is the absolute value of a difference; their mean is a 0-d tensor (tensors have "
        "methods for both).",
    ],
    success="your MAE matches F.l1_loss.",
)

q2 = Exercise(
    "Exercise 2 (softmax)",
    answer_name="my_softmax",
    checker=_check_softmax,
    hints=[
        "Exponentiate every logit, then divide each row by its own sum (sum over the class dimension and keep "
        "that dimension, so the division broadcasts).",
        "e^(z - c) / sum e^(z - c) equals e^z / sum e^z for any c: choose c as the row's largest logit, "
        "so the biggest exponent is e^0 = 1.",
    ],
    success="your softmax matches torch.softmax, even for huge logits.",
)

q3 = Exercise(
    "Exercise 3 (the training loop)",
    answer_name="train_line",
    checker=_check_train_line,
    hints=[
        "Section 4 has the loop: predict, loss, backward, step, reset the gradients.",
        "Start w and b as zero tensors that require gradients; update them without autograd recording the update; "
        "clear their gradients after each step, or the gradients of all steps add up.",
    ],
    success="your loop is gradient descent.",
)

q4 = Exercise(
    "Exercise 4 (choose a learning rate)",
    answer_name="chosen_learning_rate",
    checker=_check_learning_rate,
    hints=[
        "Section 4's table shows a rate that crawls, one that converges and one that explodes.",
        "For this problem, rates between about 0.1 and 0.5 converge within 30 steps; 1.0 explodes.",
    ],
    success="that learning rate converges in 30 steps.",
)
