"""Checks for the exercises of Chapter 1, "The training loop, end to end".

Each checker builds its own inputs, so it never depends on the notebook's state.

1. predict, then run: the cross-entropy of an untrained 3-class model;
2. diagnose: a loop whose images and labels are shuffled apart;
3. experiment: a learning rate with which 10 steps of gradient descent reach least squares
   (the check reruns the learner's experiment);
4. implement: least squares through the normal equations, for any number of features.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_number

# --------------------------------------------------------------------------
# 1. Predict, then run: the loss at initialisation
# --------------------------------------------------------------------------

N_CLASSES_Q1 = 3


def _check_initial_loss(predicted_initial_loss) -> None:
    value = expect_number(predicted_initial_loss, "a number: the loss you expect before training")
    expected = math.log(N_CLASSES_Q1)
    if abs(value - expected) <= 0.2:
        return
    if value < 0:
        raise Incorrect("cross-entropy is -log of a probability, and a probability is at most 1: it is never negative")
    if value < 0.05:
        raise Incorrect("a loss near 0 means confident right answers; a model that has learnt nothing is not there yet")
    if abs(value - math.log(10)) < 0.2:
        raise Incorrect("that is the value for ten classes (the digits); iris has three")
    if abs(value - math.log10(N_CLASSES_Q1)) < 0.05:
        raise Incorrect("close, but the cross-entropy uses the natural logarithm, not log base 10")
    if abs(value - math.log2(N_CLASSES_Q1)) < 0.05:
        raise Incorrect("close, but PyTorch's cross-entropy uses the natural logarithm; log base 2 counts bits")
    if any(abs(value - p) < 0.02 for p in (1 / N_CLASSES_Q1, 2 / N_CLASSES_Q1)):
        raise Incorrect("that is a probability; the loss is minus the logarithm of the probability of the true class")
    raise Incorrect(
        "not what an untrained model gives. Ask: which probability does a model that knows nothing give the true "
        "class, and what is the loss of that probability?"
    )


# --------------------------------------------------------------------------
# 2. Diagnose: a loop that learns nothing
# --------------------------------------------------------------------------

_DIAGNOSIS_FEEDBACK = {
    "A": "a learning rate that overshoots makes the loss grow, often to inf or NaN; here it stays near one value. "
         "Which value is it, and what did Section 5 say a loss of that size means?",
    "C": "look again: the loop calls colleague_optimizer.zero_grad() before every backward pass",
    "D": "the same linear model, trained by the loop of Section 5, recognised most digits",
}


def _check_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str) or diagnosis.strip().upper() not in ("A", "B", "C", "D"):
        raise Incorrect('set diagnosis to one of the letters "A", "B", "C" or "D"')
    letter = diagnosis.strip().upper()
    if letter != "B":
        raise Incorrect(_DIAGNOSIS_FEEDBACK[letter])


# --------------------------------------------------------------------------
# 3. Experiment: a learning rate that reaches least squares in 10 steps
# --------------------------------------------------------------------------

STEPS_Q3, TOLERANCE_Q3 = 10, 0.001


def _noisy_line(seed: int = 0, n: int = 150):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 4 - 2
    y = 3 * x - 1 + 0.5 * torch.randn(n, 1, generator=g)
    return x, y


def line_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The noisy line of exercise 3: inputs ``x`` and targets ``y``, each of shape (150, 1)."""
    return _noisy_line(seed=0)


def _mse_after_gradient_descent(x, y, learning_rate: float, steps: int) -> float:
    """Training MSE of ``w x + b`` after ``steps`` full-batch steps from w = b = 0."""
    w, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    for _ in range(steps):
        grad_w, grad_b = torch.autograd.grad(((w * x + b - y) ** 2).mean(), (w, b))
        with torch.no_grad():
            w -= learning_rate * grad_w
            b -= learning_rate * grad_b
    return ((w * x + b - y) ** 2).mean().item()


def _least_squares_mse(x, y) -> float:
    design = torch.cat([x, torch.ones_like(x)], dim=1)
    coefficients = torch.linalg.lstsq(design, y).solution
    return ((design @ coefficients - y) ** 2).mean().item()


def _check_line_experiment(line_experiment) -> None:
    if not isinstance(line_experiment, dict) or set(line_experiment) != {"learning_rate", "mse"}:
        raise Incorrect('set line_experiment to a dict {"learning_rate": ..., "mse": ...}')
    lr = expect_number(line_experiment["learning_rate"], "a learning rate (a positive number)")
    claimed = expect_number(line_experiment["mse"], "the training MSE your run reached")
    if lr <= 0:
        raise Incorrect("a learning rate must be positive: a negative one climbs uphill")
    x, y = line_data()
    reached, best = _mse_after_gradient_descent(x, y, lr, STEPS_Q3), _least_squares_mse(x, y)
    if not math.isfinite(reached) or reached > 100 * best:
        raise Incorrect(f"with learning rate {lr:g} gradient descent diverges: every step overshoots. "
                        "Section 4 says above which rate that happens")
    if abs(claimed - reached) > 1e-3 * reached:
        raise Incorrect(
            f"with learning rate {lr:g}, {STEPS_Q3} steps from w = b = 0 reach a training MSE of {reached:.5f}, "
            f"not the {claimed:.5f} you report: run exactly {STEPS_Q3} steps from zero on ex.line_data() and "
            "report the MSE on those points"
        )
    if reached > (1 + TOLERANCE_Q3) * best:
        raise Incorrect(
            f"your run is right, but {reached:.5f} is {reached / best - 1:.2%} above the least-squares minimum "
            f"{best:.5f} (allowed: {TOLERANCE_Q3:.1%}). Too small a rate crawls; too large a rate bounces "
            "from side to side of the minimum. Try several and watch the MSE"
        )


# --------------------------------------------------------------------------
# 4. Implement: least squares through the normal equations
# --------------------------------------------------------------------------


class _Forbidden(RuntimeError):
    pass


@contextlib.contextmanager
def _without_ready_made_solvers():
    """Make torch's and NumPy's least-squares and pseudo-inverse functions raise while the answer runs."""
    def forbidden(*args, **kwargs):
        raise _Forbidden("a ready-made least-squares solver")

    patched = [(torch.linalg, "lstsq"), (torch.linalg, "pinv"), (torch, "pinverse"), (torch, "lstsq"),
               (np.linalg, "lstsq"), (np.linalg, "pinv")]
    saved = [(owner, name, getattr(owner, name)) for owner, name in patched if hasattr(owner, name)]
    try:
        for owner, name, _ in saved:
            setattr(owner, name, forbidden)
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _regression_data(seed: int, n: int, d: int):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    true = torch.randn(d, 1, generator=g)
    y = X @ true + 2.5 + 0.3 * torch.randn(n, 1, generator=g)  # a bias far from 0
    return X, y


def _reference_least_squares(X, y) -> torch.Tensor:
    design = torch.cat([X, torch.ones(len(X), 1)], dim=1).double()
    return torch.linalg.lstsq(design, y.double()).solution.reshape(-1).float()


def _check_least_squares(least_squares) -> None:
    expect_callable(least_squares, "a function least_squares(X, y)")
    for seed, n, d in ((1, 60, 3), (2, 40, 1)):
        X, y = _regression_data(seed, n, d)
        try:
            with _without_ready_made_solvers():
                result = call_answer(least_squares, X.clone(), y.clone())
        except _Forbidden:
            raise Incorrect("solve the normal equations yourself (torch.linalg.solve is allowed); "
                            "lstsq and pinv are not") from None
        if not isinstance(result, (torch.Tensor, np.ndarray)):
            raise Incorrect(f"least_squares should return a tensor, got {type(result).__name__}")
        theta = torch.as_tensor(np.asarray(result, dtype=np.float64) if isinstance(result, np.ndarray) else result)
        theta = theta.detach().double().reshape(-1)
        expected = _reference_least_squares(X, y).double()
        if theta.numel() == d:
            raise Incorrect(f"for {d} features you returned {d} numbers: the bias is missing. A column of ones in "
                            "the matrix A gives it its own coefficient")
        if theta.numel() != d + 1:
            raise Incorrect(f"for X of shape {tuple(X.shape)} return {d + 1} numbers (the {d} weights, then the "
                            f"bias), got {theta.numel()}")
        if not torch.isfinite(theta).all():
            raise Incorrect("your parameters contain NaN or inf")
        if torch.allclose(theta.roll(-1), expected, atol=1e-3) and not torch.allclose(theta, expected, atol=1e-3):
            raise Incorrect("right numbers, wrong order: return the weights first and the bias last")
        if not torch.allclose(theta, expected, atol=1e-3):
            design = torch.cat([X, torch.ones(len(X), 1)], dim=1).double()
            yours = ((design @ theta.unsqueeze(1) - y.double()) ** 2).mean().item()
            best = ((design @ expected.unsqueeze(1) - y.double()) ** 2).mean().item()
            raise Incorrect(f"on a test set with {d} features your parameters give MSE {yours:.4f}, but the "
                            f"minimum is {best:.4f}: are you solving A^T A theta = A^T y, with A = [X, 1]?")


q1 = Exercise(
    "Exercise 1 (predict the loss at initialisation)",
    kind="predict",
    answer_name="predicted_initial_loss",
    checker=_check_initial_loss,
    hints=[
        "An untrained model has no reason to prefer one species over another.",
        "If each of the 3 classes gets the same probability, what is the probability of the true class? The loss of "
        "one sample is minus the natural logarithm of that probability.",
    ],
    success="an untrained model gives each class about 1/3, and -ln(1/3) = ln 3. The next cell measures it.",
)

q2 = Exercise(
    "Exercise 2 (diagnose a loop that learns nothing)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_diagnosis,
    hints=[
        "Compare the printed losses with the loss at initialisation of Section 5, and the accuracy with the dummy's.",
        "A loss that stays near ln 10 and an accuracy near 10% mean the model can do no better than guessing: "
        "what would make the labels impossible to predict from the images?",
        "Read the two lines that build `images` and `labels`: is image i still paired with its own label?",
    ],
    success="the two permutations pair every image with a random label; shuffle once and index both with the "
            "same order, as train_by_hand does.",
)

q3 = Exercise(
    "Exercise 3 (a learning rate that reaches least squares in 10 steps)",
    kind="experiment",
    answer_name="line_experiment",
    checker=_check_line_experiment,
    hints=[
        "Write a small function that runs the 10 steps for one learning rate and returns the MSE, then try a range of "
        "rates (Section 4's gradient_descent_on_line is close, but starts from a random w).",
        "The least-squares minimum is the MSE of the torch.linalg.lstsq solution. Rates too small crawl; rates "
        "near the divergence limit 2 / (largest curvature) bounce; the best lie in between.",
        "For a quadratic loss the error along each eigenvector of the curvature shrinks by |1 - lr * eigenvalue| per "
        "step: a rate that makes both factors small works best.",
    ],
    success="your run reaches least squares in 10 steps, and the check's own run agrees with yours.",
)

q4 = Exercise(
    "Exercise 4 (least squares with the normal equations)",
    kind="implement",
    answer_name="least_squares",
    checker=_check_least_squares,
    hints=[
        "The bias is a weight on an input that is always 1: add that input as a column.",
        "With A = [X, 1] the normal equations are a (d + 1) x (d + 1) linear system in the parameters; "
        "torch.linalg.solve(M, v) solves M theta = v.",
    ],
    success="your least squares matches the library's for any number of features.",
)
