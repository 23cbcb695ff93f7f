"""Checks for the exercises of Chapter 6, "Regularization".

- q1 ``prediction_more_data`` (predict, then run): which polynomial gains more from 4 times more data;
- q2 ``diagnosis`` (diagnose): what is wrong with a colleague's ridge sweep;
- q3 ``lam_degree12`` (experiment): a ridge strength that tames a degree-12 polynomial, verified by a run;
- q4 ``soft_threshold`` (implement): the proximal step of the L1 penalty;
- q5 ``early_stopping_epochs`` (implement): where early stopping stops, and which weights it keeps.

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers.exercises import Exercise, Incorrect, NotAttempted, call_answer, expect_callable, expect_close, expect_number

# --------------------------------------------------------------------------
# Exercise 1: predict, then run: who gains from more data?
# --------------------------------------------------------------------------

MORE_DATA_CHOICES = ("degree 1", "degree 9")


def _check_more_data(prediction) -> None:
    if not isinstance(prediction, str) or prediction.strip().lower() not in MORE_DATA_CHOICES:
        raise Incorrect(f"set prediction_more_data to one of {', '.join(repr(c) for c in MORE_DATA_CHOICES)}")
    if prediction.strip().lower() == "degree 1":
        raise Incorrect("the run below disagrees: a straight line misses the sine by its shape (bias), and no "
                        "amount of data bends a line. More data shrinks the scatter from one training set to "
                        "the next (variance). Which of the two polynomials suffers from which?")


# --------------------------------------------------------------------------
# Exercise 2: diagnose a colleague's ridge sweep
# --------------------------------------------------------------------------

WHY_NOT = {
    "A": "an overfitting model has a training error far below its validation error; here the two are close, "
         "and both grow as lambda grows: every value tried is too strong, not too weak",
    "C": "the colleague chose lambda by the validation error; nothing in the run touched a test set",
    "D": "Section 2 showed that a well-chosen lambda makes the degree-15 polynomial about as good as the best "
         "small one",
}


def _check_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str) or diagnosis.strip().upper() not in ("A", "B", "C", "D"):
        raise Incorrect('set diagnosis to one letter: "A", "B", "C" or "D"')
    letter = diagnosis.strip().upper()
    if letter in WHY_NOT:
        raise Incorrect(f"not {letter}: {WHY_NOT[letter]}.")


# --------------------------------------------------------------------------
# Exercise 3: a ridge strength that tames a degree-12 polynomial (checked by a run)
# --------------------------------------------------------------------------

DEGREE, N_SETS, N_POINTS, NOISE_SD = 12, 200, 20, 0.3


def _resampled_sets(seed: int = 6):
    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(N_SETS):
        x = rng.uniform(-1, 1, N_POINTS)
        sets.append((x, np.sin(np.pi * x) + NOISE_SD * rng.normal(size=N_POINTS)))
    return sets


def bias2_and_variance(degree: int, lam: float, seed: int = 6) -> tuple[float, float]:
    """bias^2 and variance of ridge on polynomial features, over the check's own resampled training sets."""
    x_grid = np.linspace(-1, 1, 101)
    grid_powers = np.vander(x_grid, degree + 1, increasing=True)
    predictions = []
    for x, y in _resampled_sets(seed):
        X = np.vander(x, degree + 1, increasing=True)
        w = np.linalg.lstsq(X.T @ X + lam * np.eye(degree + 1), X.T @ y, rcond=None)[0]
        predictions.append(grid_powers @ w)
    predictions = np.array(predictions)
    bias2 = float(np.mean((predictions.mean(axis=0) - np.sin(np.pi * x_grid)) ** 2))
    return bias2, float(np.mean(predictions.var(axis=0)))


def _check_lam(lam) -> None:
    value = expect_number(lam, "a penalty strength (a number)")
    if not np.isfinite(value) or value < 0:
        raise Incorrect("a ridge strength is a number >= 0")
    line = sum(bias2_and_variance(1, 0.0))
    target = 0.5 * line
    bias2, variance = bias2_and_variance(DEGREE, value)
    total = bias2 + variance
    if total <= target:
        return
    said = (f"with lam = {value:g} the degree-{DEGREE} polynomial has bias² {bias2:.3f} + variance {variance:.3f} "
            f"= {total:.3f} over the check's {N_SETS} training sets; the target is {target:.3f} "
            f"(half the straight line's {line:.3f}). ")
    if variance > bias2:
        raise Incorrect(said + "Variance dominates: the fit still follows the noise. Try a stronger penalty.")
    raise Incorrect(said + "Bias dominates: the penalty flattens the curve too much. Try a weaker one.")


# --------------------------------------------------------------------------
# Exercise 4: soft thresholding, the L1 step that makes weights exactly zero
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
# Exercise 5: when does early stopping stop?
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
    "Exercise 1 (predict, then run: who gains from more data?)",
    kind="predict",
    answer_name="prediction_more_data",
    checker=_check_more_data,
    hints=[
        "More training points make the fits of different training sets agree more with each other. "
        "Which of the two terms, bias² or variance, measures that disagreement?",
        "Look at the table of Section 3: which term is large for degree 1, and which for degree 9?",
    ],
    success="the run below shows by how much each polynomial gains.",
)

q2 = Exercise(
    "Exercise 2 (diagnose a ridge sweep)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_diagnosis,
    hints=[
        "Look at where the chosen lambda sits in the colleague's grid, and at which way the validation error "
        "was going there.",
        "If the best value of a sweep is the first one it tried, what do you know about the values below it?",
    ],
    success="the best value sat on the grid's edge, so the sweep never saw the real optimum; "
            "a wider grid finds it.",
)

q3 = Exercise(
    "Exercise 3 (a ridge strength that tames a degree-12 polynomial)",
    kind="experiment",
    answer_name="lam_degree12",
    checker=_check_lam,
    hints=[
        "The right panel of Section 3's figure shows bias² and variance against lambda for this very "
        "polynomial: where is their sum lowest?",
        "Try values a factor of 10 apart and read what the check says: it tells you which term dominates, "
        "and so in which direction to move.",
    ],
    success="your penalty cuts the variance far more than it adds bias: the flexible polynomial now beats a "
            "straight line by a factor of 2 or more.",
)

q4 = Exercise(
    "Exercise 4 (soft thresholding)",
    kind="implement",
    answer_name="soft_threshold",
    checker=_check_soft_threshold,
    hints=[
        "Shrink each |w| by the threshold, clip at 0 from below, then put the sign back.",
        "Three tensor operations do it, element by element: the absolute value, a clamp with a lower "
        "bound, and multiplication by the sign of w.",
    ],
    success="small weights become exactly 0 and the others shrink: this is why the lasso is sparse.",
)

q5 = Exercise(
    "Exercise 5 (when does early stopping stop?)",
    kind="implement",
    answer_name="early_stopping_epochs",
    checker=_check_early_stopping,
    hints=[
        "Walk through the losses epoch by epoch (epoch 1 first), remembering three things: the best loss so "
        "far, its epoch, and how many epochs have passed without a new best.",
        "Only a loss strictly below the best resets the counter; when the counter reaches `patience`, training "
        "stops at that epoch. If it never does, training runs to the last epoch.",
    ],
    success="you stop where helpers.train.EarlyStopping stops, and keep the right weights.",
)
