"""Checks for the exercises of Chapter 6, "Regularization".

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers.exercises import Exercise, Incorrect, NotAttempted, call_answer, expect_callable, expect_close


# --------------------------------------------------------------------------
# Exercise 1: ridge regression in closed form
# --------------------------------------------------------------------------


def _regression_problem(seed: int = 0, n: int = 12, d: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    return X, y


def _ridge_by_sklearn(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """The weights minimising ``||X w - y||^2 + lam ||w||^2``, by scikit-learn (no intercept)."""
    from sklearn.linear_model import Ridge

    return Ridge(alpha=lam, fit_intercept=False, solver="svd").fit(X, y).coef_


def _check_ridge(ridge_weights) -> None:
    expect_callable(ridge_weights, "a function ridge_weights(X, y, lam)")
    X, y = _regression_problem()
    result = call_answer(ridge_weights, X.copy(), y.copy(), 2.0)
    if result is None:
        raise NotAttempted("ridge_weights returns None: return the weight vector")
    result = np.asarray(result, dtype=float)
    if result.shape != (X.shape[1],):
        raise Incorrect(f"for X of shape {X.shape} return one weight per feature, shape ({X.shape[1]},); "
                        f"got {result.shape}")
    if np.allclose(result, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-6):
        raise Incorrect("that is plain least squares: the penalty lam * ||w||^2 is missing")
    if np.allclose(result, np.linalg.solve(X.T @ X + 2.0, X.T @ y), atol=1e-6):
        raise Incorrect("you added lam to every entry of X^T X; the penalty adds lam on the diagonal only "
                        "(lam times the identity matrix)")
    expect_close(result, _ridge_by_sklearn(X, y, 2.0), rtol=1e-4, atol=1e-6, what="ridge_weights(X, y, 2.0)")
    big = np.asarray(call_answer(ridge_weights, X, y, 1e6), dtype=float)
    expect_close(big, _ridge_by_sklearn(X, y, 1e6), rtol=1e-3, atol=1e-8, what="the weights for a huge lam")


# --------------------------------------------------------------------------
# Exercise 2: soft thresholding, the L1 step that makes weights exactly zero
# --------------------------------------------------------------------------


def _soft_threshold_by_torch(w: torch.Tensor, threshold: float) -> torch.Tensor:
    """torch's soft shrinkage is the same operation (the proximal step of the L1 penalty)."""
    return torch.nn.functional.softshrink(w, lambd=threshold)


def _check_soft_threshold(soft_threshold) -> None:
    expect_callable(soft_threshold, "a function soft_threshold(w, threshold)")
    w = torch.tensor([-2.0, -0.5, -0.1, 0.0, 0.05, 0.3, 1.5])
    result = call_answer(soft_threshold, w.clone(), 0.3)
    if result is None:
        raise NotAttempted("soft_threshold returns None: return a tensor")
    if not isinstance(result, torch.Tensor) or result.shape != w.shape:
        raise Incorrect(f"return a tensor of the same shape as w, {tuple(w.shape)}")
    if torch.allclose(result, torch.where(w.abs() < 0.3, torch.zeros_like(w), w)):
        raise Incorrect("you set small weights to zero but left the others unchanged (hard thresholding); "
                        "soft thresholding also moves every surviving weight towards zero by the threshold")
    if torch.allclose(result, w - 0.3 * torch.sign(w)):
        raise Incorrect("a weight smaller than the threshold must become exactly 0, not cross to the other side")
    expect_close(result, _soft_threshold_by_torch(w, 0.3), what="soft_threshold(w, 0.3)")
    matrix = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    expect_close(call_answer(soft_threshold, matrix.clone(), 0.5), _soft_threshold_by_torch(matrix, 0.5),
                 what="soft_threshold on a (4, 3) matrix")


# --------------------------------------------------------------------------
# Exercise 3: dropout by hand
# --------------------------------------------------------------------------


def _check_dropout(my_dropout) -> None:
    expect_callable(my_dropout, "a function my_dropout(x, p, training)")
    torch.manual_seed(0)
    x = torch.full((200, 100), 3.0)
    out = call_answer(my_dropout, x.clone(), 0.25, True)
    if out is None:
        raise NotAttempted("my_dropout returns None: return a tensor")
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        raise Incorrect(f"return a tensor of the same shape as x, {tuple(x.shape)}")
    dropped = (out == 0).float().mean().item()
    if abs(dropped - 0.25) > 0.03:
        raise Incorrect(f"with p = 0.25 about 25% of the values should become 0; yours zeroes {dropped:.0%}")
    kept = out[out != 0]
    if torch.allclose(kept, torch.full_like(kept, 3.0)):
        raise Incorrect("the kept values are unchanged, so the mean output shrinks by (1 - p); "
                        "divide the kept values by (1 - p) (inverted dropout)")
    expect_close(kept, torch.full_like(kept, 3.0 / 0.75), what="the kept values for x = 3, p = 0.25")
    if torch.equal(out, call_answer(my_dropout, x.clone(), 0.25, True)):
        raise Incorrect("two calls dropped exactly the same values: draw a new random mask on every call")
    evaluated = call_answer(my_dropout, x.clone(), 0.25, False)
    if not isinstance(evaluated, torch.Tensor) or not torch.equal(evaluated, x):
        raise Incorrect("with training=False dropout must return x unchanged")
    varied = torch.randn(50, 40, generator=torch.Generator().manual_seed(2))
    out = call_answer(my_dropout, varied.clone(), 0.5, True)
    mask = out != 0
    expect_close(out[mask], varied[mask] * 2.0, what="the kept values of a random x with p = 0.5")


# --------------------------------------------------------------------------
# Exercise 4: when does early stopping stop?
# --------------------------------------------------------------------------


def _early_stopping_by_the_callback(val_losses, patience: int) -> tuple[int, int]:
    """(epoch at which training stops, epoch whose weights are kept), as helpers.train decides them.

    The losses are replayed through the chapter's ``EarlyStopping`` callback one
    epoch at a time; the kept weights are those of the first epoch with the
    lowest loss among the epochs run (what ``fit`` restores).
    """
    from helpers.train import EarlyStopping, History

    stopper, history = EarlyStopping(patience=patience), History()
    stopper.on_train_begin(None)
    for loss in val_losses:
        history.epoch.append(len(history) + 1)
        history.val_loss.append(loss)
        if stopper.on_epoch_end(history, None):
            break
    return len(history), 1 + int(np.argmin(history.val_loss))


_CURVES = [
    ([1.0, 0.8, 0.7, 0.72, 0.71, 0.75, 0.8, 0.9], 3),
    ([1.0, 0.9, 0.8, 0.7, 0.6], 2),
    ([0.5, 0.6, 0.4, 0.45, 0.3, 0.31, 0.32, 0.33], 2),
    ([0.9, 0.9, 0.9, 0.9], 2),
]


def _check_early_stopping(early_stopping_epochs) -> None:
    expect_callable(early_stopping_epochs, "a function early_stopping_epochs(val_losses, patience)")
    for losses, patience in _CURVES:
        result = call_answer(early_stopping_epochs, list(losses), patience)
        if result is None:
            raise NotAttempted("early_stopping_epochs returns None: return a pair (stop_epoch, best_epoch)")
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Incorrect(f"return a pair (stop_epoch, best_epoch), got {type(result).__name__}")
        expected = _early_stopping_by_the_callback(losses, patience)
        got = tuple(int(v) for v in result)
        if got == tuple(e - 1 for e in expected):
            raise Incorrect("your epochs are off by one: count epochs from 1, as helpers.train.fit does")
        if got != expected:
            raise Incorrect(
                f"for validation losses {losses} and patience {patience} you return {got}. "
                "Stop after `patience` epochs in a row without a new best (an equal loss is no improvement); "
                "if that never happens, training runs to the last epoch"
            )


q1 = Exercise(
    "Exercise 1 (ridge regression in closed form)",
    answer_name="ridge_weights",
    checker=_check_ridge,
    hints=[
        "Set the gradient of ||X w - y||^2 + lam ||w||^2 to zero: 2 X^T (X w - y) + 2 lam w = 0.",
        "That is a linear system, (X^T X + lam I) w = X^T y: solve it with NumPy's linear-algebra solver "
        "(np.eye builds the identity I).",
    ],
    success="your weights match ridge regression, and shrink to 0 as lam grows.",
)

q2 = Exercise(
    "Exercise 2 (soft thresholding)",
    answer_name="soft_threshold",
    checker=_check_soft_threshold,
    hints=[
        "Shrink each |w| by the threshold, clip at 0 from below, then put the sign back.",
        "Three tensor operations do it, element by element: the absolute value, a clamp with a lower "
        "bound of 0, and multiplication by the sign of w.",
    ],
    success="small weights become exactly 0 and the others shrink: this is why the lasso is sparse.",
)

q3 = Exercise(
    "Exercise 3 (dropout by hand)",
    answer_name="my_dropout",
    checker=_check_dropout,
    hints=[
        "In training, keep each value with probability 1 - p: comparing uniform random numbers of x's shape "
        "with p gives such a mask.",
        "Multiply x by the mask and divide by (1 - p) so the expected output equals x; "
        "when `training` is False return x itself.",
    ],
    success="your dropout zeroes about p of the values, rescales the rest, and does nothing in eval mode.",
)

q4 = Exercise(
    "Exercise 4 (when does early stopping stop?)",
    answer_name="early_stopping_epochs",
    checker=_check_early_stopping,
    hints=[
        "Walk through the losses with `enumerate(val_losses, start=1)`, remembering the best loss, its epoch, "
        "and how many epochs have passed since it.",
        "A loss below the best resets the counter to 0; anything else adds 1. When the counter reaches "
        "`patience`, return (this epoch, best epoch); after the loop return (len(val_losses), best epoch).",
    ],
    success="you stop where helpers.train.EarlyStopping stops, and keep the right weights.",
)
