"""Checks for the exercises of Chapter 4, "Loss functions".

- q1 ``prediction_middle`` (predict, then run): outliers in the middle of the x range tilt the MSE line less;
- q2 ``bce_with_logits`` (implement): binary cross-entropy from logits that never takes log(0);
- q3 ``diagnosis`` (diagnose): a regression whose loss broadcasts (n, 1) predictions against (n,) targets;
- q4 ``lr_squared_error`` (experiment): a learning rate that brings squared error on probabilities within
  2 points of cross-entropy, verified by a run the check makes itself (``try_learning_rate`` runs the same).

Each checker builds its own inputs, so it never depends on the notebook's state.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from helpers.exercises import Exercise, Incorrect, call_answer, expect_callable, expect_close, expect_number


def _as_tensor(value, what: str) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.as_tensor(value)
    if not isinstance(value, torch.Tensor):
        raise Incorrect(f"{what} should be a torch tensor, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------
# q1: predict, then run: outliers in the middle of the x range
# --------------------------------------------------------------------------

PREDICTIONS = ("larger", "smaller", "about the same")


def _check_prediction(prediction) -> None:
    if not isinstance(prediction, str) or prediction.strip().lower() not in PREDICTIONS:
        raise Incorrect(f"set prediction_middle to one of {', '.join(repr(p) for p in PREDICTIONS)}")
    answer = prediction.strip().lower()
    if answer == "larger":
        raise Incorrect("the run below disagrees. A point in the middle of the x range sits near the pivot of the "
                        "line: pulling it down shifts the line, it hardly turns it. Think of a see-saw.")
    if answer == "about the same":
        raise Incorrect("the outliers' pull is just as strong as before (same count, same offset), but what it "
                        "does to the slope depends on where along x it acts. Run the cell below and compare.")


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


# --------------------------------------------------------------------------
# q3: diagnose a regression that learns a flat line
# --------------------------------------------------------------------------

WHY_NOT = {
    "A": "the printed loss is the same at step 200 as at step 400: training has stopped moving, so more steps "
         "or a larger rate would not help. Something makes a flat line the best answer to the loss as written.",
    "B": "the lowest point of the correct MSE on these data has a slope far from 0 (printed): the "
         "outliers tilt the line, they do not flatten it.",
    "D": "gradient descent fits the very same line with MSE in Section 1 (and reaches the loss's lowest point). "
         "Look at the shapes of the two tensors the loss subtracts.",
}


def _check_diagnosis(diagnosis) -> None:
    if not isinstance(diagnosis, str) or diagnosis.strip().upper() not in ("A", "B", "C", "D"):
        raise Incorrect('set diagnosis to one letter: "A", "B", "C" or "D"')
    letter = diagnosis.strip().upper()
    if letter in WHY_NOT:
        raise Incorrect(f"not {letter}: {WHY_NOT[letter]}")


# --------------------------------------------------------------------------
# q4: a learning rate for squared error on probabilities, verified by a run
# --------------------------------------------------------------------------

CHECK_SEEDS = (0, 1)
CHECK_EPOCHS = 4
CE_GRID = (0.1, 0.3, 1.0, 3.0)  # cross-entropy gets its own tuned rate in the check
MARGIN = 0.02


@functools.lru_cache(maxsize=1)
def _digits():
    from helpers.data import load

    data = load("digits", seed=4).standardized()
    return data.tensors("train"), data.tensors("val"), data.n_features, data.n_classes


def _val_accuracy(loss_name: str, lr: float) -> float:
    """Mean validation accuracy of the 64-32-10 network after CHECK_EPOCHS epochs of SGD over CHECK_SEEDS."""
    from helpers import losses
    from helpers.models import mlp

    loss_fn = {"cross-entropy": losses.cross_entropy, "squared error on p": losses.mse_on_probabilities}[loss_name]
    (X, y), (X_val, y_val), n_features, n_classes = _digits()
    scores = []
    with torch.random.fork_rng():  # the check leaves the notebook's random numbers alone
        for seed in CHECK_SEEDS:
            torch.manual_seed(seed)
            model = mlp(n_features, [32], n_classes)
            losses.train(model, loss_fn, X, y, lr=lr, epochs=CHECK_EPOCHS, batch_size=64, seed=seed)
            with torch.no_grad():
                model.eval()
                logits = model(X_val)
            ok = bool(torch.isfinite(logits).all())
            scores.append((logits.argmax(1) == y_val).float().mean().item() if ok else 0.0)
    return float(np.mean(scores))


@functools.lru_cache(maxsize=1)
def _cross_entropy_reference() -> tuple[float, float]:
    """Cross-entropy at its best rate of CE_GRID: (rate, accuracy), computed once per session."""
    results = {lr: _val_accuracy("cross-entropy", lr) for lr in CE_GRID}
    best = max(results, key=results.get)
    return best, results[best]


def try_learning_rate(lr: float) -> float:
    """The run the check makes: validation accuracy of squared error on probabilities at ``lr``, and
    the cross-entropy reference it is compared with (printed). Returns the squared-error accuracy."""
    lr = float(lr)
    ce_lr, ce_accuracy = _cross_entropy_reference()
    accuracy = _val_accuracy("squared error on p", lr)
    print(f"squared error on p at lr {lr:g}: {accuracy:.1%} validation accuracy after {CHECK_EPOCHS} epochs; "
          f"cross-entropy at its best rate ({ce_lr:g}): {ce_accuracy:.1%}")
    return accuracy


def _check_lr_squared_error(lr_squared_error) -> None:
    value = expect_number(lr_squared_error, "a learning rate (a number)")
    if not np.isfinite(value) or value <= 0:
        raise Incorrect("a learning rate is a positive number")
    if value > 1000:
        raise Incorrect(f"lr = {value:g} is far beyond any rate that trains this network; try factors of 3 "
                        "between the rates the chapter's digits grid used")
    ce_lr, ce_accuracy = _cross_entropy_reference()
    accuracy = _val_accuracy("squared error on p", value)
    if accuracy >= ce_accuracy - MARGIN:
        return
    verdict = (f"at lr {value:g} squared error on probabilities reached {accuracy:.1%} validation accuracy after "
               f"{CHECK_EPOCHS} epochs (mean of {len(CHECK_SEEDS)} seeds), cross-entropy {ce_accuracy:.1%} at its "
               f"best rate {ce_lr:g}: more than {MARGIN * 100:.0f} points apart. ")
    if accuracy < 0.5 and value >= 3:
        raise Incorrect(verdict + "Such a low score at a large rate means training blew up: try a smaller rate.")
    if value <= ce_lr:
        raise Incorrect(verdict + "Its gradients are smaller than cross-entropy's (remember the push at "
                                  "margin -5): it needs a *larger* step than cross-entropy does.")
    raise Incorrect(verdict + "Try rates a factor of 3 apart around this one, with ex.try_learning_rate(lr).")


# --------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------

q1 = Exercise(
    name="Exercise 1 (predict, then run: outliers in the middle)",
    kind="predict",
    answer_name="prediction_middle",
    checker=_check_prediction,
    hints=[
        "A line turns about the middle of its data. Which points have the longest lever arm to turn it?",
        "Section 1 called the outliers at the edge points with *leverage*. How much leverage does a point "
        "near the mean of x have?",
    ],
    success="the run below shows how much smaller the tilt is when the same outliers sit near the middle.",
)

q2 = Exercise(
    name="Exercise 2 (stable binary cross-entropy)",
    kind="implement",
    answer_name="bce_with_logits",
    checker=_check_bce,
    hints=[
        "Start from -[y log s(z) + (1 - y) log(1 - s(z))] with s the sigmoid, and rewrite both logs using "
        "log s(z) = -log(1 + exp(-z)) and log(1 - s(z)) = -z - log(1 + exp(-z)).",
        "For z > 0, exp(-z) is small and safe; for z < 0 it overflows. Find an expression in which exp only ever "
        "sees -|z|, treating the two signs of z separately, then join the cases with max(z, 0) and |z|; "
        "torch.log1p computes log(1 + x) accurately for small x.",
    ],
    success="no overflow for large scores, and the same value as F.binary_cross_entropy_with_logits.",
)

q3 = Exercise(
    name="Exercise 3 (diagnose a flat regression line)",
    kind="diagnose",
    answer_name="diagnosis",
    checker=_check_diagnosis,
    hints=[
        "Rule out what the printed lines contradict: is training still moving? Where is the lowest point of "
        "the correct MSE?",
        "Print the shapes of line(x_t) and y_t, and of their difference. How many numbers does the mean "
        "average over?",
    ],
    success="(n, 1) minus (n,) broadcasts to (n, n): every prediction is compared with every target, and the "
            "best answer to that is a flat line at the mean. Squeeze the predictions to (n,).",
)

q4 = Exercise(
    name="Exercise 4 (a learning rate for squared error on probabilities)",
    kind="experiment",
    answer_name="lr_squared_error",
    checker=_check_lr_squared_error,
    hints=[
        "The gradient of squared error on probabilities is smaller than cross-entropy's (Section 2), so the "
        "same step size moves it less. Which way should its learning rate go?",
        "Try rates a factor of 3 apart, starting from the cross-entropy rate the check prints and going up, "
        "with ex.try_learning_rate(lr); stop before the runs blow up.",
    ],
    success="at that rate squared error on probabilities learns as fast as cross-entropy at its own best rate: "
            "the gap at a shared rate was the learning rate's, not the loss's.",
)

EXERCISES = [q1, q2, q3, q4]
